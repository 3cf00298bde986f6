"""DNS checks in the staff admin: a table per own calling domain on the tenant page, the
"check DNS now" action, a drift badge in the tenant list, and a read-only list of every
record's latest verdict. The checks themselves run in sweep.py, as for the sweeper."""

from __future__ import annotations

from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils.html import format_html, format_html_join

from onboarding.admin.common import ReadOnlyAdminMixin
from onboarding.dns import sweep
from onboarding.domain import domain_names
from onboarding.models import CallingDomain, DnsCheck, DnsVerdict, DomainVerdict, Tenant

# Colours live in static/onboarding/admin.css: the admin's CSP allows no inline style.
VERDICT_CLASSES: dict[str, str] = {
    DnsVerdict.OK: "verdict-ok",
    DnsVerdict.MISSING: "verdict-act",
    DnsVerdict.MISMATCH: "verdict-act",
    DnsVerdict.UNKNOWN: "verdict-unknown",
}
MESSAGE_LEVELS: dict[str, int] = {
    DomainVerdict.OK: messages.SUCCESS,
    DomainVerdict.CUSTOMER_MUST_ACT: messages.WARNING,
    DomainVerdict.UNKNOWN: messages.WARNING,
}


def _own_domains(tenant: Tenant) -> list[CallingDomain]:
    return [d for d in tenant.calling_domains.all() if d.needs_dns and d.retired_at is None]


def dns_table(tenant: Tenant) -> str:
    """Per own calling domain: its state and a row per expected record."""
    domains = _own_domains(tenant)
    if not domains:
        return "No own domain: nothing to check."
    return format_html_join("", "{}", ((_domain_table(d),) for d in domains))


def domain_dns_state(calling_domain: CallingDomain) -> str:
    if calling_domain.drift_flagged_at:
        return f"records changed (flagged {calling_domain.drift_flagged_at:%Y-%m-%d %H:%M})"
    if calling_domain.verified_at:
        return f"verified {calling_domain.verified_at:%Y-%m-%d %H:%M}"
    return "not verified yet"


def _domain_table(calling_domain: CallingDomain) -> str:
    next_check = (
        f"{calling_domain.next_check_at:%Y-%m-%d %H:%M}" if calling_domain.next_check_at else "-"
    )
    rows = format_html_join(
        "",
        "<tr><td><code>{}</code></td><td>{}</td><td><code>{}</code></td><td>{}</td>"
        '<td class="verdict {}">{}</td><td>{}</td><td>{}</td></tr>',
        (
            (
                row.name,
                row.rdtype,
                row.expected,
                row.found or "-",
                VERDICT_CLASSES.get(row.verdict, ""),
                row.verdict_label,
                f"{row.checked_at:%Y-%m-%d %H:%M}" if row.checked_at else "-",
                next_check,
            )
            for row in sweep.dns_status_table(calling_domain)
        ),
    )
    return format_html(
        '<table class="dns-checks"><caption>{} ({}); the TXT '
        "record must stay after verification</caption><thead><tr><th>Record</th><th>Type</th>"
        "<th>Expected</th><th>Found</th><th>Verdict</th><th>Checked at (UTC)</th>"
        "<th>Next check (UTC)</th></tr></thead><tbody>{}</tbody></table>",
        domain_names.display_domain(calling_domain.domain),
        domain_dns_state(calling_domain),
        rows,
    )


@admin.display(description="DNS")
def dns_attention(tenant: Tenant) -> str:
    """A badge in the tenant list when an own domain's records disappeared or changed."""
    flagged = [d for d in _own_domains(tenant) if d.drift_flagged_at]
    if not flagged:
        return ""
    return format_html(
        '<span class="dns-drift-badge alert-badge" title="{}">DNS records changed</span>',
        ", ".join(d.domain for d in flagged),
    )


@admin.action(
    description="Check DNS now (own domains of the selected tenants)", permissions=["check_dns"]
)
def check_dns_now(modeladmin: admin.ModelAdmin, request: HttpRequest, queryset: QuerySet) -> None:
    domains = list(
        CallingDomain.objects.in_use().own().filter(tenant__in=queryset).select_related("tenant")
    )
    if not domains:
        modeladmin.message_user(
            request, "None of the selected tenants has an own domain to check.", messages.INFO
        )
        return
    for calling_domain, check in sweep.calling_domains_check_now(domains):
        problems = "; ".join(
            f"{r.expected.name} {r.expected.rdtype} {DnsVerdict(r.verdict).label}"
            + (f" ({r.found_display})" if r.found_display else "")
            for r in check.records
            if r.verdict != DnsVerdict.OK
        )
        modeladmin.message_user(
            request,
            f"{domain_names.display_domain(calling_domain.domain)} ({calling_domain.tenant.name}): "
            f"{DomainVerdict(check.verdict).label}" + (f": {problems}" if problems else "."),
            MESSAGE_LEVELS[check.verdict],
        )


@admin.register(DnsCheck)
class DnsCheckAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    """Every own domain's latest verdict per record, read-only; the checks write these rows."""

    list_display = [
        "record_name",
        "record_type",
        "tenant",
        "verdict",
        "expected_value",
        "found_display",
        "checked_at",
    ]
    list_filter = ["verdict", "record_type"]
    search_fields = ["record_name", "calling_domain__tenant__name"]
    list_select_related = ["calling_domain__tenant"]

    @admin.display(description="Tenant", ordering="calling_domain__tenant__name")
    def tenant(self, check: DnsCheck) -> str:
        return check.calling_domain.tenant.name

    @admin.display(description="Found")
    def found_display(self, check: DnsCheck) -> str:
        return check.found_display
