"""The customer's DNS status page and the DNS instructions email, against a real DNS server."""

import pytest
from django.core import signing

from onboarding.mail import outbox
from onboarding.models import CallingDomain, EmailKind, OutboundEmail
from onboarding.services import invitations, lifecycle, tenant_creation
from onboarding.services.audit import Actor
from onboarding.services.tenant_creation import CallingDomainSpec

pytestmark = pytest.mark.django_db


def own_tenant(name="Acme", domain="video.acme.test"):
    return tenant_creation.tenant_create(
        name=name,
        main_contact_email=f"it@{name.lower()}.test",
        token_upload_contacts=[f"admin@{name.lower()}.test"],
        calling_domains=[CallingDomainSpec(option="own", domain=domain)],
        actor=Actor.system("test"),
    ).tenant


def status_path(tenant):
    return invitations.dns_status_url(tenant).removeprefix("http://testserver")


def publish_all(server, calling_domain):

    for record in calling_domain.expected_records():
        server.add(record.zone_line)


def test_an_own_domain_tenant_is_sent_the_dns_instructions_once(smtp_sink):
    tenant = own_tenant()
    lifecycle.tenant_domains_changed(tenant, actor=Actor.system())

    [row] = OutboundEmail.objects.filter(kind=EmailKind.DNS_INSTRUCTIONS)
    outbox.email_send([row.pk])
    [message] = smtp_sink.messages
    code = CallingDomain.objects.get(tenant=tenant).ownership_code
    assert message["To"] == "admin@acme.test"
    for part in (
        message.get_body(("plain",)).get_content(),
        message.get_body(("html",)).get_content(),
    ):
        for phrase in (
            "_sips._tcp.video.acme.test.",
            "5061",
            "_sip._tcp.video.acme.test.",
            "_h323cs._tcp.video.acme.test.",
            "1720",
            "gateway.example.com",
            f"pexip-verification={code}",
            "the record must stay",
            "http://testserver/dns-status/",
            "support@provider.test",
        ):
            assert phrase in part, phrase


def test_a_shared_domain_tenant_gets_no_dns_instructions():
    tenant_creation.tenant_create(
        name="Globex",
        main_contact_email="it@globex.test",
        calling_domains=[CallingDomainSpec(option="shared")],
        actor=Actor.system(),
    )

    assert not OutboundEmail.objects.filter(kind=EmailKind.DNS_INSTRUCTIONS).exists()


def test_the_page_lists_the_records_with_plain_fix_hints(client):
    tenant = own_tenant()

    response = client.get(status_path(tenant))

    page = response.content.decode()
    assert response.status_code == 200
    assert response["Cache-Control"] == "no-store"
    assert "_sip._tcp.video.acme.test. 3600 IN SRV 10 10 5060 gateway.example.com." in page
    assert "Add this record" in page
    assert "Keep it after verification" in page
    assert "not verified yet" in page


def test_check_again_verifies_published_records(client, dns_server):
    tenant = own_tenant()
    calling_domain = CallingDomain.objects.get(tenant=tenant)
    publish_all(dns_server, calling_domain)

    response = client.post(status_path(tenant), follow=True)

    calling_domain.refresh_from_db()
    assert calling_domain.verified_at is not None
    assert "This record is in place" in response.content.decode()
    assert ">verified<" in response.content.decode()


def test_a_wrong_target_is_explained_in_words(client, dns_server):
    tenant = own_tenant()
    dns_server.add("_sip._tcp.video.acme.test. 300 IN SRV 10 10 5060 old-pbx.acme.test.")

    page = client.post(status_path(tenant), follow=True).content.decode()

    assert "points to old-pbx.acme.test on port 5060; it must point to gateway.example.com" in page


def test_an_upload_link_never_revokes_the_dns_status_link(client):
    tenant = own_tenant()
    path = status_path(tenant)
    CallingDomain.objects.filter(tenant=tenant).update(verified_at="2030-01-01T00:00Z")
    lifecycle.tenant_enable(tenant=tenant, actor=Actor.system())
    invitations.invitation_issue(tenant=tenant)

    assert client.get(path).status_code == 200


def test_a_tampered_or_foreign_salt_link_is_404(client):
    tenant = own_tenant()
    upload_signed = signing.TimestampSigner(salt=invitations.UPLOAD_SALT).sign_object(
        {"t": tenant.pk}
    )

    assert client.get(status_path(tenant)[:-4] + "xyz/").status_code == 404
    assert client.get(f"/dns-status/{upload_signed}/").status_code == 404


def test_check_again_is_rate_limited(client, settings, dns_server):
    settings.RATE_DNS_CHECK_PER_LINK = "1/m"
    path = status_path(own_tenant())

    codes = [client.post(path).status_code for _ in range(2)]

    assert codes == [302, 429]


def test_a_confirmation_waiting_for_an_own_domain_goes_out_when_it_verifies(dns_server):
    from onboarding.dns import sweep
    from onboarding.models import UploadInvitation
    from onboarding.services import tokens
    from tests.upload_support import gateway_confirms

    tenant = tenant_creation.tenant_create(
        name="Globex",
        main_contact_email="it@globex.test",
        calling_domains=[CallingDomainSpec(option="onpexip", domain="globex")],
        actor=Actor.system(),
    ).tenant
    lifecycle.tenant_enable(tenant=tenant, actor=Actor.system())
    own = CallingDomainSpec(option="own", domain="video.globex.test").build(tenant)
    tenant_creation.calling_domain_save(own)
    invitation = UploadInvitation.objects.get(tenant=tenant)
    tokens.token_store(invitation=invitation, token="tok", actor=Actor.customer("127.0.0.1"))
    gateway_confirms(tenant)
    assert not OutboundEmail.objects.filter(kind=EmailKind.CONFIRMATION).exists()

    publish_all(dns_server, CallingDomain.objects.get(pk=own.pk))
    sweep.dns_sweep()

    assert OutboundEmail.objects.filter(kind=EmailKind.CONFIRMATION, tenant=tenant).count() == 1


def test_a_drift_flag_holds_the_confirmation_back():
    from onboarding.services import tokens

    tenant = own_tenant()
    CallingDomain.objects.filter(tenant=tenant).update(
        verified_at="2030-01-01T00:00Z", drift_flagged_at="2030-01-02T00:00Z"
    )

    assert tokens.own_domains_ready(tenant) is False


# The salts links already in customers' inboxes were signed with: a release never changes them.


def test_a_dns_status_link_signed_with_the_published_salt_still_opens(client):
    tenant = own_tenant()
    signed = signing.TimestampSigner(salt="onboarding.dns-status").sign_object({"t": tenant.pk})

    assert client.get(f"/dns-status/{signed}/").status_code == 200


def test_upload_links_are_signed_with_the_published_salt():
    issued = invitations.invitation_issue(tenant=own_tenant())
    signed = issued.url.rstrip("/").rsplit("/", 1)[1]

    payload = signing.TimestampSigner(salt="onboarding.upload-link").unsign_object(signed)

    assert payload["i"] == issued.invitation.pk
