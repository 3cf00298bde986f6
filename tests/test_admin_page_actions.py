"""The button row on a tenant's admin page: the lifecycle actions staff would otherwise reach
through list -> tick -> action -> Go, shown only when the transition table and the user's role
allow them, each running the list action itself (same service, same audit)."""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse

from onboarding.models import AuditEvent, EmailKind, OutboundEmail, Tenant, TenantStatus
from onboarding.services.staff_roles import ONBOARDING_STAFF, READ_ONLY
from tests.conftest import otp_verified_login
from tests.live_support import tenant_in

pytestmark = pytest.mark.django_db

ALL_BUTTONS = {
    "enable_tenants",
    "suspend_tenants",
    "resume_tenants",
    "issue_upload_links",
    "revoke_tokens",
    "check_dns_now",
    "offboard_tenants",
    "reinstate_tenants",
    "provision_tenants_now",
    "gateway_configured",
}
# buttons for one tenant only, not in the list's menu
BUTTON_ONLY = {"gateway_configured"}


def change_url(tenant: Tenant) -> str:
    return reverse("admin:onboarding_tenant_change", args=[tenant.pk])


def action_url(tenant: Tenant, action: str) -> str:
    return reverse("admin:onboarding_tenant_page_action", args=[tenant.pk, action])


def buttons_on(client: Client, tenant: Tenant) -> set[str]:
    response = client.get(change_url(tenant))
    assert response.status_code == 200
    return {action.name for action in response.context["page_actions"]}


def messages_of(response) -> list[str]:
    return [str(m) for m in response.context["messages"]] if response.context else []


@pytest.mark.parametrize(
    ("status", "expected"),
    [
        ("draft", {"enable_tenants", "offboard_tenants"}),
        ("dns_pending", {"enable_tenants", "suspend_tenants", "check_dns_now", "offboard_tenants"}),
        (
            "invited",
            {"suspend_tenants", "issue_upload_links", "offboard_tenants", "provision_tenants_now"},
        ),
        (
            "active",
            {
                "suspend_tenants",
                "issue_upload_links",
                "revoke_tokens",
                "offboard_tenants",
                "provision_tenants_now",
            },
        ),
        ("suspended", {"resume_tenants", "offboard_tenants", "provision_tenants_now"}),
        ("offboarded", {"reinstate_tenants", "provision_tenants_now"}),
    ],
)
def test_the_page_shows_the_buttons_the_transition_table_allows(staff_client, status, expected):
    tenant = tenant_in(status)

    assert buttons_on(staff_client, tenant) == expected


def test_enable_from_the_tenant_page_invites_and_audits_as_staff(staff_client):
    tenant = tenant_in("draft")

    response = staff_client.post(action_url(tenant, "enable_tenants"), follow=True)

    assert response.redirect_chain[-1][0] == change_url(tenant)
    assert "Acme is enabled." in messages_of(response)
    tenant.refresh_from_db()
    assert tenant.status == TenantStatus.INVITED
    event = AuditEvent.objects.filter(tenant=tenant).latest("id")
    assert (event.to_status, event.actor_label) == ("invited", "staff")
    assert OutboundEmail.objects.filter(tenant=tenant, kind=EmailKind.INITIAL).exists()


def test_the_button_row_posts_with_a_csrf_token(staff_client):
    tenant = tenant_in("draft")

    html = staff_client.get(change_url(tenant)).content.decode()

    row = html[html.index('class="tenant-page-actions"') :]
    assert f'action="{action_url(tenant, "enable_tenants")}"' in row
    assert 'method="post"' in row
    assert "csrfmiddlewaretoken" in row


def test_a_post_without_the_csrf_token_is_refused(staff_user):
    client = otp_verified_login(Client(enforce_csrf_checks=True), staff_user)
    tenant = tenant_in("draft")

    response = client.post(action_url(tenant, "enable_tenants"))

    assert response.status_code == 403
    assert Tenant.objects.get(pk=tenant.pk).status == TenantStatus.DRAFT


def test_an_action_url_never_acts_on_get(staff_client):
    tenant = tenant_in("draft")

    response = staff_client.get(action_url(tenant, "enable_tenants"))

    assert response.status_code == 405
    assert Tenant.objects.get(pk=tenant.pk).status == TenantStatus.DRAFT


def test_revoke_asks_for_confirmation_first(staff_client):
    tenant = tenant_in("active")

    asked = staff_client.post(action_url(tenant, "revoke_tokens"))

    assert asked.status_code == 200
    assert b"Revoke the token of Acme?" in asked.content
    assert f'href="{change_url(tenant)}"'.encode() in asked.content
    assert Tenant.objects.get(pk=tenant.pk).status == TenantStatus.ACTIVE
    staff_client.post(action_url(tenant, "revoke_tokens"), {"confirm": "yes"})
    assert Tenant.objects.get(pk=tenant.pk).status == TenantStatus.INVITED


def test_offboard_shows_the_offboarding_confirmation_and_its_back_link_leads_to_the_tenant(
    staff_client,
):
    tenant = tenant_in("invited")

    asked = staff_client.post(action_url(tenant, "offboard_tenants"))

    assert asked.status_code == 200
    assert b"This cannot be undone." in asked.content
    assert f'href="{change_url(tenant)}"'.encode() in asked.content
    assert Tenant.objects.get(pk=tenant.pk).status == TenantStatus.INVITED
    done = staff_client.post(
        action_url(tenant, "offboard_tenants"),
        {"confirm": "yes", "action": "offboard_tenants", "_selected_action": [tenant.pk]},
    )
    assert done.status_code == 302
    assert Tenant.objects.get(pk=tenant.pk).status == TenantStatus.OFFBOARDED


def test_a_button_the_transition_table_refuses_changes_nothing(staff_client):
    tenant = tenant_in("draft")

    response = staff_client.post(action_url(tenant, "resume_tenants"), follow=True)

    assert any("cannot" in m or "not allowed" in m for m in messages_of(response))
    assert Tenant.objects.get(pk=tenant.pk).status == TenantStatus.DRAFT


def test_read_only_staff_see_no_buttons_and_a_forged_post_is_refused(sign_in_as):
    client = sign_in_as(READ_ONLY)
    tenant = tenant_in("draft")

    assert buttons_on(client, tenant) == set()
    response = client.post(action_url(tenant, "enable_tenants"), follow=True)

    assert any("permission" in m for m in messages_of(response))
    assert Tenant.objects.get(pk=tenant.pk).status == TenantStatus.DRAFT


def test_onboarding_staff_may_enable_but_not_revoke(sign_in_as):
    client = sign_in_as(ONBOARDING_STAFF)

    assert "revoke_tokens" not in buttons_on(client, tenant_in("active", name="Initech"))
    assert "enable_tenants" in buttons_on(client, tenant_in("draft"))


def test_an_unknown_action_name_is_a_404(staff_client):
    tenant = tenant_in("draft")

    assert staff_client.post(action_url(tenant, "delete_selected")).status_code == 404
    assert staff_client.post(action_url(tenant, "no_such_action")).status_code == 404


def test_every_button_names_a_list_action_of_the_tenant_admin():
    from django.contrib import admin

    from onboarding.admin.page_actions import TENANT_PAGE_ACTIONS

    model_admin = admin.site._registry[Tenant]
    list_actions = {name for _f, name, _d in model_admin._get_base_actions()}
    assert {a.name for a in TENANT_PAGE_ACTIONS} == ALL_BUTTONS
    assert list_actions >= ALL_BUTTONS - BUTTON_ONLY


def test_a_button_only_action_runs_with_the_permission_it_names(staff_client, monkeypatch):
    """How "Provision now" and the like join the row: a method with @admin.action(permissions=)
    and a PageAction, without a place in the list's menu."""
    from django.contrib import admin

    from onboarding.admin import page_actions
    from onboarding.admin.tenants import TenantAdmin

    ran = []

    @admin.action(description="Note it", permissions=["enable_tenant"])
    def note_tenant(modeladmin, request, queryset):
        ran.extend(queryset)

    monkeypatch.setattr(TenantAdmin, "note_tenant", note_tenant, raising=False)
    monkeypatch.setattr(
        page_actions,
        "TENANT_PAGE_ACTIONS",
        [*page_actions.TENANT_PAGE_ACTIONS, page_actions.PageAction("note_tenant", "Note it")],
    )
    tenant = tenant_in("draft")

    assert "note_tenant" in buttons_on(staff_client, tenant)
    response = staff_client.post(action_url(tenant, "note_tenant"))

    assert response.status_code == 302
    assert ran == [tenant]


def test_a_button_only_action_refuses_a_user_without_its_permission(sign_in_as, monkeypatch):
    from django.contrib import admin

    from onboarding.admin import page_actions
    from onboarding.admin.tenants import TenantAdmin

    @admin.action(description="Note it", permissions=["enable_tenant"])
    def note_tenant(modeladmin, request, queryset):
        raise AssertionError("must not run")

    monkeypatch.setattr(TenantAdmin, "note_tenant", note_tenant, raising=False)
    monkeypatch.setattr(
        page_actions,
        "TENANT_PAGE_ACTIONS",
        [*page_actions.TENANT_PAGE_ACTIONS, page_actions.PageAction("note_tenant", "Note it")],
    )
    client = sign_in_as(READ_ONLY)
    tenant = tenant_in("draft")

    assert "note_tenant" not in buttons_on(client, tenant)
    response = client.post(action_url(tenant, "note_tenant"), follow=True)
    assert any("permission" in m for m in messages_of(response))
