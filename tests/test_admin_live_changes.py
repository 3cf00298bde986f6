"""The admin's live-tenant operations, driven through its URLs against PostgreSQL: edits that
tell the customer, moves, switches, retirement, offboarding, reinstating, gateway edits, and
the custom permissions they need."""

import pytest
from django.contrib.auth.models import Permission
from django.contrib.messages import get_messages
from django.urls import reverse

from onboarding.models import (
    AuditEvent,
    CallingDomain,
    EmailKind,
    Gateway,
    OutboundEmail,
    SecurityToken,
    Tenant,
)
from tests.conftest import otp_verified_login
from tests.live_support import active_tenant, edit_data, rendered, settings_changed_emails
from tests.upload_support import invited_tenant

pytestmark = pytest.mark.django_db

LIST_URL = reverse("admin:onboarding_tenant_changelist")


def change_url(tenant):
    return reverse("admin:onboarding_tenant_change", args=[tenant.pk])


def messages_of(response):
    return [str(m) for m in get_messages(response.wsgi_request)]


def act(client, action, *tenants, **extra):
    return client.post(
        LIST_URL,
        {"action": action, "_selected_action": [str(t.pk) for t in tenants], **extra},
        follow=True,
    )


def offboard(client, *tenants):
    """The offboard action as staff run it: the action, then "Yes, offboard" on its page."""
    return act(client, "offboard_tenants", *tenants, confirm="yes")


def test_editing_a_live_tenant_tells_the_customer_what_to_change(staff_client):
    tenant = active_tenant(meeting_id_length="short", prefix="42")
    token = SecurityToken.objects.get(tenant=tenant)

    response = staff_client.post(
        change_url(tenant), edit_data(tenant, meeting_id_length="long"), follow=True
    )

    assert response.status_code == 200
    domain = tenant.calling_domains.get()
    assert (domain.meeting_id_length, domain.prefix) == ("long", "")  # the prefix is cleared
    [email] = settings_changed_emails(tenant)
    text, html = rendered(email)
    assert (
        'Meeting ID length for acme.onpexip.com: "Use short meeting IDs" -> '
        'choose "Use long meeting IDs"' in text
    )
    assert "<code>42</code></td><td><code>none</code>" in html
    assert any("told to change" in m for m in messages_of(response))
    event = AuditEvent.objects.get(tenant=tenant, action="settings_changed")
    assert event.actor_label == "staff"
    assert SecurityToken.objects.get(tenant=tenant) == token


def test_the_admin_refuses_to_move_a_live_shared_domain_in_place(staff_client):
    tenant = invited_tenant("Globex", option="shared", domain="")
    prefix = tenant.calling_domains.get().prefix

    response = staff_client.post(
        change_url(tenant),
        edit_data(tenant, option="onpexip", domain="globex", meeting_id_length="long", prefix=""),
    )

    assert response.status_code == 200
    assert "move the tenant to another calling domain" in response.content.decode()
    domain = tenant.calling_domains.get()
    assert (domain.option, domain.prefix) == ("shared", prefix)


def test_a_domain_added_to_a_live_tenant_waits_and_is_switched_then_retired(staff_client):
    tenant = active_tenant("Globex", option="shared", domain="")
    old = tenant.calling_domains.get()
    new_domain = {"option": "onpexip", "domain": "globex", "meeting_id_length": "long"}

    response = staff_client.post(
        change_url(tenant), edit_data(tenant, new_domain=new_domain), follow=True
    )
    assert any("Switch to it" in m for m in messages_of(response))
    new = CallingDomain.objects.awaiting_switch().get(tenant=tenant)
    assert settings_changed_emails(tenant) == []

    response = act(staff_client, "switch_calling_domains", tenant)
    assert any("now uses globex.onpexip.com" in m for m in messages_of(response))
    text, _html = rendered(settings_changed_emails(tenant)[0])
    assert f"gmeet.pexip.me (prefix {old.prefix}) -> globex.onpexip.com" in text

    act(staff_client, "retire_replaced_domains", tenant)
    old.refresh_from_db()
    new.refresh_from_db()
    assert old.retired_at is not None and old.prefix  # the prefix stays: quarantine
    assert new.retired_at is None
    tenant.refresh_from_db()
    assert tenant.status == "active"


def test_switching_an_unready_own_domain_is_refused_with_the_reason(staff_client):
    tenant = active_tenant("Globex")
    new_domain = {"option": "own", "domain": "video.globex.test", "meeting_id_length": "long"}
    staff_client.post(change_url(tenant), edit_data(tenant, new_domain=new_domain))

    response = act(staff_client, "switch_calling_domains", tenant)

    assert any("not ready yet" in m for m in messages_of(response))
    assert tenant.calling_domains.customer_facing().get().domain == "globex.onpexip.com"


def test_the_offboard_action_first_asks_and_changes_nothing(staff_client):
    tenant = active_tenant()
    other = invited_tenant("Globex")

    response = act(staff_client, "offboard_tenants", tenant, other)

    page = response.content.decode()
    assert response.status_code == 200
    assert response.templates[0].name == "admin/onboarding/tenant/offboard_confirmation.html"
    assert "Acme" in page and "Globex" in page and "Active" in page and "Invited" in page
    assert "noc@acme.test" in page  # who gets the service-ended email
    for consequence in (
        "security tokens are destroyed",
        "upload links stop working",
        "are cancelled",
        "DNS checks of its calling domains stop",
        "quarantined for 90 days",
        "erased 180 days after offboarding",
        "cannot be undone",
        "starts a fresh onboarding",
    ):
        assert consequence in page, consequence
    for t in (tenant, other):
        assert f'name="_selected_action" value="{t.pk}"' in page
    assert 'name="confirm" value="yes"' in page and 'value="Yes, offboard"' in page
    assert 'name="csrfmiddlewaretoken"' in page
    assert f'href="{LIST_URL}"' in page and "No, take me back" in page
    tenant.refresh_from_db()
    assert tenant.status == "active"
    assert Tenant.objects.get(pk=other.pk).status == "invited"
    assert SecurityToken.objects.filter(tenant=tenant, state="current").exclude(ciphertext="")
    assert not OutboundEmail.objects.filter(kind=EmailKind.SERVICE_ENDED).exists()
    assert not AuditEvent.objects.filter(action="offboarded").exists()


def test_offboarding_from_the_admin_ends_the_service_once_confirmed(staff_client):
    tenant = active_tenant()

    response = offboard(staff_client, tenant)

    assert response.request["PATH_INFO"] == LIST_URL
    assert any("is offboarded" in m for m in messages_of(response))
    tenant.refresh_from_db()
    assert tenant.status == "offboarded"
    assert OutboundEmail.objects.filter(tenant=tenant, kind=EmailKind.SERVICE_ENDED).exists()
    assert not SecurityToken.objects.filter(tenant=tenant).exclude(ciphertext="").exists()


def test_the_confirmation_lists_already_offboarded_tenants_as_skipped(staff_client):
    gone = active_tenant()
    offboard(staff_client, gone)
    live = invited_tenant("Globex")

    page = act(staff_client, "offboard_tenants", gone, live).content.decode()

    assert "Skipped: already offboarded (1)" in page and "To offboard (1)" in page
    assert f'name="_selected_action" value="{live.pk}"' in page
    assert f'name="_selected_action" value="{gone.pk}"' not in page
    only_gone = act(staff_client, "offboard_tenants", gone).content.decode()
    assert "Nothing to offboard" in only_gone and "Yes, offboard" not in only_gone


def test_offboarding_twice_from_the_admin_says_why_not(staff_client):
    tenant = active_tenant()
    offboard(staff_client, tenant)
    # a second page left open, confirmed after the first: the tenant is offboarded already
    response = offboard(staff_client, tenant)
    assert any("cannot be offboarded" in m for m in messages_of(response))
    assert OutboundEmail.objects.filter(tenant=tenant, kind=EmailKind.SERVICE_ENDED).count() == 1


def test_reinstating_from_the_admin_creates_a_fresh_draft_tenant(staff_client):
    tenant = active_tenant()
    offboard(staff_client, tenant)
    act(staff_client, "reinstate_tenants", tenant)
    fresh = Tenant.objects.exclude(pk=tenant.pk).get(name="Acme")
    assert fresh.status == "draft"


def test_editing_a_gateway_in_the_admin_tells_its_tenants(staff_client):
    tenant = active_tenant()
    gateway = Gateway.objects.get(is_default=True)

    response = staff_client.post(
        reverse("admin:onboarding_gateway_change", args=[gateway.pk]),
        {"name": gateway.name, "ip_address": "192.0.2.99", "hostname": gateway.hostname},
        follow=True,
    )

    assert response.status_code == 200
    assert any("1 tenant(s)" in m for m in messages_of(response))
    text, _html = rendered(settings_changed_emails(tenant)[0])
    assert "Gateway IP address: 192.0.2.10 -> 192.0.2.99" in text


# Permissions ------------------------------------------------------------------------------------


@pytest.fixture
def plain_staff_client(client, django_user_model):
    user = django_user_model.objects.create_user("clerk", password="x", is_staff=True)
    user.user_permissions.set(
        Permission.objects.filter(
            content_type__app_label="onboarding",
            codename__in=[
                "view_tenant",
                "change_tenant",
                "view_callingdomain",
                "change_callingdomain",
                "add_callingdomain",
            ],
        )
    )
    otp_verified_login(client, user)
    return client, user


def grant(user, codename):
    user.user_permissions.add(Permission.objects.get(codename=codename))


def test_editing_a_live_tenant_needs_the_change_live_settings_permission(plain_staff_client):
    client, user = plain_staff_client
    tenant = active_tenant()
    data = edit_data(tenant, meeting_id_length="short")

    assert client.post(change_url(tenant), data).status_code == 403
    assert settings_changed_emails(tenant) == []

    grant(user, "change_live_settings")
    assert client.post(change_url(tenant), data).status_code == 302
    assert len(settings_changed_emails(tenant)) == 1


def test_the_offboard_and_move_actions_need_their_permissions(plain_staff_client):
    client, user = plain_staff_client
    active_tenant()
    offered = client.get(LIST_URL).content.decode()
    assert "offboard_tenants" not in offered and "switch_calling_domains" not in offered

    grant(user, "offboard_tenant")
    grant(user, "move_calling_domain")
    offered = client.get(LIST_URL).content.decode()
    assert "offboard_tenants" in offered and "switch_calling_domains" in offered


def test_staff_preview_the_settings_changed_and_service_ended_emails(staff_client):
    tenant = active_tenant()

    page = staff_client.get(reverse("admin:onboarding_tenant_email_previews", args=[tenant.pk]))

    html = page.content.decode()
    assert f'id="preview-{EmailKind.SETTINGS_CHANGED}"' in html
    assert f'id="preview-{EmailKind.SERVICE_ENDED}"' in html
    assert "Gateway IP address: 192.0.2.99 -> 192.0.2.10" in html  # the sample, old -> new
    assert "service for Acme ended" in html


def test_an_offboarded_tenant_is_read_only_in_the_admin(staff_client):
    tenant = active_tenant()
    offboard(staff_client, tenant)
    page = staff_client.get(change_url(tenant))
    assert page.status_code == 200
    assert 'name="main_contact_email"' not in page.content.decode()
    assert staff_client.post(change_url(tenant), {"name": "Renamed"}).status_code == 403
    tenant.refresh_from_db()
    assert tenant.name == "Acme"
