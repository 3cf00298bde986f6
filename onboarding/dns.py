"""DNS for own domains (domain.md, "DNS for own domains"): the records a calling domain must
publish, and a verdict per record from looking them up.

The lookups (dns_lookup.py) go straight to the servers that decide: the domain's authoritative
servers, or the servers named in DNS_NAMESERVERS. A customer's fix is then seen at once, not
after a recursive resolver's negative-cache time. Nothing here touches the database: callers
pass in what a check needs, so the sweeper can run many checks in threads.
"""

from __future__ import annotations

import functools
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import dns.rdatatype
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.utils.functional import cached_property

from onboarding.dns_lookup import (
    AUTHORITATIVE_PORT,
    EDNS_PAYLOAD,
    MAX_CNAME_HOPS,
    Lookup,
    LookupAnswer,
    LookupUnknown,
    Nameservers,
    absolute_name,
    authoritative_servers,
    configured_nameservers,
    system_resolver,
)
from onboarding.models import CallingDomain, DnsVerdict, DomainVerdict

# Callers import these from here, where they lived before the lookups got a module of their own.
__all__ = [
    "AUTHORITATIVE_PORT",
    "EDNS_PAYLOAD",
    "MAX_CNAME_HOPS",
    "DomainCheck",
    "ExpectedRecord",
    "Nameservers",
    "RecordCheck",
    "SrvSpec",
    "authoritative_servers",
    "calling_domain_expected_records",
    "configured_nameservers",
    "domain_check",
    "domain_verdict",
    "expected_records",
    "expected_srv_specs",
    "fix_hint",
    "system_resolver",
]

V = DnsVerdict

OWNERSHIP_LABEL = "_pexip-verification"
OWNERSHIP_PREFIX = "pexip-verification="
# What the instructions suggest; priority and weight are reported, never judged.
SUGGESTED_PRIORITY = 10
SUGGESTED_WEIGHT = 10
SUGGESTED_TTL = 3600


@dataclass(frozen=True)
class SrvSpec:
    label: str  # `_sip._tcp`
    port: int


def expected_srv_specs() -> list[SrvSpec]:
    """DNS_EXPECTED_SRV_RECORDS parsed: "label:port" strings such as "_sip._tcp:5060"."""
    return list(_srv_specs(tuple(settings.DNS_EXPECTED_SRV_RECORDS)))


@functools.lru_cache(maxsize=8)  # parsed once per value, not once per domain a sweep checks
def _srv_specs(entries: tuple[str, ...]) -> tuple[SrvSpec, ...]:
    specs = []
    for entry in entries:
        label, _sep, port = entry.strip().rpartition(":")
        label = label.strip().strip(".").lower()
        if not label or not port.isdigit() or not 0 < int(port) < 65536:
            raise ImproperlyConfigured(
                f"DNS_EXPECTED_SRV_RECORDS entry {entry!r} is not label:port, "
                "for example _sip._tcp:5060."
            )
        specs.append(SrvSpec(label, int(port)))
    return tuple(specs)


@dataclass(frozen=True)
class ExpectedRecord:
    """One record an own domain must publish. Names are absolute, in the stored ASCII form."""

    name: str  # `_sip._tcp.video.example.com.`
    rdtype: str  # "SRV" or "TXT"
    port: int = 0  # SRV
    target: str = ""  # SRV: lower case, no trailing dot
    text: str = ""  # TXT: `pexip-verification=<code>`; empty when no tenant owns the domain
    also_at: str = ""  # TXT: the other name where the record is accepted (the domain itself)

    @property
    def value(self) -> str:
        """The expected value as people read it."""
        if self.rdtype == "SRV":
            return f"port {self.port} target {self.target}."
        return f'"{self.text}"' if self.text else "(no ownership code)"

    @property
    def zone_line(self) -> str:
        """The record ready to paste into a zone file."""
        if self.rdtype == "SRV":
            data = f"{SUGGESTED_PRIORITY} {SUGGESTED_WEIGHT} {self.port} {self.target}."
        else:
            data = f'"{self.text}"'
        return f"{self.name} {SUGGESTED_TTL} IN {self.rdtype} {data}"


def expected_records(
    *, domain: str, sip_host: str, ownership_code: str | None
) -> list[ExpectedRecord]:
    """The SRV set from settings pointing at the gateway's SIP/H.323 host, then the TXT record."""
    target = sip_host.lower().rstrip(".")
    records = [
        ExpectedRecord(name=f"{spec.label}.{domain}.", rdtype="SRV", port=spec.port, target=target)
        for spec in _srv_specs(tuple(settings.DNS_EXPECTED_SRV_RECORDS))
    ]
    records.append(
        ExpectedRecord(
            name=f"{OWNERSHIP_LABEL}.{domain}.",
            rdtype="TXT",
            text=f"{OWNERSHIP_PREFIX}{ownership_code}" if ownership_code else "",
            also_at=f"{domain}.",
        )
    )
    return records


def calling_domain_expected_records(calling_domain: CallingDomain) -> list[ExpectedRecord]:
    return expected_records(
        domain=calling_domain.domain,
        sip_host=calling_domain.tenant.gateway.effective_sip_host,
        ownership_code=calling_domain.ownership_code,
    )


# Verdicts ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class RecordCheck:
    expected: ExpectedRecord
    verdict: str
    found: tuple[str, ...] = ()  # CNAMEs on the way, then the records, as text
    detail: str = ""  # why, in words

    @property
    def found_display(self) -> str:
        return "; ".join(self.found) or self.detail


@dataclass(frozen=True)
class DomainCheck:
    domain: str
    records: tuple[RecordCheck, ...]

    @cached_property  # read several times per domain when a sweep writes its verdicts
    def verdict(self) -> str:
        return domain_verdict(record.verdict for record in self.records)


_NOT_JUDGED = frozenset({V.NOT_APPLICABLE})
_ALL_OK = frozenset({V.OK})
_FAILED = frozenset({V.MISSING, V.MISMATCH})


def domain_verdict(verdicts: Iterable[str]) -> str:
    """ok if every record is ok; else customer must act if any is missing or mismatched;
    else unknown. Records that do not apply are left out."""
    judged = set(verdicts) - _NOT_JUDGED
    if judged == _ALL_OK:
        return DomainVerdict.OK
    if judged & _FAILED:
        return DomainVerdict.CUSTOMER_MUST_ACT
    return DomainVerdict.UNKNOWN


def fix_hint(record: ExpectedRecord, verdict: str, found: Sequence[str]) -> str:
    """What the customer should do about one record, in plain words."""
    keep = " Keep it after verification: the record must stay." if record.rdtype == "TXT" else ""
    if verdict == V.OK:
        return "This record is in place." + keep
    if verdict == V.MISSING:
        return f"Add this record: {record.zone_line}" + keep
    if verdict == V.MISMATCH and record.rdtype == "SRV":
        seen = ", ".join(_srv_words(item) for item in found)
        return (
            f"This record points to {seen}; it must point to {record.target} on port {record.port}."
        )
    if verdict == V.MISMATCH:
        return f'This record holds {", ".join(found)}; it must hold "{record.text}".' + keep
    if verdict == V.NOT_APPLICABLE:
        return "Not applicable: no tenant owns this domain, so there is no ownership code."
    return "Your DNS servers did not answer for this record; it is checked again automatically."


def _srv_words(item: str) -> str:
    parts = item.split()
    if len(parts) == 4 and parts[2].isdigit():
        return f"{parts[3].rstrip('.')} on port {parts[2]}"
    return item  # "CNAME target." and anything else as it was found


# Checking ---------------------------------------------------------------------------------------


def domain_check(
    *,
    domain: str,
    sip_host: str,
    ownership_code: str | None,
    nameservers: Nameservers | None = None,
) -> DomainCheck:
    """Look up every expected record of `domain` (stored ASCII form) and judge each.

    `nameservers` defaults to DNS_NAMESERVERS; with none configured the domain's authoritative
    servers are asked. Safe to call from many threads at once.
    """
    lookup = Lookup(
        nameservers=nameservers or configured_nameservers(),
        timeout=settings.DNS_TIMEOUT,
        lifetime=settings.DNS_LIFETIME,
    )
    expected = expected_records(domain=domain, sip_host=sip_host, ownership_code=ownership_code)
    return DomainCheck(domain, tuple(_check_record(lookup, record) for record in expected))


def _check_record(lookup: Lookup, record: ExpectedRecord) -> RecordCheck:
    if record.rdtype == "SRV":
        return _check_srv(lookup, record)
    return _check_txt(lookup, record)


def _check_srv(lookup: Lookup, record: ExpectedRecord) -> RecordCheck:
    try:
        answer = lookup.resolve(absolute_name(record.name), dns.rdatatype.SRV)
    except LookupUnknown as exc:
        return RecordCheck(record, V.UNKNOWN, detail=exc.reason)
    if not answer.rdatas:
        return RecordCheck(record, V.MISSING, tuple(answer.cnames), answer.why_none("SRV"))
    found = list(answer.cnames)
    matches = False
    for rdata in answer.rdatas:
        target = rdata.target.to_text()  # once per record: Name.to_text escapes byte by byte
        found.append(f"{rdata.priority} {rdata.weight} {rdata.port} {target}")
        matches = matches or (rdata.port == record.port and _host(target) == record.target)
    if matches:
        return RecordCheck(record, V.OK, tuple(found))
    return RecordCheck(
        record,
        V.MISMATCH,
        tuple(found),
        f"no record has port {record.port} and target {record.target}",
    )


def _check_txt(lookup: Lookup, record: ExpectedRecord) -> RecordCheck:
    if not record.text:
        return RecordCheck(record, V.NOT_APPLICABLE, detail="not a tenant's domain")
    answers: list[tuple[LookupAnswer, list[str]]] = []  # with the values found, quoted
    unknown = ""
    for index, name in enumerate((record.name, record.also_at)):
        try:
            answer = lookup.resolve(absolute_name(name), dns.rdatatype.TXT)
        except LookupUnknown as exc:
            unknown = unknown or exc.reason
            continue
        values = [b"".join(r.strings).decode("utf-8", "replace").strip() for r in answer.rdatas]
        if index == 1:  # at the domain itself only ownership values matter, not SPF and friends
            values = [v for v in values if v.lower().startswith(OWNERSHIP_PREFIX)]
        texts = [f'"{v}"' for v in values]
        if any(v.lower() == record.text.lower() for v in values):
            return RecordCheck(record, V.OK, (*answer.cnames, *texts))
        answers.append((answer, texts))
    if unknown:
        return RecordCheck(record, V.UNKNOWN, detail=unknown)
    for answer, texts in answers:
        if texts:
            return RecordCheck(
                record, V.MISMATCH, (*answer.cnames, *texts), "no value matches the code"
            )
    primary, _texts = answers[0]
    return RecordCheck(record, V.MISSING, tuple(primary.cnames), primary.why_none("TXT"))


def _host(target: str) -> str:
    """A target as written in the expected record: lower case, without the final dot."""
    return target[:-1].lower() if target.endswith(".") and target != "." else target.lower()
