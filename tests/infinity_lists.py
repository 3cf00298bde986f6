"""List answers of the Infinity test double: Tastypie's pagination, filters and ordering.

`{"meta": {"limit", "offset", "next", "previous", "total_count"}, "objects": [...]}` as the
go-infinity-sdk list responses read it; `next`/`previous` are the list's path with the query
(every parameter kept, `limit` and `offset` set) or null, as Tastypie's paginator builds them.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qsl, urlencode

from tests.infinity_resources import FIELDS, FILTERS, LOOKUPS, ORDERABLE

DEFAULT_LIMIT = 20  # the node's page size when the client names none (recorded node answers)

_TESTS = {"exact": str.__eq__, "startswith": str.startswith, "contains": str.__contains__}


class BadQuery(Exception):
    """A query the node refuses with 400 `{"error": "<message>"}`."""


def list_page(
    resource: str, objects: list[dict[str, Any]], path: str, query: str, max_limit: int
) -> dict[str, Any]:
    """One page of `objects` (in id order) for the query string `query`. A `limit` above
    `max_limit`, or `limit=0` ("as many as allowed"), is cut to `max_limit`."""
    params = dict(parse_qsl(query, keep_blank_values=True))
    limit = _count(params.get("limit", str(DEFAULT_LIMIT)), "limit")
    offset = _count(params.get("offset", "0"), "offset")
    limit = max_limit if limit == 0 else min(limit, max_limit)
    for key, value in params.items():
        field, _, lookup = key.partition("__")
        # Parameters that name no field (format, limit, order_by...) are no filters: Tastypie
        # ignores them, so a filter the resource lacks (`tag` on tokens) filters nothing.
        if field in FIELDS[resource] or field in ("id", "resource_uri"):
            objects = _filtered(resource, objects, field, lookup or "exact", value)
    if "order_by" in params:
        name = params["order_by"].lstrip("-")
        if name not in ORDERABLE or (name != "id" and name not in FIELDS[resource]):
            raise BadQuery(f"No matching '{name}' field for ordering on.")
        objects = sorted(objects, key=lambda o: o[name], reverse=params["order_by"][0] == "-")
    total = len(objects)

    def page(at: int) -> str:
        return path + "?" + urlencode({**params, "limit": limit, "offset": at})

    return {
        "meta": {
            "limit": limit,
            "offset": offset,
            "total_count": total,
            "next": page(offset + limit) if offset + limit < total else None,
            "previous": page(max(offset - limit, 0)) if offset > 0 else None,
        },
        "objects": objects[offset : offset + limit],
    }


def _count(value: str, name: str) -> int:
    if not value.isdigit():
        raise BadQuery(f"Invalid {name} '{value}' provided. Please provide a positive integer.")
    return int(value)


def _filtered(
    resource: str, objects: list[dict[str, Any]], field: str, lookup: str, value: str
) -> list[dict[str, Any]]:
    if field not in FILTERS[resource]:
        raise BadQuery(f"The '{field}' field does not allow filtering.")
    if lookup not in LOOKUPS:
        raise BadQuery(f"'{lookup}' is not an allowed filter on the '{field}' field.")
    folded = lookup.startswith("i")
    test = _TESTS[lookup.removeprefix("i")]

    def text(raw: Any) -> str:
        return str(raw).casefold() if folded else str(raw)

    return [obj for obj in objects if test(text(obj[field]), text(value))]
