"""Email previews on a tenant's admin page are filled from the tenant's own data: its domains,
ownership codes and DNS records, and the latest verdicts for the staff alerts."""

from __future__ import annotations

import re

import pytest
from django.conf import settings
from django.urls import reverse

from onboarding.dns import sweep
from onboarding.models import CallingDomain, EmailKind
from tests.live_support import draft_tenant, tenant_in

pytestmark = pytest.mark.django_db

DNS_KINDS = (EmailKind.DNS_INSTRUCTIONS, EmailKind.DNS_DRIFT, EmailKind.DNS_NOT_VERIFIED)


def preview_sections(client, tenant) -> dict[str, str]:
    """Each email kind's section of the previews page, as HTML."""
    html = client.get(reverse("admin:onboarding_tenant_email_previews", args=[tenant.pk])).content
    parts = re.split(r'<section class="module email-preview" id="preview-', html.decode())[1:]
    return {part.split('"', 1)[0]: part for part in parts}


def own_domain_tenant():
    return draft_tenant("Ownco", option="own", domain="video.ownco.test")


def test_the_dns_instructions_preview_shows_the_domain_its_code_and_records(staff_client):
    tenant = own_domain_tenant()
    calling_domain = CallingDomain.objects.get(tenant=tenant)

    section = preview_sections(staff_client, tenant)[EmailKind.DNS_INSTRUCTIONS]

    assert "Action needed: publish DNS records for video.ownco.test (Ownco)" in section
    assert calling_domain.ownership_code in section
    for record in calling_domain.expected_records():
        assert record.name in section
    assert "[the tenant&#x27;s DNS status link]" in section or "DNS status link" in section


@pytest.mark.parametrize("kind", [EmailKind.DNS_DRIFT, EmailKind.DNS_NOT_VERIFIED])
def test_the_staff_dns_alerts_preview_the_latest_verdicts(staff_client, dns_server, kind):
    tenant = own_domain_tenant()
    calling_domain = CallingDomain.objects.get(tenant=tenant)
    sweep.dns_sweep()  # nothing published: every record missing

    section = preview_sections(staff_client, tenant)[kind]

    assert "video.ownco.test (Ownco)" in section
    assert "DNS pending" in section
    for record in calling_domain.expected_records():
        assert f"- {record.name} {record.rdtype}: missing" in section
    assert f"{settings.PORTAL_BASE_URL}/admin/onboarding/tenant/{tenant.pk}/change/" in section


def test_the_staff_dns_alerts_preview_before_any_check_says_so(staff_client):
    tenant = own_domain_tenant()

    section = preview_sections(staff_client, tenant)[EmailKind.DNS_NOT_VERIFIED]

    assert ": not checked yet" in section
    assert "video.ownco.test" in section


def test_the_failed_email_preview_names_the_tenant_and_its_recipients(staff_client):
    tenant = tenant_in("invited")

    section = preview_sections(staff_client, tenant)[EmailKind.EMAIL_FAILED]

    assert "Tenant:      Acme" in section
    assert "admin@acme.test" in section


@pytest.mark.parametrize("kind", DNS_KINDS)
def test_a_tenant_without_an_own_domain_is_told_it_never_gets_the_dns_emails(staff_client, kind):
    tenant = tenant_in("invited")

    section = preview_sections(staff_client, tenant)[kind]

    assert "has no own domain" in section
    assert "Subject:" not in section
