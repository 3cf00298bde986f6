"""One timeline per tenant: what staff changed (django-simple-history: field, old -> new) merged
with the lifecycle's AuditEvents (transitions, uploads, emails), newest first; and its CSV form.

Nothing secret is in either source: the history models of Tenant, CallingDomain and Gateway hold
no token (tokens live in SecurityToken, which has no history), and the audit events hold
fingerprints at most.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from onboarding.domain import calling_domains, domain_names
from onboarding.models import AuditAction, AuditEvent, CallingDomain, Gateway, Tenant

HISTORY = "change"
EVENT = "event"
# "changed" events only list field names; the history entry beside it carries the values.
EVENTS_COVERED_BY_HISTORY = {AuditAction.CHANGED}
HISTORY_VERBS = {"+": "created", "~": "changed", "-": "deleted"}
# Spreadsheets run cells that start with these as formulas (CSV injection): such a value gets a
# leading apostrophe, which spreadsheets show as text.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
CSV_COLUMNS = ["when_utc", "who", "kind", "subject", "what", "changes", "ip_address"]


@dataclass(frozen=True)
class FieldChange:
    field: str
    old: str
    new: str

    def __str__(self) -> str:
        return self.display("->")

    def display(self, arrow: str) -> str:
        if self.old or self.field == "status":
            return f"{self.field}: {self.old or '(blank)'} {arrow} {self.new or '(blank)'}"
        # an event's detail, or a value set for the first time
        return f"{self.field}: {self.new or '(blank)'}"


@dataclass(frozen=True)
class TimelineEntry:
    when: datetime
    who: str
    kind: str  # HISTORY or EVENT
    subject: str
    what: str
    changes: list[FieldChange] = field(default_factory=list)
    ip_address: str = ""

    @property
    def changes_text(self) -> str:
        return "; ".join(str(change) for change in self.changes)


def tenant_timeline(tenant: Tenant, *, limit: int | None = None) -> list[TimelineEntry]:
    """Every recorded change and event of `tenant`, newest first (at most `limit`)."""
    entries = [
        *_history_entries(
            tenant.history.select_related("history_user").order_by("history_date", "history_id"),
            subject=lambda _record: "tenant",
        ),
        *_history_entries(
            CallingDomain.history.filter(tenant_id=tenant.pk)
            .select_related("history_user")
            .order_by("history_date", "history_id"),
            subject=lambda record: f"calling domain {_domain_label(record)}",
        ),
        *_event_entries(tenant),
    ]
    entries.sort(key=lambda entry: entry.when, reverse=True)
    return entries[:limit] if limit is not None else entries


def timeline_csv(entries: Iterable[TimelineEntry]) -> str:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(CSV_COLUMNS)
    for entry in entries:
        writer.writerow(
            _csv_safe(value)
            for value in (
                entry.when.isoformat(),
                entry.who,
                entry.kind,
                entry.subject,
                entry.what,
                entry.changes_text,
                entry.ip_address,
            )
        )
    return out.getvalue()


def _csv_safe(value: str) -> str:
    return f"'{value}" if value.startswith(FORMULA_STARTS) else value


def _history_entries(records: Iterable[Any], *, subject: Any) -> list[TimelineEntry]:
    entries: list[TimelineEntry] = []
    previous: dict[int, Any] = {}
    for record in records:
        before = previous.get(record.id)
        previous[record.id] = record
        changes: list[FieldChange] = []
        if record.history_type == "~" and before is not None:
            changes = [
                FieldChange(
                    _label(record, change.field),
                    _display(record, change.field, change.old),
                    _display(record, change.field, change.new),
                )
                for change in record.diff_against(before).changes
            ]
            if not changes:
                continue  # a save that changed nothing tracked
        entries.append(
            TimelineEntry(
                when=record.history_date,
                who=record.history_user.get_username() if record.history_user else "system",
                kind=HISTORY,
                subject=subject(record),
                what=HISTORY_VERBS.get(record.history_type, record.history_type),
                changes=changes,
            )
        )
    return entries


def _event_entries(tenant: Tenant) -> list[TimelineEntry]:
    events = AuditEvent.objects.filter(tenant=tenant).exclude(action__in=EVENTS_COVERED_BY_HISTORY)
    entries = []
    for event in events:
        changes = []
        if event.to_status:
            changes.append(FieldChange("status", event.from_status, event.to_status))
        changes += [FieldChange(str(k), "", str(v)) for k, v in sorted(event.detail.items())]
        entries.append(
            TimelineEntry(
                when=event.created_at,
                who=event.actor_label or event.get_actor_kind_display(),
                kind=EVENT,
                subject="tenant",
                what=event.action,
                changes=changes,
                ip_address=event.ip_address or "",
            )
        )
    return entries


def _domain_label(record: Any) -> str:
    if record.option == calling_domains.CallingDomainOption.SHARED:
        return f"{record.domain} (prefix {record.prefix})" if record.prefix else record.domain
    return domain_names.display_domain(record.domain) if record.domain else "(blank)"


def _label(record: Any, name: str) -> str:
    return str(record.instance_type._meta.get_field(name).verbose_name)


def _display(record: Any, name: str, value: Any) -> str:
    if value is None:
        return ""
    model_field = record.instance_type._meta.get_field(name)
    if model_field.choices:
        return str(dict(model_field.flatchoices).get(value, value))
    if name == "gateway":
        gateway = Gateway.objects.filter(pk=value).first()
        return gateway.name if gateway else f"gateway #{value}"
    if isinstance(value, list):
        return ", ".join(str(item) for item in value)
    if isinstance(value, bool):
        return "yes" if value else "no"
    return str(value)
