"""The DNS table people read: per expected record of an own domain, the latest verdict, what
was found, and what to do about it. For the admin and the customer's DNS status page."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from onboarding.dns import verdicts
from onboarding.models import CallingDomain, DnsCheck, DnsVerdict, Tenant


def tenant_own_domains(tenant: Tenant) -> list[CallingDomain]:
    """The tenant's own domains in use, ready for `dns_status_table` (checks prefetched)."""
    return list(
        CallingDomain.objects.in_use()
        .own()
        .filter(tenant=tenant)
        .select_related("tenant__gateway")
        .prefetch_related("dns_checks")
    )


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
    customer_verdict: str  # the verdict as a customer reads it
    customer_found: str  # what was found, without resolver jargon


# A verdict as a customer reads it: staff keep DnsVerdict's short labels.
CUSTOMER_VERDICTS = {
    DnsVerdict.OK: "correct",
    DnsVerdict.MISSING: "not found",
    DnsVerdict.MISMATCH: "different from what we need",
    DnsVerdict.UNKNOWN: "no answer yet",
    DnsVerdict.NOT_APPLICABLE: "not needed",
}
NOT_CHECKED = "not checked yet"


def customer_found(check: DnsCheck | None) -> str:
    if check is None:
        return ""
    if check.verdict == DnsVerdict.UNKNOWN:
        return verdicts.unknown_in_plain_words(check.detail)
    if check.verdict == DnsVerdict.MISSING and not check.found:
        return verdicts.missing_in_plain_words(check.detail)
    return check.found_display


def dns_status_table(calling_domain: CallingDomain) -> list[DnsStatusRow]:
    """Per expected record: the latest verdict, what was found, and a fix hint in plain words
    ("add this record", "this record points to X; it must point to Y")."""
    checks = {(c.record_name, c.record_type): c for c in calling_domain.dns_checks.all()}
    rows = []
    for record in calling_domain.expected_records():
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
                verdict_label=DnsVerdict(check.verdict).label if check else NOT_CHECKED,
                found=check.found_display if check else "",
                checked_at=check.checked_at if check else None,
                hint=verdicts.fix_hint(
                    record,
                    check.verdict if check else DnsVerdict.MISSING,
                    check.found if check else (),
                ),
                customer_verdict=CUSTOMER_VERDICTS[DnsVerdict(check.verdict)]
                if check
                else NOT_CHECKED,
                customer_found=customer_found(check),
            )
        )
    return rows
