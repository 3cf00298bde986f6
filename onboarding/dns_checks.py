"""DNS checks of own domains, scheduled in the database, and what their verdicts set off.

The beat sweeper runs every minute. It claims due domains with SELECT ... FOR UPDATE SKIP LOCKED
and moves their `next_check_at` forward in the same transaction, so two sweepers (or a slow
sweep and the next) never check a domain twice. Lookups run in a bounded thread pool; only the
calling thread touches the database, writing verdicts in batches. The rare consequences
(verified, drift, still unverified after 7 days) go through lifecycle.py and the outbox.
"""

from __future__ import annotations

import json
import logging
import queue
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.db import connection, models, transaction
from django.utils import timezone

from onboarding import dns, lifecycle, rules
from onboarding.mail import email_queue
from onboarding.models import (
    ActorKind,
    AuditEvent,
    CallingDomain,
    DnsCheck,
    DnsVerdict,
    DomainVerdict,
    EmailKind,
    Tenant,
    TenantStatus,
)
from onboarding.rules import CallingDomainOption

logger = logging.getLogger(__name__)

# Waits between checks of an unverified domain, then hourly: quick at first, because the customer
# is probably publishing the records right now, then patient, because they may take days.
BACKOFF = tuple(timedelta(minutes=m) for m in (1, 2, 5, 15, 30, 60))
# A verified domain is checked again daily, to notice records that disappear or change.
RECHECK_VERIFIED = timedelta(days=1)
# After a failure or no answer for a verified domain, look again within the hour: staff hear of
# real drift the same day, and one bad answer (a change in progress) alone does not alarm them.
RECHECK_AFTER_TROUBLE = timedelta(hours=1)
# Definitive failures in a row (missing or mismatch; unknown never counts) that mean drift.
DRIFT_AFTER_FAILURES = 2
# Staff are told when an own domain is still unverified after this long (domain.md).
NOT_VERIFIED_WARNING_AFTER = timedelta(days=7)
# A claim moves `next_check_at` this far ahead, well past the longest sweep: if the worker dies
# mid-sweep, its domains are checked again after this instead of being lost.
CLAIM_LEASE = timedelta(minutes=15)
# A sweep stops claiming after this many seconds and the next one (a minute later) takes the
# rest, so a sweep ends inside the task's soft time limit even when every lookup times out.
SWEEP_CLAIM_SECONDS = 45
# Verdicts are written this many domains at a time, one transaction per batch: big enough to
# be cheap per row, small enough that the last batch (written after the lookups end) is quick.
WRITE_BATCH = 200
# Seconds the writing thread waits after a result before collecting the rest: it then wakes
# tens of times a second instead of once per domain, leaving the CPU to the lookups.
COLLECT_PAUSE = 0.02

SYSTEM = lifecycle.Actor.system("DNS check")


@dataclass(frozen=True)
class _Target:
    """What the lookups of one claimed domain need; the threads never touch the database."""

    pk: int
    domain: str
    ownership_code: str
    sip_host: str


@dataclass
class SweepResult:
    checked: int = 0
    verified: int = 0
    customer_must_act: int = 0
    unknown: int = 0
    drift_flagged: int = 0


def dns_sweep(*, now: datetime | None = None, concurrency: int | None = None) -> SweepResult:
    """Check every own domain that is due (the beat sweeper, every minute)."""
    now = now or timezone.now()
    stop_claiming_at = time.monotonic() + SWEEP_CLAIM_SECONDS

    def claim(room: int) -> list[_Target]:
        if time.monotonic() > stop_claiming_at:
            return []
        return _claim(now=now, limit=room)

    return _run(claim, now=now, concurrency=concurrency or settings.DNS_CHECK_CONCURRENCY)


def calling_domains_check_now(
    calling_domains: Sequence[CallingDomain], *, now: datetime | None = None
) -> list[tuple[CallingDomain, dns.DomainCheck]]:
    """Check these own domains at once (staff's "check DNS now"), through the sweeper's path:
    the verdicts are recorded and may verify a domain."""
    now = now or timezone.now()
    waiting = list(dict.fromkeys(cd.pk for cd in calling_domains))
    checks: dict[int, dns.DomainCheck] = {}

    def claim(room: int) -> list[_Target]:
        batch, waiting[:] = waiting[:room], waiting[room:]
        return _claim(now=now, limit=room, only=batch) if batch else []

    _run(claim, now=now, concurrency=settings.DNS_CHECK_CONCURRENCY, collect=checks)
    return [(cd, checks[cd.pk]) for cd in calling_domains if cd.pk in checks]


def _checkable() -> Any:
    """Own domains in use by a tenant that is not offboarded (suspended ones are checked too)."""
    return CallingDomain.objects.in_use().own().exclude(tenant__status=TenantStatus.OFFBOARDED)


def _claim(*, now: datetime, limit: int, only: Sequence[int] | None = None) -> list[_Target]:
    """Lock up to `limit` due domains (skipping those another sweeper holds) and move their
    next check past this sweep, in one transaction."""
    with transaction.atomic():
        if only is None:
            domains = (
                _checkable()
                .select_for_update(skip_locked=True, of=("self",))
                .filter(next_check_at__lte=now)
                .order_by("next_check_at")  # the partial index's order: LIMIT stops early
            )
        else:
            domains = (
                _checkable().select_for_update(of=("self",)).filter(pk__in=only).order_by("pk")
            )
        rows = domains.values_list(
            "pk",
            "domain",
            "ownership_code",
            "tenant__gateway__sip_host",
            "tenant__gateway__hostname",
        )[:limit]
        targets = [_Target(pk, domain, code, sip or host) for pk, domain, code, sip, host in rows]
        CallingDomain.objects.filter(pk__in=[t.pk for t in targets]).update(
            next_check_at=now + CLAIM_LEASE
        )
    return targets


def _run(
    claim: Callable[[int], list[_Target]],
    *,
    now: datetime,
    concurrency: int,
    collect: dict[int, dns.DomainCheck] | None = None,
) -> SweepResult:
    """Keep the pool fed from `claim`, collect finished checks, write them in batches."""
    result = SweepResult()
    nameservers = dns.configured_nameservers()
    finished: queue.SimpleQueue[tuple[_Target, dns.DomainCheck]] = queue.SimpleQueue()
    batch: list[tuple[_Target, dns.DomainCheck]] = []
    outstanding = 0
    claiming = True
    with ThreadPoolExecutor(max_workers=concurrency, thread_name_prefix="dns-check") as pool:
        while True:
            if claiming and outstanding < concurrency:
                # claim a second pool's worth, so lookups go on while this thread writes
                claimed = claim(2 * concurrency - outstanding)
                claiming = bool(claimed)
                for target in claimed:
                    pool.submit(_check, target, nameservers, finished)
                outstanding += len(claimed)
            if not outstanding:
                break
            batch.append(finished.get())
            outstanding -= 1
            time.sleep(COLLECT_PAUSE)  # let a few more finish: one wake-up for many results
            while not finished.empty():
                batch.append(finished.get())
                outstanding -= 1
            if len(batch) >= WRITE_BATCH:
                _write(batch, now=now, result=result, collect=collect)
                batch = []
    if batch:
        _write(batch, now=now, result=result, collect=collect)
    return result


def _check(
    target: _Target, nameservers: dns.Nameservers | None, finished: queue.SimpleQueue
) -> None:
    # No records and so an unknown verdict, unless the check completes; and always a result,
    # or the writing thread would wait for it forever.
    check = dns.DomainCheck(target.domain, ())
    try:
        check = dns.domain_check(
            domain=target.domain,
            sip_host=target.sip_host,
            ownership_code=target.ownership_code,
            nameservers=nameservers,
        )
    except Exception:  # a bug must not stop the sweep: log it, the domain stays unknown
        logger.exception("checking the DNS of %s failed", target.domain)
    finally:
        finished.put((target, check))


# Writing verdicts -------------------------------------------------------------------------------


@dataclass(frozen=True)
class _State:
    """A claimed domain's scheduling fields, read under lock when its verdict is written."""

    pk: int
    tenant_id: int
    domain: str
    verified_at: datetime | None
    dns_pending_since: datetime | None
    dns_checks_unverified: int
    dns_failures_in_a_row: int
    drift_flagged_at: datetime | None
    not_verified_notified_at: datetime | None


_STATE_FIELDS = [name for name in _State.__dataclass_fields__ if name != "pk"]


@dataclass(frozen=True)
class Outcome:
    next_check_at: datetime
    dns_checks_unverified: int
    dns_failures_in_a_row: int
    verified: bool = False
    flag_drift: bool = False
    clear_drift: bool = False
    tell_not_verified: bool = False


def dns_outcome(state: _State, verdict: str, now: datetime) -> Outcome:
    """The schedule and consequences of one domain's verdict (the rules of domain.md)."""
    if state.verified_at is None:
        if verdict == DomainVerdict.OK:
            return Outcome(now + RECHECK_VERIFIED, 0, 0, verified=True)
        step = BACKOFF[min(state.dns_checks_unverified, len(BACKOFF) - 1)]
        overdue = (
            state.dns_pending_since is not None
            and now - state.dns_pending_since >= NOT_VERIFIED_WARNING_AFTER
        )
        return Outcome(
            now + step,
            state.dns_checks_unverified + 1,
            0,
            tell_not_verified=overdue and state.not_verified_notified_at is None,
        )
    if verdict == DomainVerdict.OK:
        return Outcome(now + RECHECK_VERIFIED, 0, 0, clear_drift=bool(state.drift_flagged_at))
    # Verified stays verified: unknown changes nothing, a failure counts towards drift.
    failures = state.dns_failures_in_a_row + (verdict == DomainVerdict.CUSTOMER_MUST_ACT)
    return Outcome(
        now + RECHECK_AFTER_TROUBLE,
        0,
        failures,
        flag_drift=failures >= DRIFT_AFTER_FAILURES and state.drift_flagged_at is None,
    )


def _write(
    batch: list[tuple[_Target, dns.DomainCheck]],
    *,
    now: datetime,
    result: SweepResult,
    collect: dict[int, dns.DomainCheck] | None,
) -> None:
    with transaction.atomic():
        # Lock the rows and read their state now: staff may have renamed or retired a domain
        # while it was being checked, and then this verdict is about a name it no longer has.
        states = {
            row[0]: _State(*row)
            for row in CallingDomain.objects.select_for_update()
            .filter(pk__in=[target.pk for target, _check in batch], option=CallingDomainOption.OWN)
            .filter(retired_at__isnull=True)
            .order_by("pk")
            .values_list("pk", *_STATE_FIELDS)
        }
        current = [
            (states[t.pk], check)
            for t, check in batch
            if t.pk in states and states[t.pk].domain == t.domain
        ]
        outcomes = [
            (state, check, dns_outcome(state, check.verdict, now)) for state, check in current
        ]
        _record_verdicts(current, now)
        _record_schedules(outcomes, now)
        _record_verified([state for state, _c, outcome in outcomes if outcome.verified], now)
        for state, check, outcome in outcomes:
            if outcome.flag_drift:
                _drift_flag(state, check, now)
            elif outcome.clear_drift:
                _drift_clear(state, now)
            if outcome.tell_not_verified:
                _not_verified_notify(state, check, now)
    for state, check, outcome in outcomes:
        result.checked += 1
        result.verified += outcome.verified
        result.drift_flagged += outcome.flag_drift
        result.customer_must_act += check.verdict == DomainVerdict.CUSTOMER_MUST_ACT
        result.unknown += check.verdict == DomainVerdict.UNKNOWN
        if collect is not None:
            collect[state.pk] = check


def _record_verdicts(current: list[tuple[_State, dns.DomainCheck]], now: datetime) -> None:
    """One row per domain and expected record, upserted; rows of records no longer expected
    (the settings, the gateway or the domain changed) go."""
    rows = [
        {
            "calling_domain_id": state.pk,
            "record_name": record.expected.name,
            "record_type": record.expected.rdtype,
            "expected_value": record.expected.value[:300],
            "verdict": record.verdict,
            "found": list(record.found),
            "detail": record.detail[:500],
        }
        for state, check in current
        for record in check.records
    ]
    bulk_insert(
        DnsCheck,
        rows,
        same={"checked_at": now},
        unique_fields=["calling_domain_id", "record_name", "record_type"],
        update_fields=["expected_value", "verdict", "found", "detail", "checked_at"],
    )
    DnsCheck.objects.filter(
        calling_domain_id__in=[state.pk for state, check in current if check.records],
        checked_at__lt=now,
    ).delete()


def bulk_insert(
    model: type[models.Model],
    rows: list[dict[str, Any]],
    *,
    same: dict[str, Any] | None = None,
    unique_fields: Sequence[str] = (),
    update_fields: Sequence[str] = (),
) -> None:
    """Insert rows (dicts keyed by field attname) with the values in `same` in every row,
    updating on a unique clash when asked.

    On PostgreSQL one statement takes all rows as a single JSON parameter: a sweep writes
    thousands of values, and quoting each on the client (as bulk_create does) costs more CPU
    than the lookups themselves. Elsewhere (SQLite on a first run) bulk_create does the same.
    """
    if not rows:
        return
    insert = _insert_postgresql if connection.vendor == "postgresql" else _insert_orm
    insert(model, rows, same or {}, unique_fields, update_fields)


def _insert_orm(
    model: type[models.Model],
    rows: list[dict[str, Any]],
    same: dict[str, Any],
    unique_fields: Sequence[str],
    update_fields: Sequence[str],
) -> None:
    model.objects.bulk_create(
        [model(**row, **same) for row in rows],
        update_conflicts=bool(unique_fields),
        unique_fields=[model._meta.get_field(name).name for name in unique_fields] or None,
        update_fields=list(update_fields) or None,
    )


def _insert_postgresql(
    model: type[models.Model],
    rows: list[dict[str, Any]],
    same: dict[str, Any],
    unique_fields: Sequence[str],
    update_fields: Sequence[str],
) -> None:
    quote = connection.ops.quote_name
    fields = [model._meta.get_field(name) for name in rows[0]]
    varying = ", ".join(quote(field.column) for field in fields)
    columns = ", ".join([varying, *(quote(model._meta.get_field(name).column) for name in same)])
    values = ", ".join([varying, *("%s" for _name in same)])
    types = ", ".join(f"{quote(field.column)} {field.db_type(connection)}" for field in fields)
    sql = (
        f"INSERT INTO {quote(model._meta.db_table)} ({columns}) "  # noqa: S608 (names from the model)
        f"SELECT {values} FROM jsonb_to_recordset(%s::jsonb) AS r({types})"
    )
    if unique_fields:
        column = {name: quote(model._meta.get_field(name).column) for name in update_fields}
        unique = ", ".join(quote(model._meta.get_field(name).column) for name in unique_fields)
        updates = ", ".join(f"{column[name]} = EXCLUDED.{column[name]}" for name in update_fields)
        sql += f" ON CONFLICT ({unique}) DO UPDATE SET {updates}"
    with connection.cursor() as cursor:
        cursor.execute(sql, [*same.values(), json.dumps(rows, default=_json_value)])


def _json_value(value: object) -> str:
    # isoformat keeps the microseconds (DjangoJSONEncoder cuts them to milliseconds).
    if isinstance(value, datetime):
        return value.isoformat()
    raise TypeError(f"{type(value).__name__} is not JSON serialisable")


def _record_schedules(
    outcomes: list[tuple[_State, dns.DomainCheck, Outcome]], now: datetime
) -> None:
    """One UPDATE per distinct schedule: a sweep shares one `now`, so a batch has a handful of
    them (verified; each backoff step), and this is far cheaper than a per-row CASE."""
    groups: dict[tuple[datetime, int, int, bool], list[int]] = {}
    for state, _check, outcome in outcomes:
        key = (
            outcome.next_check_at,
            outcome.dns_checks_unverified,
            outcome.dns_failures_in_a_row,
            outcome.verified,
        )
        groups.setdefault(key, []).append(state.pk)
    for (next_check_at, unverified, failures, verified), pks in groups.items():
        changes: dict[str, Any] = {
            "next_check_at": next_check_at,
            "dns_checks_unverified": unverified,
            "dns_failures_in_a_row": failures,
        }
        if verified:
            changes.update(verified_at=now, drift_flagged_at=None)
        CallingDomain.objects.filter(pk__in=pks).update(**changes)


def _record_verified(states: list[_State], now: datetime) -> None:
    """Audit each newly verified domain; enable the tenants that chose it."""
    if not states:
        return
    bulk_insert(
        AuditEvent,
        [{"tenant_id": state.tenant_id, "detail": {"domain": state.domain}} for state in states],
        same={
            "action": "dns_verified",
            "from_status": "",
            "to_status": "",
            "actor_kind": ActorKind.SYSTEM,
            "actor_label": SYSTEM.label,
            "created_at": now,
        },
    )
    # An active tenant whose confirmation waited for this domain gets it now.
    _confirm_waiting({s.tenant_id for s in states}, now)
    # Only tenants that wait to be enabled automatically move on; one query finds them.
    for tenant in Tenant.objects.filter(
        pk__in={s.tenant_id for s in states},
        status=TenantStatus.DNS_PENDING,
        enable_when_dns_verified=True,
    ):
        try:
            lifecycle.tenant_dns_verified(tenant=tenant, actor=SYSTEM, now=now)
        except lifecycle.TransitionRefused as refusal:
            logger.warning("%s was not enabled after DNS verified: %s", tenant, refusal.message)


def _drift_flag(state: _State, check: dns.DomainCheck, now: datetime) -> None:
    CallingDomain.objects.filter(pk=state.pk).update(drift_flagged_at=now)
    calling_domain = CallingDomain.objects.select_related("tenant").get(pk=state.pk)
    lifecycle.audit_record(
        tenant=calling_domain.tenant,
        action="dns_drift",
        actor=SYSTEM,
        now=now,
        detail={"domain": state.domain},
    )
    _staff_email(
        kind=EmailKind.DNS_DRIFT,
        idempotency_key=f"dns_drift:{state.pk}:{now:%Y%m%dT%H%M%S}",
        calling_domain=calling_domain,
        check=check,
        now=now,
    )


def _confirm_waiting(tenant_ids: set[int], now: datetime) -> None:
    from onboarding import tokens

    for tenant in Tenant.objects.filter(pk__in=tenant_ids, status=TenantStatus.ACTIVE):
        tokens.confirmation_queue_if_ready(tenant, now=now)


def _drift_clear(state: _State, now: datetime) -> None:
    CallingDomain.objects.filter(pk=state.pk).update(drift_flagged_at=None)
    _confirm_waiting({state.tenant_id}, now)
    lifecycle.audit_record(
        tenant=Tenant(pk=state.tenant_id),
        action="dns_drift_cleared",
        actor=SYSTEM,
        now=now,
        detail={"domain": state.domain},
    )


def _not_verified_notify(state: _State, check: dns.DomainCheck, now: datetime) -> None:
    CallingDomain.objects.filter(pk=state.pk).update(not_verified_notified_at=now)
    calling_domain = CallingDomain.objects.select_related("tenant").get(pk=state.pk)
    since = state.dns_pending_since or now
    _staff_email(
        kind=EmailKind.DNS_NOT_VERIFIED,
        idempotency_key=f"dns_not_verified:{state.pk}:{since:%Y%m%dT%H%M%S}",
        calling_domain=calling_domain,
        check=check,
        now=now,
        days=(now - since).days,
    )


def _staff_email(
    *,
    kind: str,
    idempotency_key: str,
    calling_domain: CallingDomain,
    check: dns.DomainCheck,
    now: datetime,
    **extra: Any,
) -> None:
    if not settings.STAFF_NOTIFICATION_EMAILS:
        logger.error("STAFF_NOTIFICATION_EMAILS is empty: nobody is told (%s)", idempotency_key)
        return
    tenant = calling_domain.tenant
    email_queue(
        kind=kind,
        idempotency_key=idempotency_key,
        recipients=settings.STAFF_NOTIFICATION_EMAILS,
        tenant=tenant,
        now=now,
        context={
            "tenant": tenant,
            "tenant_status": lifecycle.status_label(tenant),
            "domain": rules.display_domain(calling_domain.domain),
            "checked_at": now,
            "records": [
                {
                    "name": r.expected.name,
                    "type": r.expected.rdtype,
                    "expected": r.expected.value,
                    "verdict": DnsVerdict(r.verdict).label,
                    "found": r.found_display,
                }
                for r in check.records
            ],
            "admin_url": f"{settings.PORTAL_BASE_URL}/admin/onboarding/tenant/{tenant.pk}/change/",
            **extra,
        },
    )


# The table people read ---------------------------------------------------------------------------


@dataclass(frozen=True)
class DnsStatusRow:
    name: str
    rdtype: str
    expected: str
    zone_line: str
    verdict: str  # a DnsVerdict value, or "" before the first check
    verdict_label: str
    found: str
    checked_at: datetime | None
    hint: str  # what the customer should do, in plain words


def dns_status_table(calling_domain: CallingDomain) -> list[DnsStatusRow]:
    """Per expected record: the latest verdict, what was found, and a fix hint in plain words
    ("add this record", "this record points to X; it must point to Y"). For the admin and the
    customer's DNS status page."""
    checks = {(c.record_name, c.record_type): c for c in calling_domain.dns_checks.all()}
    rows = []
    for record in dns.calling_domain_expected_records(calling_domain):
        check = checks.get((record.name, record.rdtype))
        if check is not None and check.expected_value != record.value:
            check = None  # checked against an older expectation (the gateway changed since)
        rows.append(
            DnsStatusRow(
                name=record.name,
                rdtype=record.rdtype,
                expected=record.value,
                zone_line=record.zone_line,
                verdict=check.verdict if check else "",
                verdict_label=DnsVerdict(check.verdict).label if check else "not checked yet",
                found=check.found_display if check else "",
                checked_at=check.checked_at if check else None,
                hint=dns.fix_hint(
                    record,
                    check.verdict if check else DnsVerdict.MISSING,
                    check.found if check else (),
                ),
            )
        )
    return rows
