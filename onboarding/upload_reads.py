"""The reads behind the customer's upload page and upload, one round trip each.

The upload page is what every customer opens, and bench/web.py holds it to within a fifth of the
cost of rendering its form. Built by the ORM, its two reads (the link's invitation with tenant and
gateway, then the customer-facing calling domains) cost more CPU to compose than the page costs to
render. Here they are one hand-written SELECT, composed once per process and, on PostgreSQL,
prepared once per connection. Which domains are
customer-facing is still defined in one place, `CallingDomainQuerySet.customer_facing()`: its
WHERE clause is compiled by Django and embedded here, so the two can never disagree.
"""

from __future__ import annotations

import hashlib
import weakref
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, cast

from django.db import DatabaseError, connection

from onboarding.models import CallingDomain, Gateway, Tenant, UploadInvitation
from onboarding.row_reader import RowReader

if TYPE_CHECKING:
    from django.db.backends.postgresql.operations import DatabaseOperations as PgOperations

INVITATIONS = RowReader(UploadInvitation, "i")
TENANTS = RowReader(Tenant, "t")
GATEWAYS = RowReader(Gateway, "g")
# The domain table keeps its own name as its alias: the compiled customer_facing() clause names it.
DOMAINS = RowReader(CallingDomain, CallingDomain._meta.db_table)


@dataclass(frozen=True)
class _Statement:
    """One of the two SELECTs: customer_facing()'s own values come first (on PostgreSQL they are
    literals in the text), then the keys it is run with."""

    name: str  # its name as a prepared statement on PostgreSQL
    sql: str
    fixed: list[Any]

    def rows(self, *keys: int) -> list[tuple[object, ...]]:
        # uses_server_side_binding: PostgreSQL's backend has it, django-stubs 5.2 does not list it
        if (
            connection.vendor != "postgresql" or connection.features.uses_server_side_binding  # type: ignore[attr-defined]
        ):
            # (psycopg's own prepared statements, with server-side binding, are dropped with
            # DEALLOCATE ALL on every rollback, ours with them)
            with connection.cursor() as cursor:
                cursor.execute(self.sql, [*self.fixed, *keys])
                return cursor.fetchall()
        try:
            return self._execute_prepared(keys)
        except DatabaseError:
            # The session lost it, or a migration changed a column it returns ("cached plan must
            # not change result type"): prepare it anew. Outside a transaction that can be done
            # at once; inside one, the transaction is aborted, and the next use prepares it.
            _forget(self)
            if connection.in_atomic_block:
                raise
            return self._execute_prepared(keys)

    def _execute_prepared(self, keys: tuple[int, ...]) -> list[tuple[object, ...]]:
        with connection.cursor() as cursor:
            name = _prepared_name(self)
            cursor.execute(f"EXECUTE {name}({', '.join(['%s'] * len(keys))})", list(keys))
            return cursor.fetchall()


@dataclass
class _Session:
    """What one connection has prepared: each statement's name in this session."""

    names: dict[str, str] = field(default_factory=dict)
    renamed: int = 0  # statements prepared anew after a failure get a fresh name


# Per connection; a new connection (a new session) prepares everything again.
_sessions: weakref.WeakKeyDictionary[object, _Session] = weakref.WeakKeyDictionary()


def _prepared_name(statement: _Statement) -> str:
    """Parsing and planning were half of the statement's cost on the server (0.3 of 0.6 ms):
    on PostgreSQL it is prepared once per connection, as part of setting the connection up, so
    it is neither a query of the request nor undone by a rollback (PREPARE is not
    transactional). Needs session-level connections: no transaction-pooling proxy between."""
    session = _sessions.setdefault(connection.connection, _Session())
    name = session.names.get(statement.name)
    if name is not None:
        return name
    name = statement.name if not session.renamed else f"{statement.name}_{session.renamed}"
    parts = statement.sql.split("%s")
    numbered = "".join(f"{part}${n}" for n, part in enumerate(parts[:-1], start=1)) + parts[-1]
    types = ", ".join(["bigint"] * (len(parts) - 1))
    with connection.wrap_database_errors, connection.connection.cursor() as cursor:
        cursor.execute(f"PREPARE {name}({types}) AS {numbered}")
    session.names[statement.name] = name
    return name


def _forget(statement: _Statement) -> None:
    session = _sessions.get(connection.connection) if connection.connection else None
    if session is not None and session.names.pop(statement.name, None) is not None:
        session.renamed += 1


@dataclass(frozen=True)
class _Statements:
    invitation: _Statement  # keys: the invitation's id
    domains: _Statement  # keys: the tenant's id, its gateway's id


_statements: dict[str, _Statements] = {}


def invitation_with_domains(
    invitation_id: int,
) -> tuple[UploadInvitation | None, list[CallingDomain]]:
    """The invitation, its tenant and gateway attached, and the tenant's customer-facing calling
    domains in the order they were added (each with the tenant attached)."""
    rows = _compiled().invitation.rows(invitation_id)
    if not rows:
        return None, []
    first = rows[0]
    invitation = INVITATIONS.build(first)
    tenant = TENANTS.build(first, INVITATIONS.width)
    gateway = GATEWAYS.build(first, INVITATIONS.width + TENANTS.width)
    if invitation is None or tenant is None or gateway is None:  # inner joins: never
        return None, []
    tenant.gateway = gateway
    invitation.tenant = tenant
    start = INVITATIONS.width + TENANTS.width + GATEWAYS.width
    return invitation, _attached(tenant, (DOMAINS.build(row, start) for row in rows))


def customer_facing_domains(tenant: Tenant) -> list[CallingDomain]:
    """`tenant.calling_domains.customer_facing()` in the order they were added, each with the
    tenant attached; the tenant's gateway is read in the same statement and attached too."""
    rows = _compiled().domains.rows(tenant.pk, tenant.gateway_id)
    if not rows:  # the gateway row is always there (PROTECT); only a deleted tenant gets here
        return []
    gateway = GATEWAYS.build(rows[0])
    if gateway is not None:
        tenant.gateway = gateway
    return _attached(tenant, (DOMAINS.build(row, GATEWAYS.width) for row in rows))


def _attached(tenant: Tenant, domains: Iterable[CallingDomain | None]) -> list[CallingDomain]:
    found = [domain for domain in domains if domain is not None]
    for domain in found:
        domain.tenant = tenant
    return found


def _compiled() -> _Statements:
    statements = _statements.get(connection.vendor)
    if statements is None:
        statements = _statements[connection.vendor] = _compose()
    return statements


def _compose() -> _Statements:
    quote = connection.ops.quote_name
    invitation, tenant, gateway = quote("i"), quote("t"), quote("g")
    facing = CallingDomain.objects.customer_facing()
    facing_sql, facing_params = facing.query.get_compiler(connection=connection).compile(
        facing.query.where
    )
    fixed = list(facing_params)
    if connection.vendor == "postgresql":  # literals, so the prepared statement takes keys only
        facing_sql, fixed = cast("PgOperations", connection.ops).compose_sql(facing_sql, fixed), []
    domain = quote(DOMAINS.alias)
    order = f"{domain}.{quote('created_at')}, {domain}.{quote('id')}"
    invitation_sql = (
        f"SELECT {INVITATIONS.columns()}, {TENANTS.columns()}, {GATEWAYS.columns()}, "  # noqa: S608 (names from the models, values bound)
        f"{DOMAINS.columns()} "
        f"FROM {quote(UploadInvitation._meta.db_table)} {invitation} "
        f"JOIN {quote(Tenant._meta.db_table)} {tenant} "
        f"ON {tenant}.{quote('id')} = {invitation}.{quote('tenant_id')} "
        f"JOIN {quote(Gateway._meta.db_table)} {gateway} "
        f"ON {gateway}.{quote('id')} = {tenant}.{quote('gateway_id')} "
        f"LEFT JOIN {domain} "
        f"ON {facing_sql} AND {domain}.{quote('tenant_id')} = {tenant}.{quote('id')} "
        f"WHERE {invitation}.{quote('id')} = %s ORDER BY {order}"
    )
    domains_sql = (
        f"SELECT {GATEWAYS.columns()}, {DOMAINS.columns()} "  # noqa: S608 (names from the models, values bound)
        f"FROM {quote(Gateway._meta.db_table)} {gateway} "
        f"LEFT JOIN {domain} ON {facing_sql} AND {domain}.{quote('tenant_id')} = %s "
        f"WHERE {gateway}.{quote('id')} = %s ORDER BY {order}"
    )
    return _Statements(
        _Statement(_name("invitation", invitation_sql), invitation_sql, fixed),
        _Statement(_name("domains", domains_sql), domains_sql, fixed),
    )


def _name(kind: str, sql: str) -> str:
    return f"onboarding_upload_{kind}_{hashlib.sha256(sql.encode()).hexdigest()[:12]}"
