"""Model instances from the rows of a hand-written SELECT, for the few hot paths where Django's
query building costs more than the query (the customer's upload page: bench/web.py).

A `RowReader` names a model's columns under a table alias (quoted, as the FROM clause must
quote it too), in field order, for the SELECT list,
then turns that slice of each row into an instance with the same converters the ORM applies
(JSON text into lists on PostgreSQL, text into datetimes on SQLite), so the instance is exactly
the one a queryset would have built.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, Generic, TypeVar

from django.db import connection, models

ModelT = TypeVar("ModelT", bound=models.Model)
Converter = Callable[[Any, Any, Any], Any]


class RowReader(Generic[ModelT]):
    def __init__(self, model: type[ModelT], alias: str) -> None:
        self.model = model
        self.alias = alias
        self.fields = list(model._meta.concrete_fields)
        self.width = len(self.fields)
        self._attnames = [field.attname for field in self.fields]
        self._pk_index = self.fields.index(model._meta.pk)
        self._converters: dict[str, list[tuple[int, list[Converter], Any]]] = {}

    def columns(self) -> str:
        """The SELECT list for this model's fields, in the order `build` reads them."""
        quote = connection.ops.quote_name
        alias = quote(self.alias)
        return ", ".join(f"{alias}.{quote(field.column)}" for field in self.fields)

    def build(self, row: Sequence[Any], start: int = 0) -> ModelT | None:
        """The instance in row[start:start + width], or None when its primary key is NULL (the
        empty side of a LEFT JOIN)."""
        values = list(row[start : start + self.width])
        if values[self._pk_index] is None:
            return None
        for index, converters, column in self._converters_for_connection():
            value = values[index]
            for convert in converters:
                value = convert(value, column, connection)
            values[index] = value
        return self.model.from_db(connection.alias, self._attnames, values)

    def _converters_for_connection(self) -> list[tuple[int, list[Converter], Any]]:
        converters = self._converters.get(connection.vendor)
        if converters is None:
            converters = []
            for index, field in enumerate(self.fields):
                column = field.get_col(self.alias)
                found = [
                    *connection.ops.get_db_converters(column),
                    *column.get_db_converters(connection),
                ]
                if found:
                    converters.append((index, found, column))
            self._converters[connection.vendor] = converters
        return converters
