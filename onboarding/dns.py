"""DNS for own domains (domain.md, "DNS for own domains"): the records a calling domain must
publish, looking them up, and a verdict per record.

Lookups go straight to the servers that decide: the domain's authoritative servers, found by
walking up to the zone cut with NS lookups through the system resolver, or the servers named in
DNS_NAMESERVERS. A customer's fix is then seen at once, not after a recursive resolver's
negative-cache time. Nothing here touches the database: callers pass in what a check needs, so
the sweeper can run many checks in threads.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

import dns.exception
import dns.flags
import dns.message
import dns.name
import dns.query
import dns.rcode
import dns.rdataclass
import dns.rdatatype
import dns.resolver
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

from onboarding.models import CallingDomain, DnsVerdict, DomainVerdict

V = DnsVerdict

OWNERSHIP_LABEL = "_pexip-verification"
OWNERSHIP_PREFIX = "pexip-verification="
# What the instructions suggest; priority and weight are reported, never judged.
SUGGESTED_PRIORITY = 10
SUGGESTED_WEIGHT = 10
SUGGESTED_TTL = 3600
# A chain of aliases longer than this is broken (common resolvers give up at 8 to 16 hops).
MAX_CNAME_HOPS = 8
# EDNS buffer size: the DNS flag day 2020 value, big enough for a few SRV records, small
# enough not to fragment; larger answers come over TCP.
EDNS_PAYLOAD = 1232
# Authoritative servers listen on the standard port; DNS_PORT is only for DNS_NAMESERVERS.
AUTHORITATIVE_PORT = 53
# NS and address answers cached in-process for their TTL while finding authoritative servers.
SYSTEM_RESOLVER_CACHE_SIZE = 10_000


@dataclass(frozen=True)
class SrvSpec:
    label: str  # `_sip._tcp`
    port: int


def expected_srv_specs() -> list[SrvSpec]:
    """DNS_EXPECTED_SRV_RECORDS parsed: "label:port" strings such as "_sip._tcp:5060"."""
    specs = []
    for entry in settings.DNS_EXPECTED_SRV_RECORDS:
        label, _sep, port = entry.strip().rpartition(":")
        label = label.strip().strip(".").lower()
        if not label or not port.isdigit() or not 0 < int(port) < 65536:
            raise ImproperlyConfigured(
                f"DNS_EXPECTED_SRV_RECORDS entry {entry!r} is not label:port, "
                "for example _sip._tcp:5060."
            )
        specs.append(SrvSpec(label, int(port)))
    return specs


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
        for spec in expected_srv_specs()
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

    @property
    def verdict(self) -> str:
        return domain_verdict(record.verdict for record in self.records)


def domain_verdict(verdicts: Iterable[str]) -> str:
    """ok if every record is ok; else customer must act if any is missing or mismatched;
    else unknown. Records that do not apply are left out."""
    judged = [v for v in verdicts if v != V.NOT_APPLICABLE]
    if judged and all(v == V.OK for v in judged):
        return DomainVerdict.OK
    if any(v in (V.MISSING, V.MISMATCH) for v in judged):
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


@dataclass(frozen=True)
class Nameservers:
    """Servers to ask instead of each domain's authoritative ones."""

    addresses: tuple[str, ...]
    port: int = AUTHORITATIVE_PORT


def configured_nameservers() -> Nameservers | None:
    if settings.DNS_NAMESERVERS:
        return Nameservers(tuple(settings.DNS_NAMESERVERS), settings.DNS_PORT)
    return None


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
    lookup = _Lookup(
        nameservers=nameservers or configured_nameservers(),
        timeout=settings.DNS_TIMEOUT,
        lifetime=settings.DNS_LIFETIME,
    )
    expected = expected_records(domain=domain, sip_host=sip_host, ownership_code=ownership_code)
    return DomainCheck(domain, tuple(_check_record(lookup, record) for record in expected))


def _check_record(lookup: _Lookup, record: ExpectedRecord) -> RecordCheck:
    if record.rdtype == "SRV":
        return _check_srv(lookup, record)
    return _check_txt(lookup, record)


def _check_srv(lookup: _Lookup, record: ExpectedRecord) -> RecordCheck:
    try:
        answer = lookup.resolve(_name(record.name), dns.rdatatype.SRV)
    except _Unknown as exc:
        return RecordCheck(record, V.UNKNOWN, detail=exc.reason)
    found = (
        *answer.cnames,
        *(f"{r.priority} {r.weight} {r.port} {r.target}" for r in answer.rdatas),
    )
    if not answer.rdatas:
        return RecordCheck(record, V.MISSING, found, answer.why_none("SRV"))
    if any(r.port == record.port and _host(r.target) == record.target for r in answer.rdatas):
        return RecordCheck(record, V.OK, found)
    return RecordCheck(
        record, V.MISMATCH, found, f"no record has port {record.port} and target {record.target}"
    )


def _check_txt(lookup: _Lookup, record: ExpectedRecord) -> RecordCheck:
    if not record.text:
        return RecordCheck(record, V.NOT_APPLICABLE, detail="not a tenant's domain")
    answers: list[_Answer] = []
    unknown = ""
    for index, name in enumerate((record.name, record.also_at)):
        try:
            answer = lookup.resolve(_name(name), dns.rdatatype.TXT)
        except _Unknown as exc:
            unknown = unknown or exc.reason
            continue
        values = [b"".join(r.strings).decode("utf-8", "replace").strip() for r in answer.rdatas]
        if index == 1:  # at the domain itself only ownership values matter, not SPF and friends
            values = [v for v in values if v.lower().startswith(OWNERSHIP_PREFIX)]
        answer.texts = [f'"{v}"' for v in values]
        if any(v.lower() == record.text.lower() for v in values):
            return RecordCheck(record, V.OK, (*answer.cnames, *answer.texts))
        answers.append(answer)
    if unknown:
        return RecordCheck(record, V.UNKNOWN, detail=unknown)
    for answer in answers:
        if answer.texts:
            return RecordCheck(
                record, V.MISMATCH, (*answer.cnames, *answer.texts), "no value matches the code"
            )
    primary = answers[0]
    return RecordCheck(record, V.MISSING, tuple(primary.cnames), primary.why_none("TXT"))


def _name(text: str) -> dns.name.Name:
    # Bytes, so dnspython never applies IDNA: the stored A-label form is queried as it is.
    return dns.name.from_text(text.encode("ascii"))


def _host(target: dns.name.Name) -> str:
    return target.to_text(omit_final_dot=True).lower()


# Lookups ----------------------------------------------------------------------------------------


class _Unknown(Exception):
    """No verdict possible: timeout, SERVFAIL, no server answered."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass
class _Answer:
    rdatas: list = field(default_factory=list)  # of the asked type, at the end of the chain
    cnames: list[str] = field(default_factory=list)  # "CNAME target." per alias on the way
    nxdomain: bool = False
    broken: str = ""  # a CNAME loop or a chain too long
    texts: list[str] = field(default_factory=list)

    def why_none(self, rdtype: str) -> str:
        if self.broken:
            return self.broken
        if self.nxdomain:
            return (
                "the CNAME leads to a name that does not exist" if self.cnames else "no such name"
            )
        if self.cnames:
            return f"the CNAME leads to a name with no {rdtype} record"
        return f"no {rdtype} record at this name"


@dataclass
class _Lookup:
    """The lookups of one domain check: where to ask, how long, and servers found so far."""

    nameservers: Nameservers | None  # None: the authoritative servers
    timeout: float
    lifetime: float
    zone_servers: dict[dns.name.Name, tuple[str, ...]] = field(default_factory=dict)

    def resolve(self, name: dns.name.Name, rdtype: dns.rdatatype.RdataType) -> _Answer:
        """Records of `rdtype` at `name`, following CNAMEs; raises _Unknown."""
        deadline = time.monotonic() + self.lifetime
        answer = _Answer()
        seen = {name}
        for _hop in range(MAX_CNAME_HOPS):
            servers, port = self._servers_for(name, deadline)
            response = self._ask(name, rdtype, servers, port, deadline)
            direct = _direct_answer(response, name, rdtype)
            if direct is not None:  # the common case, without the cost of following chains
                answer.rdatas = direct
                return answer
            try:
                chain = response.resolve_chaining()
            except dns.message.ChainTooLong:
                answer.broken = "the CNAME chain is too long"
                return answer
            except dns.exception.DNSException as exc:
                raise _Unknown(f"a malformed answer ({exc})") from exc
            answer.cnames.extend(f"CNAME {crrset[0].target}" for crrset in chain.cnames)
            if chain.answer is not None:
                answer.rdatas = list(chain.answer)
                return answer
            if response.rcode() == dns.rcode.NXDOMAIN:
                answer.nxdomain = True
                return answer
            if chain.canonical_name == name or _has_soa(response):
                if self.nameservers is None and _is_referral(response):
                    raise _Unknown(f"the servers of {name} sent a referral, not an answer")
                return answer
            # The chain leaves what this server holds: ask where its end lives.
            name = chain.canonical_name
            if name in seen:
                answer.broken = "the CNAME chain loops"
                return answer
            seen.add(name)
        answer.broken = "the CNAME chain is too long"
        return answer

    def _servers_for(self, name: dns.name.Name, deadline: float) -> tuple[tuple[str, ...], int]:
        if self.nameservers is not None:
            return self.nameservers.addresses, self.nameservers.port
        servers = authoritative_servers(
            name, timeout=self.timeout, deadline=deadline, cache=self.zone_servers
        )
        return servers, AUTHORITATIVE_PORT

    def _ask(
        self,
        name: dns.name.Name,
        rdtype: dns.rdatatype.RdataType,
        servers: Sequence[str],
        port: int,
        deadline: float,
    ) -> dns.message.Message:
        """One question to the servers in turn, in rounds until the deadline; the first
        NOERROR or NXDOMAIN answer wins. A server that fails otherwise is not asked again."""
        query = dns.message.make_query(name, rdtype, use_edns=0, payload=EDNS_PAYLOAD)
        problems: dict[str, str] = {}
        candidates = list(servers)
        while candidates and time.monotonic() < deadline:
            for server in tuple(candidates):
                try:
                    response = self._exchange(query, server, port, deadline)
                except dns.exception.Timeout:
                    problems[server] = f"no answer from {server} (timeout)"
                    continue
                except (OSError, dns.exception.DNSException) as exc:
                    problems[server] = f"no answer from {server} ({type(exc).__name__})"
                    candidates.remove(server)
                    continue
                rcode = response.rcode()
                if rcode in (dns.rcode.NOERROR, dns.rcode.NXDOMAIN):
                    return response
                problems[server] = f"{dns.rcode.to_text(rcode)} from {server}"
                candidates.remove(server)
        raise _Unknown("; ".join(problems.values()) or "no server answered in time")

    def _exchange(
        self, query: dns.message.Message, server: str, port: int, deadline: float
    ) -> dns.message.Message:
        left = deadline - time.monotonic()
        if left <= 0:
            raise dns.exception.Timeout
        try:
            return dns.query.udp(
                query,
                server,
                timeout=min(self.timeout, left),
                port=port,
                ignore_unexpected=True,
                raise_on_truncation=True,
            )
        except dns.message.Truncated:
            left = deadline - time.monotonic()
            if left <= 0:
                raise dns.exception.Timeout from None
            return dns.query.tcp(query, server, timeout=min(self.timeout, left), port=port)


def _direct_answer(
    response: dns.message.Message, name: dns.name.Name, rdtype: dns.rdatatype.RdataType
) -> list | None:
    """The records when the answer is exactly one RRset of the asked name and type."""
    if response.rcode() != dns.rcode.NOERROR or len(response.answer) != 1:
        return None
    rrset = response.answer[0]
    if rrset.rdtype != rdtype or rrset.rdclass != dns.rdataclass.IN or rrset.name != name:
        return None
    return list(rrset)


def _has_soa(response: dns.message.Message) -> bool:
    """A negative answer with the zone's SOA is definitive (RFC 2308) for the chain's end."""
    return any(rrset.rdtype == dns.rdatatype.SOA for rrset in response.authority)


def _is_referral(response: dns.message.Message) -> bool:
    """Not an answer but "ask them": no AA flag, no SOA, the NS records of a zone below."""
    return (
        not response.flags & dns.flags.AA
        and not _has_soa(response)
        and any(rrset.rdtype == dns.rdatatype.NS for rrset in response.authority)
    )


# Finding the authoritative servers -------------------------------------------------------------

_system_resolver: dns.resolver.Resolver | None = None
_system_resolver_lock = threading.Lock()


def system_resolver() -> dns.resolver.Resolver:
    """The machine's resolver (/etc/resolv.conf), shared by threads, with an answer cache."""
    global _system_resolver
    with _system_resolver_lock:
        if _system_resolver is None:
            resolver = dns.resolver.Resolver()
            resolver.cache = dns.resolver.LRUCache(SYSTEM_RESOLVER_CACHE_SIZE)
            _system_resolver = resolver
        return _system_resolver


def authoritative_servers(
    name: dns.name.Name,
    *,
    timeout: float,
    deadline: float,
    cache: dict[dns.name.Name, tuple[str, ...]] | None = None,
    resolver: dns.resolver.Resolver | None = None,
) -> tuple[str, ...]:
    """The addresses of the servers authoritative for `name`: walk up from it to the zone cut
    (the first name with NS records) with NS lookups through the system resolver."""
    cache = {} if cache is None else cache
    try:
        resolver = resolver or system_resolver()
    except dns.exception.DNSException as exc:
        raise _Unknown(f"no system resolver to find the name servers ({exc})") from exc
    walked = []
    candidate = name
    while candidate not in cache:
        walked.append(candidate)
        ns_names = _ns_names(candidate, resolver, timeout, deadline)
        if ns_names:
            cache[candidate] = _addresses(candidate, ns_names, resolver, timeout, deadline)
            break
        if candidate == dns.name.root:
            raise _Unknown("no name servers found, not even for the root")
        candidate = candidate.parent()
    for walked_name in walked:
        cache[walked_name] = cache[candidate]
    return cache[candidate]


def _system_answer(
    resolver: dns.resolver.Resolver,
    name: dns.name.Name,
    rdtype: dns.rdatatype.RdataType,
    timeout: float,
    deadline: float,
) -> dns.resolver.Answer | None:
    """None for NXDOMAIN; an Answer (maybe without records) otherwise; _Unknown on failure."""
    left = deadline - time.monotonic()
    if left <= 0:
        raise _Unknown(f"no time left to find the name servers for {name}")
    resolver.timeout = timeout
    try:
        return resolver.resolve(name, rdtype, raise_on_no_answer=False, lifetime=left)
    except dns.resolver.NXDOMAIN:
        return None
    except dns.exception.DNSException as exc:
        raise _Unknown(f"could not find the name servers for {name} ({exc})") from exc


def _ns_names(
    name: dns.name.Name, resolver: dns.resolver.Resolver, timeout: float, deadline: float
) -> list[dns.name.Name]:
    answer = _system_answer(resolver, name, dns.rdatatype.NS, timeout, deadline)
    if answer is None:
        return []
    # NS owned by this very name: an alias's NS records do not make a zone cut here
    rrset = answer.response.get_rrset(
        answer.response.answer, name, dns.rdataclass.IN, dns.rdatatype.NS
    )
    return [rdata.target for rdata in rrset] if rrset else []


def _addresses(
    zone: dns.name.Name,
    ns_names: Sequence[dns.name.Name],
    resolver: dns.resolver.Resolver,
    timeout: float,
    deadline: float,
) -> tuple[str, ...]:
    ipv4: list[str] = []
    ipv6: list[str] = []
    for ns_name in ns_names:
        for rdtype, found in ((dns.rdatatype.A, ipv4), (dns.rdatatype.AAAA, ipv6)):
            try:
                answer = _system_answer(resolver, ns_name, rdtype, timeout, deadline)
            except _Unknown:
                continue  # another name server may do
            if answer is not None and answer.rrset is not None:
                found.extend(rdata.address for rdata in answer.rrset)
    addresses = tuple(dict.fromkeys(ipv4 + ipv6))  # IPv4 first: not every host routes IPv6
    if not addresses:
        raise _Unknown(f"no address found for the name servers of {zone}")
    return addresses
