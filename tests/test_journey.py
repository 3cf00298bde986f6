"""The whole journey across real processes: staff in the admin (headless Chromium), a Celery
worker subprocess on its own Redis, PostgreSQL, the SMTP sink, and the customer's browser
following the link taken out of the real email."""

from __future__ import annotations

import json
import re
import urllib.error
import urllib.request

import pytest
from django.utils import timezone

from onboarding.models import (
    CallingDomain,
    EmailKind,
    Gateway,
    OutboundEmail,
    SecurityToken,
    StaffTotpDevice,
    Tenant,
    TenantStatus,
)
from onboarding.services.staff_two_factor import staff_totp_enrol
from tests.conftest import totp_code
from tests.services import wait_until

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.services]

STAFF_PASSWORD = "journey-staff-password-71"
TOKEN = "journey-Token_5f0e1d2c3b4a"


@pytest.fixture
def staff_login(django_user_model):
    """Staff sign in as a person would: password, then the code their authenticator app shows,
    computed here from the enrolled device's key."""
    user = django_user_model.objects.create_superuser(
        "onboarder", "onboarder@provider.test", STAFF_PASSWORD
    )
    staff_totp_enrol(user=user)
    device = StaffTotpDevice.objects.get(user=user)

    def login(page, base_url):
        page.goto(f"{base_url}/admin/login/")
        page.fill("#id_username", "onboarder")
        page.fill("#id_password", STAFF_PASSWORD)
        page.fill("#id_otp_token", totp_code(device))
        page.click("input[type=submit]")
        page.wait_for_selector("#user-tools")

    return login


@pytest.fixture
def journey_worker(celery_workers, live_server, settings, dns_server):
    """A worker running the scheduler too (sweeps every second), asking the test DNS server;
    emails (rendered where they are queued) link to this live server."""
    settings.PORTAL_BASE_URL = live_server.url
    return celery_workers(
        beat=True,
        PORTAL_BASE_URL=live_server.url,
        SWEEP_INTERVAL_SECONDS="1",
        DNS_NAMESERVERS="127.0.0.1",
        DNS_PORT=str(dns_server.port),
    )


def create_tenant_in_admin(page, base_url, *, name, option, domain="", length="long"):
    """Staff fill in the tenant form as they would by hand."""
    page.goto(f"{base_url}/admin/onboarding/tenant/add/")
    page.fill("#id_name", name)
    page.fill("#id_main_contact_email", "it@globex.test")
    page.fill("#id_token_upload_contacts", "admin@globex.test")
    page.fill("#id_service_notification_contacts", "noc@globex.test")
    page.select_option("#id_calling_domains-0-option", option)
    page.fill("#id_calling_domains-0-domain", domain)
    page.select_option("#id_calling_domains-0-meeting_id_length", length)
    page.click("input[name=_save]")
    page.wait_for_selector(".messagelist")
    return Tenant.objects.get(name=name)


def run_admin_action(page, base_url, tenant, action):
    page.goto(f"{base_url}/admin/onboarding/tenant/")
    page.check(f"input[name=_selected_action][value='{tenant.pk}']")
    page.select_option("select[name=action]", action)
    page.click("button[name=index]")
    page.wait_for_selector(".messagelist")


def create_gateway_key_in_admin(page, base_url):
    """Staff switch the default gateway to the feed, add an API key to it and copy it from the
    one-time page."""
    gateway = Gateway.objects.get(is_default=True)
    page.goto(f"{base_url}/admin/onboarding/gateway/{gateway.pk}/change/")
    page.select_option("#id_provisioning", "feed")
    page.click("input[name=_save]")
    page.wait_for_selector(".messagelist")
    page.goto(f"{base_url}/admin/onboarding/gatewayapikey/add/?gateway={gateway.pk}")
    page.fill("#id_label", "journey gateway")
    page.click("input[name=_save]")
    return page.inner_text(".gateway-api-key").strip()


def set_up_infinity_in_admin(page, base_url, node):
    """Staff point the default gateway at its Management Node and test the connection."""
    gateway = Gateway.objects.get(is_default=True)
    page.goto(f"{base_url}/admin/onboarding/gateway/{gateway.pk}/change/")
    page.select_option("#id_provisioning", "infinity")
    page.fill("#id_management_url", f"https://127.0.0.1:{node.port}")
    page.fill("#id_management_username", node.username)
    page.fill("#id_management_password", node.password)
    page.fill("#id_management_ca_bundle", node.ca_bundle.read_text())
    page.click("input[name=_continue]")
    page.wait_for_selector(".messagelist")
    page.click("button[name=_test_connection]")
    page.wait_for_selector(".messagelist .success")
    assert "Connected to" in page.inner_text(".messagelist")


def fetch_feed(base_url, key, etag=None):
    """The gateway's own request: plain HTTP to the live server, bearer key, optional ETag."""
    request = urllib.request.Request(f"{base_url}/api/gateway/v1/config")  # noqa: S310
    request.add_header("Authorization", f"Bearer {key}")
    if etag:
        request.add_header("If-None-Match", etag)
    try:
        with urllib.request.urlopen(request, timeout=30) as response:  # noqa: S310 (loopback)
            return response.status, response.headers["ETag"], json.loads(response.read())
    except urllib.error.HTTPError as answer:
        return answer.code, answer.headers["ETag"], None


def link_in(message):
    text = message.get_body(("plain",)).get_content()
    return re.search(r"https?://\S+/upload/\S+/", text).group(0)


def test_a_shared_domain_tenant_from_creation_to_confirmation(
    page, live_server, staff_login, journey_worker, smtp_sink
):
    staff_login(page, live_server.url)
    gateway_key = create_gateway_key_in_admin(page, live_server.url)
    tenant = create_tenant_in_admin(
        page, live_server.url, name="Globex", option="shared", length="short"
    )
    prefix = tenant.calling_domains.get().prefix
    assert "deprecated setting" in page.content()
    run_admin_action(page, live_server.url, tenant, "enable_tenants")

    [initial] = smtp_sink.wait_for(1, timeout=60)
    assert initial["To"] == "admin@globex.test"
    assert f"{prefix}1234@gmeet.pexip.me" in initial.get_body(("plain",)).get_content()
    page.goto(link_in(initial))
    assert prefix in page.inner_text("main")
    page.fill("#id_token", TOKEN)
    page.fill(f"#id_prefix_{tenant.calling_domains.get().pk}", prefix)
    page.check("#id_trusted")
    page.click("button[type=submit]")
    page.wait_for_selector("text=We received the token for Globex")
    # the gateway pulls the feed: "ready" waits until it has fetched the token
    assert "your gateway is being configured" in page.inner_text("main")
    assert not OutboundEmail.objects.filter(kind=EmailKind.CONFIRMATION).exists()

    status, etag, feed = fetch_feed(live_server.url, gateway_key)
    assert status == 200
    [served] = feed["tenants"]
    assert served["token"]["value"] == TOKEN
    assert served["calling_domains"][0]["prefix"] == prefix
    confirmation = smtp_sink.wait_for(2, timeout=60)[1]
    assert confirmation["To"] == "noc@globex.test"
    assert "can now join" in confirmation["Subject"]
    assert fetch_feed(live_server.url, gateway_key, etag)[0] == 304
    page.reload()
    assert "Has your token since" in page.inner_text("main")
    assert "The service is ready" in page.inner_text("main")
    tenant.refresh_from_db()
    assert tenant.status == TenantStatus.ACTIVE
    assert SecurityToken.objects.get(tenant=tenant).fingerprint


def test_an_own_domain_tenant_waits_for_dns_is_provisioned_on_infinity_then_confirmed(
    page, live_server, staff_login, journey_worker, smtp_sink, dns_server, infinity_node
):
    staff_login(page, live_server.url)
    set_up_infinity_in_admin(page, live_server.url, infinity_node)
    tenant = create_tenant_in_admin(
        page, live_server.url, name="Globex", option="own", domain="video.globex.test"
    )
    assert Tenant.objects.get(pk=tenant.pk).status == TenantStatus.DNS_PENDING
    [instructions] = smtp_sink.wait_for(1, timeout=60)
    assert "publish DNS records" in instructions["Subject"]
    zone_lines = re.findall(
        r"^\S+ 3600 IN (?:SRV|TXT) .+$",
        instructions.get_body(("plain",)).get_content(),
        re.MULTILINE,
    )
    assert len(zone_lines) == 4

    calling_domain = tenant.calling_domains.get()
    # the first sweep finds nothing yet and backs off; then the customer publishes the records
    wait_until(
        lambda: calling_domain.dns_checks.filter(verdict="missing").count() == 4,
        timeout=60,
        what="the first check to find the records missing",
    )
    dns_server.add(*zone_lines)
    CallingDomain.objects.filter(pk=calling_domain.pk).update(next_check_at=timezone.now())
    wait_until(
        lambda: CallingDomain.objects.get(pk=calling_domain.pk).verified_at is not None,
        timeout=60,
        what="the worker's sweep to verify the domain",
    )
    run_admin_action(page, live_server.url, tenant, "enable_tenants")

    initial = smtp_sink.wait_for(2, timeout=60)[1]
    assert "video.globex.test" in initial.get_body(("plain",)).get_content()
    page.goto(link_in(initial))
    page.fill("#id_token", TOKEN)
    page.check("#id_trusted")
    page.click("button[type=submit]")
    page.wait_for_selector("text=We received the token for Globex")
    # the worker puts the token and one rule per calling domain on the Management Node, reads
    # them back, and only then sends the confirmation
    confirmation = smtp_sink.wait_for(3, timeout=60)[2]
    [node_token] = infinity_node.objects("gms_access_token")
    assert node_token["name"] == f"meet-portal-{tenant.pk}"
    assert infinity_node.token_matches(node_token["resource_uri"], TOKEN)
    [rule] = infinity_node.objects("gateway_routing_rule")
    assert rule["tag"] == f"meet-portal-{tenant.pk}-{calling_domain.pk}"
    token_row = SecurityToken.objects.get(tenant=tenant)
    assert token_row.gateway_has_token_at is not None
    assert infinity_node.requests("POST")  # the objects came before the email:
    ready_at = token_row.gateway_has_token_at
    assert OutboundEmail.objects.get(kind=EmailKind.CONFIRMATION).created_at >= ready_at
    assert confirmation["To"] == "noc@globex.test"
    assert Tenant.objects.get(pk=tenant.pk).status == TenantStatus.ACTIVE
    page.reload()
    assert "The service is ready" in page.inner_text("main")
