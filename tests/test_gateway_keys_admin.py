"""Staff issue gateway API keys in the admin (shown once), revoke them, and read the fetch
audit. Through HTTP against PostgreSQL."""

import re

import pytest

from onboarding.models import AuditEvent, GatewayApiKey, GatewayFetch
from tests.conftest import otp_verified_login
from tests.feed_support import active_tenant, default_gateway, fetch, issue_key

pytestmark = pytest.mark.django_db

ADD = "/admin/onboarding/gatewayapikey/add/"


def add_key(staff_client, **fields):
    data = {"gateway": default_gateway().pk, "label": "gw1 primary", **fields}
    return staff_client.post(ADD, data)


def test_a_new_key_is_shown_once_on_the_page_that_answers_the_form(staff_client, client):
    response = add_key(staff_client)

    page = response.content.decode()
    key = re.search(r'class="gateway-api-key">(gwk_[^<]+)<', page).group(1)
    api_key = GatewayApiKey.objects.get()
    assert response.status_code == 200
    assert "no-store" in response["Cache-Control"]
    assert "shown only this once" in page
    assert (api_key.label, api_key.created_by) == ("gw1 primary", "staff")
    assert fetch(client, key).status_code == 200
    change_page = staff_client.get(f"/admin/onboarding/gatewayapikey/{api_key.pk}/change/")
    gateway_page = staff_client.get(f"/admin/onboarding/gateway/{default_gateway().pk}/change/")
    for later in (change_page, gateway_page, staff_client.get("/admin/")):
        assert key not in later.content.decode()
    assert api_key.key_id in gateway_page.content.decode()
    assert AuditEvent.objects.filter(action="gateway_api_key_issued").count() == 1


def test_the_key_is_never_left_in_a_session_message(staff_client):
    add_key(staff_client)

    from django.contrib.sessions.models import Session

    key_id = GatewayApiKey.objects.get().key_id
    for session in Session.objects.all():
        assert f"gwk_{key_id}" not in str(session.get_decoded())


def test_the_add_form_starts_with_the_gateway_it_came_from(staff_client):
    gateway = default_gateway()

    response = staff_client.get(f"{ADD}?gateway={gateway.pk}")

    assert re.search(rf'<option value="{gateway.pk}" selected>', response.content.decode())


def test_staff_revoke_a_key_with_the_action(staff_client, client):
    key = issue_key()
    api_key = GatewayApiKey.objects.get()

    response = staff_client.post(
        "/admin/onboarding/gatewayapikey/",
        {"action": "revoke_keys", "_selected_action": [api_key.pk]},
        follow=True,
    )

    assert "1 key(s) revoked." in response.content.decode()
    assert fetch(client, key).status_code == 401
    assert AuditEvent.objects.filter(action="gateway_api_key_revoked").count() == 1


def test_staff_who_may_only_view_keys_cannot_revoke_them(client, django_user_model):
    from django.contrib.auth.models import Permission

    viewer = django_user_model.objects.create_user("viewer", password="x", is_staff=True)
    viewer.user_permissions.add(Permission.objects.get(codename="view_gatewayapikey"))
    otp_verified_login(client, viewer)
    key = issue_key()
    api_key = GatewayApiKey.objects.get()

    response = client.post(
        "/admin/onboarding/gatewayapikey/",
        {"action": "revoke_keys", "_selected_action": [api_key.pk]},
        follow=True,
    )

    assert response.status_code == 200
    assert response.request["PATH_INFO"] == "/admin/onboarding/gatewayapikey/"  # not the sign-in
    assert "do not have permission" in response.content.decode()
    assert GatewayApiKey.objects.get().revoked_at is None
    assert key not in client.get("/admin/onboarding/gatewayapikey/").content.decode()


def test_keys_cannot_be_deleted(staff_client):
    issue_key()
    api_key = GatewayApiKey.objects.get()

    response = staff_client.get(f"/admin/onboarding/gatewayapikey/{api_key.pk}/delete/")

    assert response.status_code == 403


def test_the_fetch_audit_lists_fetches_read_only(staff_client, client):
    active_tenant("Acme")
    fetch(client, issue_key(), REMOTE_ADDR="203.0.113.9")
    fetch_row = GatewayFetch.objects.get()

    listing = staff_client.get("/admin/onboarding/gatewayfetch/")
    add = staff_client.get("/admin/onboarding/gatewayfetch/add/")

    assert listing.status_code == 200
    assert "203.0.113.9" in listing.content.decode()
    assert add.status_code == 403
    assert fetch_row.tenant_ids


@pytest.mark.parametrize("expires_at", ["2020-01-01 00:00:00", "2000-06-30 12:00:00"])
def test_a_key_cannot_be_issued_already_expired(staff_client, expires_at):
    response = add_key(staff_client, expires_at_0=expires_at[:10], expires_at_1=expires_at[11:])

    assert response.status_code == 200  # the form again, with its error
    assert "Choose a time in the future" in response.content.decode()
    assert not GatewayApiKey.objects.exists()


def test_a_key_with_a_future_expiry_is_issued(staff_client):
    response = add_key(staff_client, expires_at_0="2099-01-01", expires_at_1="00:00:00")

    assert response.status_code == 200
    assert "shown only this once" in response.content.decode()
    assert GatewayApiKey.objects.get().expires_at.year == 2099


def test_the_service_refuses_an_expiry_in_the_past_too():
    from datetime import timedelta

    from django.core.exceptions import ValidationError
    from django.utils import timezone

    with pytest.raises(ValidationError, match="in the future"):
        issue_key(expires_at=timezone.now() - timedelta(seconds=1))
    assert not GatewayApiKey.objects.exists()
