"""DNS servers the tests run on loopback: an authoritative server (dnslib, UDP and TCP, in
threads) whose records the test edits while it runs, one that answers SERVFAIL, and a socket
that never answers. The portal queries them with dnspython over the wire, as it queries the
internet's servers; nothing here imitates dnspython.
"""

from __future__ import annotations

import socket
import threading
import time
from collections import Counter

from dnslib import QTYPE, RCODE, RR, SOA, DNSRecord
from dnslib.server import BaseResolver, DNSHandler, DNSLogger, DNSServer

# The zones the server is authoritative for; names outside them are REFUSED.
DEFAULT_ZONES = ("test", "example")
# Longest chain of aliases the server follows inside its own zones before it stops.
MAX_CHAIN = 8


class _Handler(DNSHandler):
    udplen = 512  # classic DNS: longer UDP answers are truncated, the client retries over TCP


class AuthoritativeResolver(BaseResolver):
    """Answers from an in-memory record set, as an authoritative server does: the AA flag,
    CNAME chains followed inside its zones, NXDOMAIN for names that do not exist and NODATA
    (NOERROR, no answer, the SOA in authority) for names that exist without the asked type,
    including empty non-terminals such as `_tcp.video.acme.test`."""

    def __init__(self, zones: tuple[str, ...] = DEFAULT_ZONES, servfail_all: bool = False) -> None:
        self.zones = zones
        self.servfail_all = servfail_all
        self.lock = threading.Lock()
        self.records: dict[tuple[str, int], list[RR]] = {}
        self.servfail_names: set[str] = set()
        self.queries: Counter[tuple[str, str]] = Counter()
        self.delay = 0.0

    # Editing -----------------------------------------------------------------------------------

    def add(self, *zone_lines: str) -> None:
        """Add records written as zone-file lines, e.g.
        `_sip._tcp.acme.test. 60 IN SRV 10 10 5060 gw.provider.test.`"""
        with self.lock:
            for line in zone_lines:
                for rr in RR.fromZone(line):
                    self.records.setdefault((_key(rr.rname), rr.rtype), []).append(rr)

    def remove(self, name: str, rtype: str | None = None) -> None:
        with self.lock:
            for key in [k for k in self.records if k[0] == _key(name)]:
                if rtype is None or key[1] == getattr(QTYPE, rtype):
                    del self.records[key]

    def servfail(self, name: str) -> None:
        """Answer SERVFAIL for this name from now on (a broken zone for one record)."""
        with self.lock:
            self.servfail_names.add(_key(name))

    def reset(self) -> None:
        with self.lock:
            self.records.clear()
            self.servfail_names.clear()
            self.queries.clear()
            self.delay = 0.0

    def query_count(self, name: str, rtype: str | None = None) -> int:
        with self.lock:
            return sum(
                count
                for (queried, qtype), count in self.queries.items()
                if queried == _key(name) and rtype in (None, qtype)
            )

    # Answering ---------------------------------------------------------------------------------

    def resolve(self, request: DNSRecord, handler: DNSHandler) -> DNSRecord:
        reply = request.reply(ra=0, aa=1)
        name, qtype = _key(request.q.qname), request.q.qtype
        with self.lock:
            self.queries[(name, QTYPE[qtype])] += 1
            delay = self.delay
        if delay:
            time.sleep(delay)
        with self.lock:
            if self.servfail_all or name in self.servfail_names:
                reply.header.rcode = RCODE.SERVFAIL
            elif self._zone_of(name) is None:
                reply.header.rcode = RCODE.REFUSED
            else:
                self._answer(reply, name, qtype)
        return reply

    def _answer(self, reply: DNSRecord, name: str, qtype: int) -> None:
        for _hop in range(MAX_CHAIN):
            found = self.records.get((name, qtype))
            if found:
                reply.add_answer(*found)
                return
            aliases = self.records.get((name, QTYPE.CNAME))
            if not aliases or qtype == QTYPE.CNAME:
                break
            reply.add_answer(*aliases)
            name = _key(aliases[0].rdata.label)
            if self._zone_of(name) is None:
                return  # the chain leaves our zones: the client asks elsewhere
        zone = self._zone_of(name)
        if zone is None:
            return
        if not self._exists(name):
            reply.header.rcode = RCODE.NXDOMAIN
        reply.add_auth(
            RR(
                f"{zone}.",
                QTYPE.SOA,
                ttl=60,
                rdata=SOA(f"ns.{zone}.", f"hostmaster.{zone}.", (1, 3600, 600, 86400, 60)),
            )
        )

    def _zone_of(self, name: str) -> str | None:
        for zone in self.zones:
            if name == zone or name.endswith("." + zone):
                return zone
        return None

    def _exists(self, name: str) -> bool:
        return any(owner == name or owner.endswith("." + name) for owner, _t in self.records)


def _key(name: object) -> str:
    return str(name).lower().rstrip(".")


class DnsServer:
    """The resolver above behind real UDP and TCP sockets on one free loopback port."""

    def __init__(self, resolver: AuthoritativeResolver | None = None) -> None:
        self.resolver = resolver or AuthoritativeResolver()
        self.port = 0
        self.servers: list[DNSServer] = []

    def __getattr__(self, name: str):  # add, remove, reset, queries... of the resolver
        return getattr(self.resolver, name)

    def start(self) -> DnsServer:
        logger = DNSLogger(log="-request,-reply,-truncated,-error", prefix=False)
        for _attempt in range(20):
            udp = DNSServer(
                self.resolver, address="127.0.0.1", port=0, logger=logger, handler=_Handler
            )
            self.port = udp.server.server_address[1]
            try:
                tcp = DNSServer(
                    self.resolver,
                    address="127.0.0.1",
                    port=self.port,
                    tcp=True,
                    logger=logger,
                    handler=_Handler,
                )
            except OSError:  # that port is taken for TCP: try another
                udp.server.server_close()
                continue
            self.servers = [udp, tcp]
            for server in self.servers:
                server.start_thread()
            return self
        raise RuntimeError("no free loopback port for both UDP and TCP")

    def stop(self) -> None:
        for server in self.servers:
            server.stop()
            server.server.server_close()
        self.servers = []


class SilentDnsServer:
    """A UDP socket and a TCP listener that take queries and never answer: a timeout."""

    def __init__(self) -> None:
        for _attempt in range(20):
            self.udp = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
            self.udp.bind(("127.0.0.1", 0))
            self.port = self.udp.getsockname()[1]
            self.tcp = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            try:
                self.tcp.bind(("127.0.0.1", self.port))
            except OSError:  # that port is taken for TCP: try another
                self.udp.close()
                self.tcp.close()
                continue
            self.tcp.listen()
            return
        raise RuntimeError("no free loopback port for both UDP and TCP")

    def stop(self) -> None:
        self.udp.close()
        self.tcp.close()
