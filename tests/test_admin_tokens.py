"""Staff and tokens: the panel shows fingerprints only; new links and revocation by action."""

import re

import pytest
from django.contrib.messages import get_messages
from django.core.management import call_command
from django.core.management.base import CommandError
from django.urls import reverse

from onboarding.infra import encryption
from onboarding.models import EmailKind, OutboundEmail, TenantStatus, UploadInvitation
from onboarding.services import invitations, lifecycle, tenant_creation, tokens
from onboarding.services.audit import Actor
from onboarding.services.tenant_creation import CallingDomainSpec

pytestmark = pytest.mark.django_db

LIST_URL = reverse("admin:onboarding_tenant_changelist")
TOKEN = "admin-panel-token-5e3c"


def active_tenant():
    tenant = tenant_creation.tenant_create(
        name="Acme",
        main_contact_email="it@acme.test",
        calling_domains=[CallingDomainSpec(option="onpexip", domain="acme")],
        actor=Actor.system("test"),
    ).tenant
    lifecycle.tenant_enable(tenant=tenant, actor=Actor.system("test"))
    invitation = UploadInvitation.objects.get(tenant=tenant)
    tokens.token_store(invitation=invitation, token=TOKEN, actor=Actor.customer("198.51.100.9"))
    tenant.refresh_from_db()
    return tenant


def test_the_tenant_page_shows_the_fingerprint_time_and_ip_never_the_token(staff_client):
    tenant = active_tenant()

    page = staff_client.get(reverse("admin:onboarding_tenant_change", args=[tenant.pk]))

    html = page.content.decode()
    assert encryption.fingerprint(TOKEN) in html
    assert "198.51.100.9" in html
    assert TOKEN not in html


def test_issuing_a_new_link_emails_it_and_shows_it_once(staff_client):
    tenant = active_tenant()

    response = staff_client.post(
        LIST_URL, {"action": "issue_upload_links", "_selected_action": [tenant.pk]}, follow=True
    )

    [message] = [str(m) for m in get_messages(response.wsgi_request)]
    newest = UploadInvitation.objects.filter(tenant=tenant).first()
    assert "http://testserver/upload/" in message
    signed = re.search(r"/upload/([^/<\s]+)/", message).group(1)
    assert invitations.invitation_check(signed).invitation == newest
    assert OutboundEmail.objects.filter(kind=EmailKind.NEW_LINK, tenant=tenant).count() == 1


def test_revoking_the_token_invites_the_tenant_again(staff_client):
    tenant = active_tenant()

    staff_client.post(LIST_URL, {"action": "revoke_tokens", "_selected_action": [tenant.pk]})

    tenant.refresh_from_db()
    assert tenant.status == TenantStatus.INVITED
    assert tenant.audit_events.filter(action="token_revoked", actor_label="staff").exists()
    assert OutboundEmail.objects.filter(kind=EmailKind.NEW_LINK, tenant=tenant).count() == 1


def test_revoking_without_a_token_is_refused_with_a_message(staff_client):
    tenant = active_tenant()
    tokens.token_revoke(tenant=tenant, actor=Actor.system())

    response = staff_client.post(
        LIST_URL, {"action": "revoke_tokens", "_selected_action": [tenant.pk]}, follow=True
    )

    assert any("cannot be revoked" in str(m) for m in get_messages(response.wsgi_request))


def test_issue_upload_link_prints_a_working_link(capsys):
    tenant = active_tenant()

    call_command("issue_upload_link", tenant.name)

    url = capsys.readouterr().out.strip()
    signed = url.removeprefix("http://testserver/upload/").rstrip("/")
    assert invitations.invitation_check(signed).outcome is invitations.LinkOutcome.VALID


def test_issue_upload_link_refuses_a_suspended_tenant():
    tenant = active_tenant()
    lifecycle.tenant_suspend(tenant=tenant, actor=Actor.system())

    with pytest.raises(CommandError, match="issued only to invited or active tenants"):
        call_command("issue_upload_link", str(tenant.pk))


def test_staff_preview_every_email_with_a_placeholder_for_the_link(staff_client):
    tenant = active_tenant()
    before = UploadInvitation.objects.count()

    page = staff_client.get(reverse("admin:onboarding_tenant_email_previews", args=[tenant.pk]))

    html = page.content.decode()
    assert page.status_code == 200
    assert "a fresh link is issued when sent" in html
    for kind in (
        EmailKind.INITIAL,
        EmailKind.REMINDER,
        EmailKind.NEW_LINK,
        EmailKind.CONFIRMATION,
        EmailKind.TOKEN_REPLACED,
        EmailKind.EMAIL_FAILED,
    ):
        assert f'id="preview-{kind}"' in html
    assert html.count('class="email-text"') == html.count('class="email-html"') >= 6
    assert UploadInvitation.objects.count() == before
    assert TOKEN not in html
