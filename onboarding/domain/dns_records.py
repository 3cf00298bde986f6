"""The DNS records an own calling domain must publish (domain.md, "DNS for own domains"): the
SRV records of DNS_EXPECTED_SRV_RECORDS pointing at the gateway's SIP/H.323 host, and the TXT
ownership record. Names are absolute and in the stored ASCII form."""

from __future__ import annotations

import functools
from dataclasses import dataclass

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

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
