"""Staff's side of provisioning: manual gateways ("Configured on the gateway", reopened by any
change the gateway must follow), the gateway page (credentials, Test connection), the tenant's
provisioning panel, and the default gateway following DEFAULT_GATEWAY_* at migrate."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import Group
from django.contrib.messages import get_messages
from django.core.management import call_command
from django.urls import reverse

from onboarding.gateways import provisioning as jobs
from onboarding.infra import encryption
from onboarding.models import (
    AuditAction,
    AuditEvent,
    EmailKind,
    Gateway,
    OutboundEmail,
    ProvisioningMode,
    ProvisioningState,
    SecurityToken,
    TenantProvisioning,
)
from onboarding.services import lifecycle
from onboarding.services.staff_roles import ADMINISTRATORS, ONBOARDING_STAFF, READ_ONLY
from tests.conftest import otp_verified_login
from tests.feed_support import active_tenant
from tests.provisioning_support import (
    STAFF,
    infinity_settings,
    made_by_hand,
    make_infinity,
    run_due_jobs,
)

pytestmark = pytest.mark.django_db


def messages_of(response) -> list[str]:
    return [str(m) for m in get_messages(response.wsgi_request)]


def tenant_page(tenant) -> str:
    return reverse("admin:onboarding_tenant_change", args=[tenant.pk])


def button(tenant, action: str) -> str:
    """Where a button at the top of the tenant's page posts."""
    return reverse("admin:onboarding_tenant_page_action", args=[tenant.pk, action])


# Manual gateways -------------------------------------------------------------------------------


def test_onboarding_staff_confirm_a_manual_gateway_and_the_press_is_audited(sign_in_as):
    client = sign_in_as(ONBOARDING_STAFF)
    tenant = active_tenant("Acme")
    run_due_jobs()
    row = TenantProvisioning.objects.get(tenant=tenant)
    assert row.state == ProvisioningState.AWAITING_STAFF
    page = client.get(tenant_page(tenant)).content.decode()
    assert 'value="gateway_configured"' in page and "Awaiting staff" in page
    assert f"meet-portal-{tenant.pk}" in page  # what to set on the gateway, by name

    response = client.post(button(tenant, "gateway_configured"), follow=True)

    assert any("Recorded" in m for m in messages_of(response))
    [event] = AuditEvent.objects.filter(
        tenant=tenant, action=AuditAction.GATEWAY_CONFIGURED_BY_STAFF
    )
    assert event.actor_label == "onboarding-staff" and event.detail["configured"]
    assert SecurityToken.objects.get(tenant=tenant).gateway_has_token_at is not None
    assert OutboundEmail.objects.filter(tenant=tenant, kind=EmailKind.CONFIRMATION).count() == 1


def test_read_only_staff_cannot_press_configured_on_the_gateway(sign_in_as):
    client = sign_in_as(READ_ONLY)
    tenant = active_tenant("Acme")

    response = client.post(button(tenant, "gateway_configured"), follow=True)

    assert any("do not have permission" in m for m in messages_of(response))
    assert SecurityToken.objects.get(tenant=tenant).gateway_has_token_at is None
    assert not AuditEvent.objects.filter(action=AuditAction.GATEWAY_CONFIGURED_BY_STAFF).exists()


def test_a_change_the_gateway_must_follow_reopens_awaiting_staff_and_says_what(sign_in_as):
    tenant = active_tenant("Acme")
    from onboarding.services import provisioning

    provisioning.manual_configured_confirm(tenant=tenant, actor=STAFF)
    run_due_jobs()
    assert TenantProvisioning.objects.get(tenant=tenant).state == ProvisioningState.IN_SYNC

    lifecycle.tenant_suspend(tenant=tenant, actor=STAFF)
    run_due_jobs()

    row = TenantProvisioning.objects.get(tenant=tenant)
    assert row.state == ProvisioningState.AWAITING_STAFF
    changed = row.detail.split("The gateway should hold:")[0]
    # what to do: the rule goes from enabled to disabled; the token stays as it was
    assert (
        "add or change: Routing rule" in changed and "DISABLED (the tenant is suspended)" in changed
    )
    assert "remove: Routing rule" in changed and ", enabled," in changed
    assert "Google Meet access token" not in changed


def test_a_change_the_gateway_does_not_see_leaves_a_manual_tenant_in_sync():
    from onboarding.services import changes, provisioning

    tenant = active_tenant("Acme")
    provisioning.manual_configured_confirm(tenant=tenant, actor=STAFF)

    changes.tenant_settings_change(
        tenant=tenant, actor=STAFF, fields={"service_notification_contacts": ["ops@acme.test"]}
    )
    run_due_jobs()

    assert TenantProvisioning.objects.get(tenant=tenant).state == ProvisioningState.IN_SYNC


# The gateway page -----------------------------------------------------------------------------


def test_administrators_set_infinity_credentials_and_the_password_is_never_shown(
    sign_in_as, infinity_node
):
    client = sign_in_as(ADMINISTRATORS)
    gateway = Gateway.objects.get(is_default=True)
    data = {
        "name": gateway.name,
        "ip_address": gateway.ip_address,
        "hostname": gateway.hostname,
        **{k: v for k, v in infinity_settings(infinity_node).items()},
        "management_timeout": "5",
    }

    response = client.post(
        reverse("admin:onboarding_gateway_change", args=[gateway.pk]), data, follow=True
    )

    assert response.status_code == 200
    gateway.refresh_from_db()
    assert gateway.provisioning == ProvisioningMode.INFINITY
    assert encryption.decrypt(gateway.management_password_ciphertext) == infinity_node.password
    page = client.get(reverse("admin:onboarding_gateway_change", args=[gateway.pk]))
    html = page.content.decode()
    assert infinity_node.password not in html
    assert gateway.management_password_ciphertext not in html
    assert "Test connection" in html
    history = client.get(reverse("admin:onboarding_gateway_history", args=[gateway.pk]))
    assert infinity_node.password not in history.content.decode()

    tested = client.post(
        reverse("admin:onboarding_gateway_test_connection", args=[gateway.pk]), follow=True
    )
    assert any("Connected to https://127.0.0.1" in m for m in messages_of(tested))


def test_a_plain_http_management_url_is_refused_with_a_message(sign_in_as, infinity_node):
    client = sign_in_as(ADMINISTRATORS)
    gateway = Gateway.objects.get(is_default=True)
    data = {
        "name": gateway.name,
        "ip_address": gateway.ip_address,
        "hostname": gateway.hostname,
        **infinity_settings(infinity_node, management_url=f"http://127.0.0.1:{infinity_node.port}"),
    }

    response = client.post(reverse("admin:onboarding_gateway_change", args=[gateway.pk]), data)

    assert response.status_code == 200
    assert "https:// only" in response.content.decode()
    gateway.refresh_from_db()
    assert gateway.provisioning == ProvisioningMode.MANUAL and not gateway.management_url


def test_onboarding_staff_cannot_change_a_gateways_credentials(sign_in_as):
    client = sign_in_as(ONBOARDING_STAFF)
    gateway = Gateway.objects.get(is_default=True)

    response = client.post(
        reverse("admin:onboarding_gateway_change", args=[gateway.pk]),
        {"name": gateway.name, "provisioning": "infinity"},
    )

    assert response.status_code == 403
    assert Gateway.objects.get(pk=gateway.pk).provisioning == ProvisioningMode.MANUAL


# The tenant's panel on an Infinity gateway ---------------------------------------------------


def test_provision_now_resumes_a_stopped_gateway_and_shows_the_outcome(sign_in_as, infinity_node):
    client = sign_in_as(ONBOARDING_STAFF)
    gateway = make_infinity(infinity_node, management_password="wrong")
    tenant = active_tenant("Acme")
    run_due_jobs()
    gateway.refresh_from_db()
    assert gateway.provisioning_stopped_at is not None
    assert "The gateway is stopped" in client.get(tenant_page(tenant)).content.decode()
    Gateway.objects.filter(pk=gateway.pk).update(
        management_password_ciphertext=encryption.encrypt(infinity_node.password)
    )

    response = client.post(button(tenant, "provision_tenants_now"), follow=True)
    run_due_jobs()

    assert any("resumes" in m for m in messages_of(response))
    assert Gateway.objects.get(pk=gateway.pk).provisioning_stopped_at is None
    page = client.get(tenant_page(tenant)).content.decode()
    assert "In sync" in page and "cannot be seen here" in page
    assert len(infinity_node.objects("gms_access_token")) == 1


def test_adopting_needs_an_administrator_and_shows_the_plan_before_changing_anything(
    sign_in_as, infinity_node
):
    make_infinity(infinity_node)
    tenant = active_tenant("Acme")
    jobs.tenant_provision(tenant.pk)
    url = reverse("admin:onboarding_tenant_adopt_objects", args=[tenant.pk])

    staff = sign_in_as(ONBOARDING_STAFF)
    refused = staff.get(url, follow=True)
    assert any("Only administrators" in m for m in messages_of(refused))


def test_an_administrator_sees_the_plan_then_confirms_the_adoption(
    client, django_user_model, infinity_node
):
    make_infinity(infinity_node)
    tenant = active_tenant("Acme")
    TenantProvisioning.objects.update(next_attempt_at=None)  # still configured by hand
    made_by_hand(
        infinity_node, token_name="acme-hand", token_value="x" * 20, rule_name="Acme by hand"
    )
    admin_user = django_user_model.objects.create_user("boss", password="pw-9x", is_staff=True)
    admin_user.groups.add(Group.objects.get(name=ADMINISTRATORS))
    otp_verified_login(client, admin_user)
    url = reverse("admin:onboarding_tenant_adopt_objects", args=[tenant.pk])

    page = client.get(url).content.decode()
    assert "Acme by hand" in page and "acme-hand" in page
    assert infinity_node.requests("PATCH") == []

    client.post(url, {"confirm": "yes"}, follow=True)
    run_due_jobs()

    [rule] = infinity_node.objects("gateway_routing_rule")
    assert rule["name"].startswith(f"meet-portal-{tenant.pk}-")
    assert AuditEvent.objects.filter(action=AuditAction.GATEWAY_OBJECTS_ADOPTED).count() == 1


def test_the_default_gateway_follows_default_gateway_settings_at_every_migrate(
    settings, infinity_node
):
    settings.DEFAULT_GATEWAY_PROVISIONING = "infinity"
    settings.DEFAULT_GATEWAY_MANAGEMENT_URL = f"https://127.0.0.1:{infinity_node.port}"
    settings.DEFAULT_GATEWAY_MANAGEMENT_USERNAME = infinity_node.username
    settings.DEFAULT_GATEWAY_MANAGEMENT_PASSWORD = infinity_node.password
    settings.DEFAULT_GATEWAY_MANAGEMENT_CA_BUNDLE = str(infinity_node.ca_bundle)

    call_command("migrate", verbosity=0)

    gateway = Gateway.objects.get(is_default=True)
    assert gateway.provisioning == ProvisioningMode.INFINITY
    assert gateway.management_ca_bundle == infinity_node.ca_bundle.read_text()
    assert encryption.decrypt(gateway.management_password_ciphertext) == infinity_node.password
    ciphertext = gateway.management_password_ciphertext

    call_command("migrate", verbosity=0)  # nothing changed: nothing rewritten

    assert Gateway.objects.get(pk=gateway.pk).management_password_ciphertext == ciphertext


def test_staff_filter_the_tenant_list_by_provisioning_state(sign_in_as):
    client = sign_in_as(ONBOARDING_STAFF)
    waiting = active_tenant("Acme")
    active_tenant("Globex")
    run_due_jobs()
    from onboarding.services import provisioning

    provisioning.manual_configured_confirm(tenant=waiting, actor=STAFF)

    page = client.get(
        reverse("admin:onboarding_tenant_changelist") + "?provisioning__state__exact=awaiting_staff"
    ).content.decode()

    assert "Globex" in page and "Acme" not in page


def test_change_gateway_sets_infinity_provisioning_with_the_password_from_the_environment(
    infinity_node, monkeypatch
):
    from django.core.management.base import CommandError

    gateway = Gateway.objects.get(is_default=True)
    monkeypatch.setenv("NODE_PASSWORD", infinity_node.password)
    arguments = [
        gateway.name,
        "--provisioning=infinity",
        f"--management-url=https://127.0.0.1:{infinity_node.port}",
        f"--management-username={infinity_node.username}",
        f"--management-ca-bundle={infinity_node.ca_bundle}",
        "--routing-rule-priority=20",
    ]

    with pytest.raises(CommandError, match="MISSING_VARIABLE is empty or not set"):
        call_command("change_gateway", *arguments, "--management-password-env=MISSING_VARIABLE")
    call_command("change_gateway", *arguments, "--management-password-env=NODE_PASSWORD")

    gateway.refresh_from_db()
    assert (gateway.provisioning, gateway.routing_rule_priority) == ("infinity", 20)
    assert encryption.decrypt(gateway.management_password_ciphertext) == infinity_node.password
    [event] = AuditEvent.objects.filter(action=AuditAction.GATEWAY_PROVISIONING_CHANGED)
    assert infinity_node.password not in str(event.detail)
    assert "management_password" in event.detail["changed"]
