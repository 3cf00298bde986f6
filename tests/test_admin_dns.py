"""DNS in the staff admin: the table per own domain, "check DNS now", the drift badge."""

import pytest
from django.contrib.messages import get_messages
from django.urls import reverse
from django.utils import timezone

from onboarding.dns import sweep
from onboarding.models import CallingDomain
from onboarding.services import tenant_creation
from onboarding.services.audit import Actor
from onboarding.services.tenant_creation import CallingDomainSpec

pytestmark = pytest.mark.django_db

LIST_URL = reverse("admin:onboarding_tenant_changelist")


def own_tenant(name="Acme", domain="video.acme.test"):
    return tenant_creation.tenant_create(
        name=name,
        main_contact_email=f"it@{name.lower()}.test",
        calling_domains=[CallingDomainSpec(option="own", domain=domain)],
        actor=Actor.system("test"),
    ).tenant


def publish(server, tenant, skip=()):
    for record in tenant.calling_domains.get().expected_records():
        if not record.name.startswith(tuple(skip)):
            server.add(record.zone_line)


def messages_of(response):
    return [str(m) for m in get_messages(response.wsgi_request)]


def test_the_tenant_page_shows_each_records_latest_verdict_and_the_next_check(
    staff_client, dns_server
):
    tenant = own_tenant()
    publish(dns_server, tenant, skip=["_h323cs"])
    sweep.dns_sweep()

    page = staff_client.get(reverse("admin:onboarding_tenant_change", args=[tenant.pk]))

    html = page.content.decode()
    assert page.status_code == 200
    assert "_h323cs._tcp.video.acme.test." in html
    assert "port 1720 target gateway.example.com." in html
    assert "missing" in html and "not verified yet" in html
    assert "Next check (UTC)" in html


def test_check_dns_now_records_the_verdicts_and_says_what_it_found(staff_client, dns_server):
    tenant = own_tenant()
    publish(dns_server, tenant, skip=["_sips"])
    data = {"action": "check_dns_now", "_selected_action": [str(tenant.pk)]}

    response = staff_client.post(LIST_URL, data, follow=True)

    [message] = messages_of(response)
    assert message.startswith("video.acme.test (Acme): customer must act: _sips._tcp.")
    assert "missing (no such name)" in message
    assert tenant.calling_domains.get().dns_checks.count() == 4


def test_check_dns_now_verifies_a_domain_whose_records_are_right(staff_client, dns_server):
    tenant = own_tenant()
    publish(dns_server, tenant)
    data = {"action": "check_dns_now", "_selected_action": [str(tenant.pk)]}

    response = staff_client.post(LIST_URL, data, follow=True)

    assert messages_of(response) == ["video.acme.test (Acme): ok."]
    assert tenant.calling_domains.get().verified_at is not None


def test_a_tenant_whose_records_drifted_carries_a_badge_in_the_list(staff_client):
    tenant = own_tenant()
    CallingDomain.objects.filter(tenant=tenant).update(drift_flagged_at=timezone.now())

    html = staff_client.get(LIST_URL).content.decode()

    assert "DNS records changed" in html


def test_the_dns_check_list_is_read_only(staff_client, dns_server):
    own_tenant()
    sweep.dns_sweep()

    listing = staff_client.get(reverse("admin:onboarding_dnscheck_changelist"))

    assert listing.status_code == 200
    assert "_sip._tcp.video.acme.test." in listing.content.decode()
    assert staff_client.get(reverse("admin:onboarding_dnscheck_add")).status_code == 403
