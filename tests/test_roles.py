"""Staff roles (Django groups kept by a post_migrate handler), proven through the admin's own
URLs: each role can do what it should (200/302) and nothing more (403, or an action refused with
a message and the tenant unchanged)."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import Group
from django.contrib.messages import get_messages
from django.urls import reverse

from onboarding.models import (
    CallingDomain,
    EmailKind,
    Gateway,
    GatewayApiKey,
    OutboundEmail,
    SecurityToken,
    Tenant,
    TenantStatus,
    UploadInvitation,
)
from onboarding.services import staff_roles, tenant_creation
from onboarding.services.staff_roles import (
    ADMINISTRATORS,
    ONBOARDING_STAFF,
    READ_ONLY,
    ensure_staff_roles,
)
from tests.conftest import otp_verified_login
from tests.live_support import edit_data, settings_changed_emails
from tests.upload_support import invited_tenant

pytestmark = pytest.mark.django_db

TENANTS = reverse("admin:onboarding_tenant_changelist")
OUTBOX = reverse("admin:onboarding_outboundemail_changelist")


def draft_tenant(name="Draft Co"):
    from onboarding.services.audit import Actor
    from onboarding.services.tenant_creation import CallingDomainSpec

    return tenant_creation.tenant_create(
        name=name,
        main_contact_email="it@draft.test",
        calling_domains=[CallingDomainSpec(option="onpexip", domain=name.split()[0].lower())],
        actor=Actor.system("test"),
    ).tenant


def active_tenant():
    from onboarding.services import tokens
    from onboarding.services.audit import Actor

    tenant = invited_tenant("Acme")
    tokens.token_store(
        invitation=UploadInvitation.objects.get(tenant=tenant),
        token="role-test-token-1",
        actor=Actor.customer("198.51.100.9"),
    )
    tenant.refresh_from_db()
    return tenant


def run_action(client, action, tenant):
    return client.post(
        TENANTS, {"action": action, "_selected_action": [tenant.pk], "index": "0"}, follow=True
    )


def messages_of(response):
    return [str(m) for m in get_messages(response.wsgi_request)]


def perms_of(role):
    group = Group.objects.get(name=role)
    return {f"{p.content_type.app_label}.{p.codename}" for p in group.permissions.all()}


# The groups --------------------------------------------------------------------------------------


def test_the_three_roles_exist_after_migrate_with_their_permissions():
    read_only, onboarding_staff, administrators = (
        perms_of(READ_ONLY),
        perms_of(ONBOARDING_STAFF),
        perms_of(ADMINISTRATORS),
    )

    assert {"onboarding.view_tenant", "onboarding.view_gateway", "onboarding.view_auditevent"} < (
        read_only
    )
    assert "onboarding.export_timeline" in read_only
    assert not any(p.split(".")[1].startswith(("add_", "change_", "delete_")) for p in read_only)
    assert read_only < onboarding_staff < administrators
    assert {
        "onboarding.add_tenant",
        "onboarding.change_tenant",
        "onboarding.enable_tenant",
        "onboarding.suspend_tenant",
        "onboarding.issue_upload_link",
        "onboarding.check_dns",
    } < onboarding_staff
    assert "onboarding.revoke_token" not in onboarding_staff
    assert "onboarding.change_gateway" not in onboarding_staff
    assert {
        "onboarding.revoke_token",
        "onboarding.add_gateway",
        "auth.change_user",
        "auth.change_group",
        "axes.delete_accessattempt",
        "onboarding.view_stafftotpdevice",
        "onboarding.delete_stafftotpdevice",
        "onboarding.view_staffbackupcodedevice",
        "onboarding.delete_staffbackupcodedevice",
    } < administrators
    # who has which second factor is for administrators only; nobody edits or adds one
    assert not any("staff" in p and "device" in p for p in onboarding_staff)
    assert not any(
        p.startswith(("onboarding.add_staff", "onboarding.change_staff")) for p in administrators
    )
    assert not any("staffbackupcode" in p and "device" not in p for p in administrators)
    # every permission named in the table exists (a typo would silently grant nothing)
    for role, permissions in staff_roles.role_permissions().items():
        assert perms_of(role) == set(permissions), role


def test_the_handler_puts_back_a_group_edited_by_hand():
    group = Group.objects.get(name=READ_ONLY)
    group.permissions.clear()

    ensure_staff_roles()

    assert "onboarding.view_tenant" in perms_of(READ_ONLY)


# What each role may open -------------------------------------------------------------------------

OPEN = [
    # (role, url name, args needed, expected status)
    (READ_ONLY, "admin:onboarding_tenant_changelist", False, 200),
    (READ_ONLY, "admin:onboarding_tenant_change", True, 200),
    (READ_ONLY, "admin:onboarding_tenant_timeline_csv", True, 200),
    (READ_ONLY, "admin:onboarding_tenant_email_previews", True, 200),
    (READ_ONLY, "admin:onboarding_gateway_changelist", False, 200),
    (READ_ONLY, "admin:onboarding_auditevent_changelist", False, 200),
    (READ_ONLY, "admin:onboarding_outboundemail_changelist", False, 200),
    (READ_ONLY, "admin:onboarding_tenant_add", False, 403),
    (READ_ONLY, "admin:onboarding_gateway_add", False, 403),
    (READ_ONLY, "admin:auth_user_changelist", False, 403),
    (ONBOARDING_STAFF, "admin:onboarding_tenant_add", False, 200),
    (ONBOARDING_STAFF, "admin:onboarding_tenant_change", True, 200),
    (ONBOARDING_STAFF, "admin:onboarding_gateway_add", False, 403),
    (ONBOARDING_STAFF, "admin:auth_user_changelist", False, 403),
    (ONBOARDING_STAFF, "admin:auth_group_changelist", False, 403),
    (ONBOARDING_STAFF, "admin:onboarding_stafftotpdevice_changelist", False, 403),
    (ONBOARDING_STAFF, "admin:onboarding_staffbackupcodedevice_changelist", False, 403),
    (ONBOARDING_STAFF, "admin:onboarding_gatewayapikey_add", False, 403),
    (ADMINISTRATORS, "admin:onboarding_gateway_add", False, 200),
    (ADMINISTRATORS, "admin:onboarding_gatewayapikey_add", False, 200),
    (ADMINISTRATORS, "admin:auth_user_changelist", False, 200),
    (ADMINISTRATORS, "admin:auth_group_changelist", False, 200),
    (ADMINISTRATORS, "admin:onboarding_stafftotpdevice_changelist", False, 200),
    (ADMINISTRATORS, "admin:onboarding_staffbackupcodedevice_changelist", False, 200),
    (ADMINISTRATORS, "admin:axes_accessattempt_changelist", False, 200),
]


@pytest.mark.parametrize(("role", "url_name", "with_tenant", "status"), OPEN)
def test_each_role_opens_its_pages_and_no_others(sign_in_as, role, url_name, with_tenant, status):
    tenant = draft_tenant()
    client = sign_in_as(role)

    response = client.get(reverse(url_name, args=[tenant.pk] if with_tenant else []))

    assert response.status_code == status


def test_read_only_staff_cannot_save_a_tenant(sign_in_as):
    tenant = draft_tenant()
    client = sign_in_as(READ_ONLY)

    response = client.post(
        reverse("admin:onboarding_tenant_change", args=[tenant.pk]), {"name": "Renamed"}
    )

    assert response.status_code == 403
    assert Tenant.objects.get(pk=tenant.pk).name == "Draft Co"


def test_onboarding_staff_cannot_change_a_gateway(sign_in_as):
    gateway = Gateway.objects.get(is_default=True)
    client = sign_in_as(ONBOARDING_STAFF)

    response = client.post(
        reverse("admin:onboarding_gateway_change", args=[gateway.pk]),
        {"name": "Hijacked", "ip_address": "198.51.100.1", "hostname": "evil.test"},
    )

    assert response.status_code == 403
    assert Gateway.objects.get(pk=gateway.pk).name == gateway.name


# Actions -----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "action", ["enable_tenants", "suspend_tenants", "issue_upload_links", "check_dns_now"]
)
def test_read_only_staff_are_refused_every_action_and_nothing_changes(sign_in_as, action):
    tenant = invited_tenant("Acme")
    invitations_before = UploadInvitation.objects.filter(tenant=tenant).count()
    client = sign_in_as(READ_ONLY)

    response = run_action(client, action, tenant)

    assert response.status_code == 200
    assert any("do not have permission" in m for m in messages_of(response))
    assert Tenant.objects.get(pk=tenant.pk).status == TenantStatus.INVITED
    assert UploadInvitation.objects.filter(tenant=tenant).count() == invitations_before


def test_read_only_staff_see_no_actions_in_the_menu(sign_in_as):
    invited_tenant("Acme")
    client = sign_in_as(READ_ONLY)

    response = client.get(TENANTS)
    html = response.content.decode()

    assert response.status_code == 200 and "Acme" in html  # the list itself is shown
    assert 'value="enable_tenants"' not in html
    assert 'value="revoke_tokens"' not in html


def test_onboarding_staff_enable_suspend_and_resume(sign_in_as):
    tenant = draft_tenant()
    client = sign_in_as(ONBOARDING_STAFF)

    run_action(client, "enable_tenants", tenant)
    assert Tenant.objects.get(pk=tenant.pk).status == TenantStatus.INVITED
    run_action(client, "suspend_tenants", tenant)
    assert Tenant.objects.get(pk=tenant.pk).status == TenantStatus.SUSPENDED
    run_action(client, "resume_tenants", tenant)
    assert Tenant.objects.get(pk=tenant.pk).status == TenantStatus.INVITED


def test_onboarding_staff_issue_links_but_cannot_revoke_a_token(sign_in_as):
    tenant = active_tenant()
    client = sign_in_as(ONBOARDING_STAFF)

    issued = run_action(client, "issue_upload_links", tenant)
    refused = run_action(client, "revoke_tokens", tenant)

    assert any("A new link for Acme" in m for m in messages_of(issued))
    assert any("do not have permission" in m for m in messages_of(refused))
    assert Tenant.objects.get(pk=tenant.pk).status == TenantStatus.ACTIVE
    assert SecurityToken.objects.filter(tenant=tenant, state="current").exists()


def test_administrators_revoke_a_token(sign_in_as):
    tenant = active_tenant()
    client = sign_in_as(ADMINISTRATORS)

    response = run_action(client, "revoke_tokens", tenant)

    assert any("was revoked" in m for m in messages_of(response))
    assert Tenant.objects.get(pk=tenant.pk).status == TenantStatus.INVITED


def test_read_only_staff_cannot_send_an_email_again(sign_in_as):
    from onboarding.models import OutboundEmail

    tenant = invited_tenant("Acme")
    row = OutboundEmail.objects.get(tenant=tenant)
    client = sign_in_as(READ_ONLY)

    response = client.post(
        OUTBOX, {"action": "send_again", "_selected_action": [row.pk], "index": "0"}, follow=True
    )

    assert any("do not have permission" in m for m in messages_of(response))
    assert OutboundEmail.objects.filter(tenant=tenant).count() == 1


def test_staff_without_a_role_see_nothing(client, django_user_model):
    user = django_user_model.objects.create_user("nobody", password="x", is_staff=True)
    otp_verified_login(client, user)

    assert client.get(TENANTS).status_code == 403
    index = client.get(reverse("admin:index"))
    assert index.status_code == 200
    assert TENANTS not in index.content.decode()


# Live tenants, calling-domain moves, offboarding, gateway API keys -------------------------------


def change_url(tenant):
    return reverse("admin:onboarding_tenant_change", args=[tenant.pk])


def offboard_steps(client, tenant):
    """The offboard action's two POSTs: the action from the list (it asks first), then "Yes,
    offboard" as its page posts it (the selection and confirm=yes, no "index")."""
    asked = run_action(client, "offboard_tenants", tenant)
    confirmed = client.post(
        TENANTS,
        {"action": "offboard_tenants", "_selected_action": [tenant.pk], "confirm": "yes"},
        follow=True,
    )
    return asked, confirmed


def service_intact(tenant):
    return (
        Tenant.objects.get(pk=tenant.pk).status == TenantStatus.ACTIVE
        and SecurityToken.objects.filter(tenant=tenant, state="current")
        .exclude(ciphertext="")
        .exists()
        and not OutboundEmail.objects.filter(tenant=tenant, kind=EmailKind.SERVICE_ENDED).exists()
    )


@pytest.mark.parametrize("role", [READ_ONLY, ONBOARDING_STAFF])
def test_only_administrators_offboard_others_are_refused_at_both_steps(sign_in_as, role):
    tenant = active_tenant()
    client = sign_in_as(role)

    asked, confirmed = offboard_steps(client, tenant)

    for response in (asked, confirmed):
        assert response.status_code == 200
        assert response.request["PATH_INFO"] == TENANTS
        assert "Yes, offboard" not in response.content.decode()
        assert any("do not have permission" in m for m in messages_of(response))
    assert service_intact(tenant)


def test_administrators_offboard_once_they_confirm(sign_in_as):
    tenant = active_tenant()
    client = sign_in_as(ADMINISTRATORS)

    asked = run_action(client, "offboard_tenants", tenant)
    assert "Yes, offboard" in asked.content.decode()
    assert service_intact(tenant)

    _asked_again, confirmed = offboard_steps(client, tenant)

    assert any("Acme is offboarded" in m for m in messages_of(confirmed))
    assert Tenant.objects.get(pk=tenant.pk).status == TenantStatus.OFFBOARDED


@pytest.mark.parametrize("live", [invited_tenant, lambda _name: active_tenant()])
@pytest.mark.parametrize(
    ("role", "allowed"), [(READ_ONLY, False), (ONBOARDING_STAFF, True), (ADMINISTRATORS, True)]
)
def test_who_may_change_a_live_tenants_settings(sign_in_as, live, role, allowed):
    tenant = live("Acme")
    client = sign_in_as(role)

    form = client.get(change_url(tenant)).content.decode()
    response = client.post(change_url(tenant), edit_data(tenant, meeting_id_length="short"))

    assert ('name="main_contact_email"' in form) is allowed
    assert response.status_code == (302 if allowed else 403)
    assert tenant.calling_domains.get().meeting_id_length == ("short" if allowed else "long")
    assert len(settings_changed_emails(tenant)) == (1 if allowed else 0)


def test_onboarding_staff_move_a_live_tenant_to_a_new_calling_domain(sign_in_as):
    tenant = active_tenant()
    old = tenant.calling_domains.get()
    client = sign_in_as(ONBOARDING_STAFF)
    new_domain = {"option": "onpexip", "domain": "acmevideo", "meeting_id_length": "long"}

    added = client.post(change_url(tenant), edit_data(tenant, new_domain=new_domain))
    switched = run_action(client, "switch_calling_domains", tenant)
    retired = run_action(client, "retire_replaced_domains", tenant)

    assert added.status_code == 302
    assert any("now uses acmevideo.onpexip.com" in m for m in messages_of(switched))
    assert any(f"{old} of Acme is retired" in m for m in messages_of(retired))
    old.refresh_from_db()
    assert old.retired_at is not None
    assert CallingDomain.objects.in_use().get(tenant=tenant).domain == "acmevideo.onpexip.com"
    assert Tenant.objects.get(pk=tenant.pk).status == TenantStatus.ACTIVE


@pytest.mark.parametrize("action", ["switch_calling_domains", "retire_replaced_domains"])
def test_read_only_staff_cannot_move_a_calling_domain(sign_in_as, action):
    tenant = active_tenant()
    before = list(CallingDomain.objects.filter(tenant=tenant).values())
    client = sign_in_as(READ_ONLY)

    response = run_action(client, action, tenant)

    assert any("do not have permission" in m for m in messages_of(response))
    assert list(CallingDomain.objects.filter(tenant=tenant).values()) == before


@pytest.mark.parametrize(("role", "status"), [(ONBOARDING_STAFF, 403), (ADMINISTRATORS, 200)])
def test_only_administrators_add_a_gateway_api_key(sign_in_as, role, status):
    gateway = Gateway.objects.get(is_default=True)
    client = sign_in_as(role)

    response = client.post(
        "/admin/onboarding/gatewayapikey/add/", {"gateway": gateway.pk, "label": "gw1"}
    )

    assert response.status_code == status
    assert GatewayApiKey.objects.count() == (1 if status == 200 else 0)
    assert ("shown only this once" in response.content.decode()) is (status == 200)


def test_a_refused_bulk_delete_names_the_action_in_plain_words(sign_in_as):
    tenant = invited_tenant("Acme")
    client = sign_in_as(ADMINISTRATORS)

    response = run_action(client, "delete_selected", tenant)

    refused = [m for m in messages_of(response) if "do not have permission" in m]
    assert refused == [
        "You do not have permission to “Delete selected tenants”. Nothing was changed."
    ]
    assert Tenant.objects.filter(pk=tenant.pk).exists()
