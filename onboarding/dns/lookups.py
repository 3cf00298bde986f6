"""DNS lookups for the checks in dns.py: one question at a time to the servers that decide.

Either the servers named in DNS_NAMESERVERS, or the domain's authoritative servers, found by
walking up to the zone cut with NS lookups through the system resolver. CNAMEs are followed,
and every failure that allows no verdict (timeout, SERVFAIL, no server answered) raises
LookupUnknown. A sweep runs thousands of these in a thread pool, so the common path (one
NOERROR answer of the asked type) does as little as it can beside dnspython's own work.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import cast

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
class Nameservers:
    """Servers to ask instead of each domain's authoritative ones."""

    addresses: tuple[str, ...]
    port: int = AUTHORITATIVE_PORT


def configured_nameservers() -> Nameservers | None:
    if settings.DNS_NAMESERVERS:
        return Nameservers(tuple(settings.DNS_NAMESERVERS), settings.DNS_PORT)
    return None


def absolute_name(text: str) -> dns.name.Name:
    """`text` (absolute, stored ASCII form) as a Name, never IDNA-encoded again.

    Splitting on the dots costs a fraction of from_text's character-by-character parse, and a
    sweep builds four names per domain; text with escapes or without the final dot (never a
    stored domain) takes from_text's way. Both refuse empty and over-long labels alike.
    """
    if "\\" in text or not text.endswith("."):
        return dns.name.from_text(text.encode("ascii"))
    return dns.name.Name(text.encode("ascii").split(b"."))


class LookupUnknown(Exception):
    """No verdict possible: timeout, SERVFAIL, no server answered."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass
class LookupAnswer:
    rdatas: list = field(default_factory=list)  # of the asked type, at the end of the chain
    cnames: list[str] = field(default_factory=list)  # "CNAME target." per alias on the way
    nxdomain: bool = False
    broken: str = ""  # a CNAME loop or a chain too long

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
class Lookup:
    """The lookups of one domain check: where to ask, how long, and servers found so far."""

    nameservers: Nameservers | None  # None: the authoritative servers
    timeout: float
    lifetime: float
    zone_servers: dict[dns.name.Name, tuple[str, ...]] = field(default_factory=dict)

    def resolve(self, name: dns.name.Name, rdtype: dns.rdatatype.RdataType) -> LookupAnswer:
        """Records of `rdtype` at `name`, following CNAMEs; raises LookupUnknown."""
        deadline = time.monotonic() + self.lifetime
        answer = LookupAnswer()
        seen = {name}
        for _hop in range(MAX_CNAME_HOPS):
            servers, port = self._servers_for(name, deadline)
            response = self._ask(name, rdtype, servers, port, deadline)
            direct = _direct_answer(response, name, rdtype)
            if direct is not None:  # the common case, without the cost of following chains
                answer.rdatas = direct
                return answer
            try:
                # dnspython types every reply as a Message; a reply to a query is a QueryMessage
                chain = cast(dns.message.QueryMessage, response).resolve_chaining()
            except dns.message.ChainTooLong:
                answer.broken = "the CNAME chain is too long"
                return answer
            except dns.exception.DNSException as exc:
                raise LookupUnknown(f"a malformed answer ({exc})") from exc
            answer.cnames.extend(f"CNAME {crrset[0].target}" for crrset in chain.cnames)
            if chain.answer is not None:
                answer.rdatas = list(chain.answer)
                return answer
            if response.rcode() == dns.rcode.NXDOMAIN:
                answer.nxdomain = True
                return answer
            if chain.canonical_name == name or _has_soa(response):
                if self.nameservers is None and _is_referral(response):
                    raise LookupUnknown(f"the servers of {name} sent a referral, not an answer")
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
        raise LookupUnknown("; ".join(problems.values()) or "no server answered in time")

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
    if len(response.answer) != 1 or response.rcode() != dns.rcode.NOERROR:
        return None
    rrset = response.answer[0]
    if rrset.rdtype != rdtype or rrset.rdclass != dns.rdataclass.IN:
        return None
    # Equal labels are the usual case; Name's comparison (case-insensitive, label by label in
    # Python) decides only when they differ.
    if rrset.name.labels != name.labels and rrset.name != name:
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
        raise LookupUnknown(f"no system resolver to find the name servers ({exc})") from exc
    walked = []
    candidate = name
    while candidate not in cache:
        walked.append(candidate)
        ns_names = _ns_names(candidate, resolver, timeout, deadline)
        if ns_names:
            cache[candidate] = _addresses(candidate, ns_names, resolver, timeout, deadline)
            break
        if candidate == dns.name.root:
            raise LookupUnknown("no name servers found, not even for the root")
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
    """None for NXDOMAIN; an Answer (maybe without records) otherwise; LookupUnknown on failure."""
    left = deadline - time.monotonic()
    if left <= 0:
        raise LookupUnknown(f"no time left to find the name servers for {name}")
    resolver.timeout = timeout
    try:
        return resolver.resolve(name, rdtype, raise_on_no_answer=False, lifetime=left)
    except dns.resolver.NXDOMAIN:
        return None
    except dns.exception.DNSException as exc:
        raise LookupUnknown(f"could not find the name servers for {name} ({exc})") from exc


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
            except LookupUnknown:
                continue  # another name server may do
            if answer is not None and answer.rrset is not None:
                found.extend(rdata.address for rdata in answer.rrset)
    addresses = tuple(dict.fromkeys(ipv4 + ipv6))  # IPv4 first: not every host routes IPv6
    if not addresses:
        raise LookupUnknown(f"no address found for the name servers of {zone}")
    return addresses
