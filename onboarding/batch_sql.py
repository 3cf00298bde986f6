"""SQL for writing rows cheaply on the client, where the ORM would take more statements or more
CPU than the write itself: the DNS sweeper writes thousands of values a minute, and with one
placeholder per value, quoting and binding them (as bulk_create and `pk__in=[...]` do) costs more
CPU than the DNS lookups themselves; the outbox records an email once per idempotency key.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any, cast

from django.db import IntegrityError, connection, models, transaction
from django.db.models import F
from django.db.models.lookups import Lookup


class AnyOf(Lookup):
    """`field = ANY(%s)` with the values as one array parameter on PostgreSQL; `field IN (...)`
    elsewhere. Used directly as a filter: `Model.objects.filter(AnyOf(F("pk"), pks))`."""

    lookup_name = "any_of"
    prepare_rhs = False  # the values are ints or strings already, passed on as they are

    def __init__(self, lhs: Any, rhs: Iterable[Any]) -> None:
        super().__init__(F(lhs) if isinstance(lhs, str) else lhs, list(rhs))

    def as_sql(self, compiler: Any, connection: Any) -> tuple[str, list[Any]]:
        lhs, params = self.process_lhs(compiler, connection)
        if not self.rhs:
            return "1 = 0", list(params)
        return f"{lhs} IN ({', '.join(['%s'] * len(self.rhs))})", [*params, *self.rhs]

    def as_postgresql(self, compiler: Any, connection: Any) -> tuple[str, list[Any]]:
        lhs, params = self.process_lhs(compiler, connection)
        if all(type(value) is int for value in self.rhs):  # keys, the usual case
            # The array's text form, joined in C: psycopg adapts a list item by item in Python.
            keys = "{" + ",".join(map(str, self.rhs)) + "}"
            return f"{lhs} = ANY(%s::bigint[])", [*params, keys]
        return f"{lhs} = ANY(%s)", [*params, self.rhs]


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

    On PostgreSQL one statement takes all rows as a single JSON parameter, encoded in C.
    Elsewhere (SQLite on a first run) bulk_create does the same.
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
    model._default_manager.bulk_create(
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
    fields = [_concrete_field(model, name) for name in rows[0]]
    varying = ", ".join(quote(field.column) for field in fields)
    columns = ", ".join([varying, *(quote(_concrete_field(model, name).column) for name in same)])
    values = ", ".join([varying, *("%s" for _name in same)])
    types = ", ".join(f"{quote(field.column)} {field.db_type(connection)}" for field in fields)
    # json (not jsonb): read once, left to right, without building a jsonb value first
    sql = (
        f"INSERT INTO {quote(model._meta.db_table)} ({columns}) "  # noqa: S608 (names from the model)
        f"SELECT {values} FROM json_to_recordset(%s::json) AS r({types})"
    )
    if unique_fields:
        column = {name: quote(_concrete_field(model, name).column) for name in update_fields}
        unique = ", ".join(quote(_concrete_field(model, name).column) for name in unique_fields)
        updates = ", ".join(f"{column[name]} = EXCLUDED.{column[name]}" for name in update_fields)
        sql += f" ON CONFLICT ({unique}) DO UPDATE SET {updates}"
    with connection.cursor() as cursor:
        cursor.execute(sql, [*same.values(), json.dumps(rows, default=_json_value)])


def insert_unless_present(instance: models.Model, unique_field: str) -> bool:
    """Insert the unsaved instance unless a row with its `unique_field` value exists already.
    True, and the instance's primary key set, when it was inserted.

    One statement (ON CONFLICT DO NOTHING RETURNING, on PostgreSQL and SQLite from 3.35), where
    get_or_create takes a read, a savepoint, the insert and a release: the outbox records an
    email in every upload this way. A concurrent insert of the same value makes this one wait
    for it, then find the row. Like bulk_create it sends no save signals; a model with fields
    the database computes (db_default, GeneratedField) is refused.
    """
    meta = instance._meta
    fields = [field for field in meta.concrete_fields if field is not meta.pk]
    # has_db_default() is Django 5.0's; django-stubs 5.2 does not list it yet
    if any(field.generated or field.has_db_default() for field in fields):  # type: ignore[attr-defined]
        raise TypeError(f"{meta.label} has database-computed fields: save it with the ORM")
    if not connection.features.can_return_columns_from_insert:  # SQLite before 3.35
        return _insert_unless_present_orm(instance, unique_field)
    quote = connection.ops.quote_name
    values = [
        field.get_db_prep_save(field.pre_save(instance, True), connection) for field in fields
    ]
    sql = (
        f"INSERT INTO {quote(meta.db_table)} "  # noqa: S608 (names from the model, values bound)
        f"({', '.join(quote(field.column) for field in fields)}) "
        f"VALUES ({', '.join(['%s'] * len(fields))}) "
        f"ON CONFLICT ({quote(_concrete_field(type(instance), unique_field).column)}) DO NOTHING "
        f"RETURNING {quote(meta.pk.column)}"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, values)
        inserted = cursor.fetchone()
    if inserted is None:
        return False
    instance.pk = inserted[0]
    instance._state.adding = False
    instance._state.db = connection.alias
    return True


def _insert_unless_present_orm(instance: models.Model, unique_field: str) -> bool:
    lookup = {unique_field: getattr(instance, unique_field)}
    if type(instance)._default_manager.filter(**lookup).exists():
        return False
    try:
        with transaction.atomic():
            instance.save(force_insert=True)
    except IntegrityError:
        return False
    return True


def _concrete_field(model: type[models.Model], name: str) -> models.Field[Any, Any]:
    """The named field, known here to be a column of the model's own table (get_field may also
    answer with a reverse relation or a generic foreign key)."""
    return cast("models.Field[Any, Any]", model._meta.get_field(name))


def _json_value(value: object) -> str:
    # isoformat keeps the microseconds (DjangoJSONEncoder cuts them to milliseconds).
    if isinstance(value, datetime):
        return value.isoformat()
    raise TypeError(f"{type(value).__name__} is not JSON serialisable")
