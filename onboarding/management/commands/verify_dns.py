"""`manage.py verify_dns DOMAIN [--nameserver IP] [--port N]`: check one domain's DNS now.

Prints one line per expected record (name, type, expected value, verdict, what was found) and
exits 0 when every record is ok, 3 when the customer must act (any record missing or mismatched,
even if others are unknown), 4 when the answer is unknown. 1 and 2 stay for errors and usage.
It records nothing: staff use "check DNS now" in the admin for that.
"""

from __future__ import annotations

import ipaddress
import sys
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError, CommandParser

from onboarding.dns import lookups, verdicts
from onboarding.domain import domain_names
from onboarding.models import CallingDomain, DnsVerdict, DomainVerdict, Gateway

EXIT_CODES: dict[str, int] = {
    DomainVerdict.OK: 0,
    DomainVerdict.CUSTOMER_MUST_ACT: 3,
    DomainVerdict.UNKNOWN: 4,
}


class Command(BaseCommand):
    help = (
        "Check one domain's DNS records now and print a verdict per record. Exit status: "
        "0 all ok, 3 the customer must act, 4 unknown (no usable answer)."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("domain", help="the calling domain, e.g. video.example.com")
        parser.add_argument(
            "--nameserver",
            action="append",
            default=[],
            metavar="IP",
            help="ask this server instead of the domain's authoritative ones (repeatable)",
        )
        parser.add_argument("--port", type=int, help="the port of --nameserver (default: DNS_PORT)")

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            domain = domain_names.normalize_domain_name(options["domain"])
        except ValidationError as exc:
            raise CommandError(" ".join(exc.messages)) from exc
        nameservers = _nameservers(options["nameserver"], options["port"])
        calling_domain = (
            CallingDomain.objects.in_use()
            .own()
            .filter(domain=domain)
            .select_related("tenant__gateway")
            .first()
        )
        if calling_domain is not None:
            sip_host = calling_domain.tenant.gateway.effective_sip_host
            code: str | None = calling_domain.ownership_code
        else:  # any other domain: the default gateway, and no ownership code to look for
            sip_host = Gateway.objects.get(is_default=True).effective_sip_host
            code = None
        check = verdicts.domain_check(
            domain=domain, sip_host=sip_host, ownership_code=code, nameservers=nameservers
        )
        self._print(check)
        verdict = check.verdict
        owner = f"tenant {calling_domain.tenant.name}" if calling_domain else "no tenant"
        self.stderr.write(f"{domain} ({owner}): {DomainVerdict(verdict).label}")
        if EXIT_CODES[verdict]:
            sys.exit(EXIT_CODES[verdict])

    def _print(self, check: verdicts.DomainCheck) -> None:
        lines = [
            (
                record.expected.name,
                record.expected.rdtype,
                record.expected.value,
                DnsVerdict(record.verdict).label,
                _found(record),
            )
            for record in check.records
        ]
        widths = [max(len(line[column]) for line in lines) for column in range(4)]
        for line in lines:
            padded = [value.ljust(width) for value, width in zip(line, widths, strict=False)]
            self.stdout.write("  ".join([*padded, line[4]]).rstrip())


def _found(record: verdicts.RecordCheck) -> str:
    found = "; ".join(record.found)
    if record.detail and record.verdict != DnsVerdict.OK:
        return f"{found} ({record.detail})" if found else f"({record.detail})"
    return found


def _nameservers(addresses: list[str], port: int | None) -> lookups.Nameservers | None:
    if port is not None and not 0 < port < 65536:
        raise CommandError(f"--port {port} is not a port number (1-65535).")
    for address in addresses:
        try:
            ipaddress.ip_address(address)
        except ValueError as exc:
            raise CommandError(f"--nameserver {address} is not an IP address.") from exc
    addresses = addresses or list(settings.DNS_NAMESERVERS)
    if not addresses:
        if port is not None:
            raise CommandError("--port goes with --nameserver (the server to ask on that port).")
        return None  # the domain's authoritative servers
    return lookups.Nameservers(tuple(addresses), port or settings.DNS_PORT)
