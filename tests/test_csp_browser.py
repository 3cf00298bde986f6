"""Content Security Policy in a real browser: every customer page loads with zero violations, and
the admin's main pages with none beyond the relaxations listed in settings.

Violations are caught inside the page (a `securitypolicyviolation` listener added before any page
script runs) and in Chromium's console; both must stay empty.
"""

from __future__ import annotations

import pytest
from django.conf import settings
from django.urls import reverse

from onboarding.models import Tenant
from tests.browser_support import CUSTOMER_PAGES, ViolationLog, dns_status_page, session_cookie
from tests.upload_support import invited_tenant, link_path, prefix_field, shared_domain_tenant

STRICT_DIRECTIVES = {
    "default-src": "'self'",
    "img-src": "'self' data:",
    "form-action": "'self'",
    "frame-ancestors": "'none'",
    "script-src": "'self'",
    "style-src": "'self'",
}


@pytest.fixture
def violations(page):
    log = ViolationLog()
    log.attach(page)
    return log


def policy_of(header: str) -> dict[str, str]:
    directives = (part.strip().split(" ", 1) for part in header.split(";") if part.strip())
    return {name: value for name, value in (d if len(d) == 2 else (d[0], "") for d in directives)}


@pytest.mark.parametrize("name", sorted(CUSTOMER_PAGES))
def test_each_customer_page_loads_with_zero_csp_violations(name, page, live_server, violations):
    make_page, status = CUSTOMER_PAGES[name]
    path = make_page()

    response = page.goto(live_server.url + path)

    assert response.status == status
    policy = policy_of(response.headers["content-security-policy"])
    assert {k: policy.get(k) for k in STRICT_DIRECTIVES} == STRICT_DIRECTIVES
    assert "unsafe-inline" not in response.headers["content-security-policy"]
    assert violations.of(page) == []


def test_the_copy_buttons_and_the_upload_work_under_the_policy(browser, live_server):
    context = browser.new_context(permissions=["clipboard-read", "clipboard-write"])
    page = context.new_page()
    log = ViolationLog()
    log.attach(page)
    tenant = shared_domain_tenant()

    page.goto(live_server.url + link_path(tenant))
    page.get_by_role("button", name="Copy Gateway IP address").click()
    assert page.evaluate("navigator.clipboard.readText()") == "192.0.2.10"  # copy.js ran
    before_submit = log.of(page)
    field, prefix = prefix_field(tenant)
    page.fill("#id_token", "csp-token-0123456789abcdef")
    page.fill(f"#id_{field}", prefix)
    page.check("#id_trusted")
    page.click("button[type=submit]")  # form-action 'self' lets the form post to its own page
    page.wait_for_selector("text=We received the token")

    assert before_submit == []
    assert log.of(page) == []
    context.close()


def test_an_inline_script_would_be_reported(page, live_server, violations):
    """The listener really catches violations: a page that breaks the policy is seen."""
    page.goto(live_server.url + CUSTOMER_PAGES["unknown page (404)"][0]())

    page.evaluate(
        """() => { const s = document.createElement('script');
                   s.textContent = 'window.ran = 1'; document.body.appendChild(s); }"""
    )

    found = violations.of(page)
    assert found and any("script-src" in v for v in found)
    assert page.evaluate("window.ran") is None


# The admin ---------------------------------------------------------------------------------


@pytest.fixture
def admin_page(browser, live_server, staff_user):
    context = browser.new_context()
    context.add_cookies([session_cookie(staff_user, live_server.url)])
    page = context.new_page()
    yield page
    context.close()


def admin_main_pages(tenant: Tenant) -> list[str]:
    calling_domain = tenant.calling_domains.get()
    return [
        reverse("admin:index"),
        reverse("admin:onboarding_tenant_changelist"),
        reverse("admin:onboarding_tenant_add"),
        reverse("admin:onboarding_tenant_change", args=[tenant.pk]),
        reverse("admin:onboarding_tenant_history", args=[tenant.pk]),
        reverse("admin:onboarding_gateway_changelist"),
        reverse("admin:onboarding_gateway_add"),
        reverse("admin:onboarding_auditevent_changelist"),
        reverse("admin:onboarding_outboundemail_changelist"),
        reverse("admin:onboarding_dnscheck_changelist"),
        reverse("admin:auth_user_changelist"),
        reverse("admin:auth_user_add"),
        reverse("admin:auth_group_changelist"),
        reverse("admin:onboarding_dashboard"),
        reverse("admin:onboarding_gatewayapikey_changelist"),
        reverse("admin:onboarding_gatewayapikey_add"),
        reverse("admin:onboarding_gatewayfetch_changelist"),
        f"{reverse('admin:onboarding_tenant_changelist')}?q={calling_domain.domain}",
    ]


def test_the_admins_main_pages_load_with_zero_csp_violations(admin_page, live_server):
    tenant = invited_tenant("Adminview")
    dns_status_page()  # an own-domain tenant: its page shows the DNS table and badges
    own_domain_tenant = Tenant.objects.get(name="Owndomain")
    pages = [
        *admin_main_pages(tenant),
        reverse("admin:onboarding_tenant_change", args=[own_domain_tenant.pk]),
    ]
    found: dict[str, list[str]] = {}

    for path in pages:
        log = ViolationLog()
        log.attach(admin_page)
        response = admin_page.goto(live_server.url + path)
        assert response.status == 200, path
        assert "unsafe-inline" not in response.headers["content-security-policy"], path
        found[path] = log.of(admin_page)
        admin_page.remove_listener("console", log._on_console)

    assert {path: seen for path, seen in found.items() if seen} == {}


def test_the_offboard_confirmation_loads_with_zero_csp_violations_and_works(
    admin_page, live_server
):
    """The page answers a POST, so it is reached the way staff reach it: tick, pick, Go."""
    tenant = invited_tenant("Leaving")
    admin_page.goto(live_server.url + reverse("admin:onboarding_tenant_changelist"))
    log = ViolationLog()
    log.attach(admin_page)

    admin_page.check(f'input[name="_selected_action"][value="{tenant.pk}"]')
    admin_page.select_option('select[name="action"]', "offboard_tenants")
    admin_page.click('button[name="index"]')
    admin_page.wait_for_selector("text=This cannot be undone.")

    assert log.of(admin_page) == []
    assert Tenant.objects.get(pk=tenant.pk).status == "invited"
    admin_page.click('input[type=submit][value="Yes, offboard"]')
    admin_page.wait_for_selector("text=Leaving is offboarded")
    assert Tenant.objects.get(pk=tenant.pk).status == "offboarded"


@pytest.mark.parametrize("path", ["admin:login", "admin:index"])
def test_the_sign_in_page_loads_with_zero_csp_violations(page, live_server, path):
    """Signed out: the admin's own pages send the browser to the sign-in form."""
    log = ViolationLog()
    log.attach(page)
    response = page.goto(live_server.url + reverse(path))

    assert response.status == 200
    assert page.locator("input[name=otp_token]").count() == 1  # the second factor is asked for
    assert log.of(page) == []


def test_the_email_previews_need_only_their_listed_relaxation(admin_page, live_server):
    tenant = invited_tenant("Previews")
    log = ViolationLog()
    log.attach(admin_page)

    response = admin_page.goto(
        live_server.url + reverse("admin:onboarding_tenant_email_previews", args=[tenant.pk])
    )

    header = response.headers["content-security-policy"]
    relaxation = settings.ADMIN_CSP_RELAXATIONS["email_previews"]
    assert policy_of(header)["style-src-attr"] == " ".join(relaxation["style-src-attr"])
    assert policy_of(header)["script-src"] == "'self'"
    assert log.of(admin_page) == []
    # a sandboxed frame reports no violation anywhere, so look at the effect: the emails' own
    # inline styles apply (without the relaxation the body falls back to the browser's serif)
    count = admin_page.locator("iframe.email-html").count()
    assert count > 0
    for n in range(count):
        body = admin_page.frame_locator("iframe.email-html").nth(n).locator("body")
        assert "Arial" in body.evaluate("b => getComputedStyle(b).fontFamily")
