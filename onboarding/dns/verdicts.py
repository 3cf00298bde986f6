"""DNS for own domains (domain.md, "DNS for own domains"): the records a calling domain must
publish, and a verdict per record from looking them up.

The lookups (lookups.py) go straight to the servers that decide: the domain's authoritative
servers, or the servers named in DNS_NAMESERVERS. A customer's fix is then seen at once, not
after a recursive resolver's negative-cache time. Nothing here touches the database: callers
pass in what a check needs, so the sweeper can run many checks in threads.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import dns.rdatatype
from django.conf import settings
from django.utils.functional import cached_property

from onboarding.dns.lookups import (
    Lookup,
    LookupAnswer,
    LookupUnknown,
    Nameservers,
    absolute_name,
    configured_nameservers,
)
from onboarding.domain.dns_records import OWNERSHIP_PREFIX, ExpectedRecord, expected_records
from onboarding.models import DnsVerdict, DomainVerdict

V = DnsVerdict

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
    return "Nothing to do yet: we check this record again automatically."


# Why a lookup gave up (LookupUnknown's reasons in lookups.py), as a customer reads it: they can
# do nothing about our resolver, and "not even for the root" means nothing to them.
_UNREACHABLE = "we could not reach any DNS server for this domain; we will try again"
_NO_ANSWER = "your domain's DNS servers did not answer in time; we will try again"
_AN_ERROR = "your domain's DNS servers answered with an error; we will try again"


def unknown_in_plain_words(reason: str) -> str:
    if "name servers" in reason:  # finding the servers failed before any was asked
        return _UNREACHABLE
    if "timeout" in reason or "in time" in reason:
        return _NO_ANSWER
    return _AN_ERROR  # SERVFAIL, REFUSED, a malformed answer or a referral


def missing_in_plain_words(detail: str) -> str:
    """What was found for a missing record (LookupAnswer.why_none in lookups.py), in words."""
    if detail == "no such name":
        return "nothing: this name does not exist in DNS"
    if "does not exist" in detail:
        return "nothing: its CNAME leads nowhere"
    return f"nothing: {detail}" if detail else "nothing"


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
