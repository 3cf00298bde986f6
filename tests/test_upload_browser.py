"""The upload page in a real browser: Debian's Chromium, headless, against a live server.

The browser is never downloaded: Playwright drives /usr/bin/chromium (`.ci/run` installs the
`chromium` package). When it is missing these tests fail; they never skip.
"""

from __future__ import annotations

import pytest

from onboarding.infra import encryption
from onboarding.models import SecurityToken, TenantStatus
from tests.upload_support import invited_tenant, link_path, prefix_field, shared_domain_tenant

TOKEN = "browser-Token_0123456789abcdef"
PHONE = {"width": 375, "height": 740}


@pytest.fixture
def tenant(live_server):
    return shared_domain_tenant()


@pytest.fixture
def link(live_server, tenant):
    return live_server.url + link_path(tenant)


@pytest.fixture
def console_errors(page):
    """Every console error and uncaught exception the page produces."""
    errors: list[str] = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    return errors


def fill_and_submit(page, tenant, token=TOKEN):
    field, prefix = prefix_field(tenant)
    page.fill("#id_token", token)
    page.fill(f"#id_{field}", prefix)
    page.check("#id_trusted")
    page.click("button[type=submit]")


def test_a_customer_uploads_the_token_and_sees_the_received_page(page, link, tenant):
    page.goto(link)
    fill_and_submit(page, tenant)

    page.wait_for_selector("text=We received the token for Globex")
    assert page.url == link
    stored = SecurityToken.objects.get(tenant=tenant)
    assert encryption.decrypt(stored.ciphertext) == TOKEN
    tenant.refresh_from_db()
    assert tenant.status == TenantStatus.ACTIVE


def test_the_page_and_the_received_page_log_no_console_errors(page, link, tenant, console_errors):
    page.goto(link)
    page.wait_for_load_state("networkidle")
    fill_and_submit(page, tenant)
    page.wait_for_selector("text=We received the token")
    page.wait_for_load_state("networkidle")

    assert console_errors == []


def test_bootstrap_is_served_by_the_live_server_and_styles_the_page(page, link):
    response = page.goto(link)

    button = page.locator("button[type=submit]")
    background = button.evaluate("b => getComputedStyle(b).backgroundColor")
    assert response.status == 200
    assert background == "rgb(13, 110, 253)"  # Bootstrap's --bs-primary
    assert page.locator(".copy-button").first.evaluate(
        "b => getComputedStyle(b).borderRadius"
    ) not in ("", "0px")


def test_the_copy_buttons_appear_and_put_each_value_on_the_clipboard(browser, link, tenant):
    context = browser.new_context(permissions=["clipboard-read", "clipboard-write"])
    page = context.new_page()
    page.goto(link)
    _field, prefix = prefix_field(tenant)
    expected = {
        "Gateway IP address": "192.0.2.10",
        "Gateway hostname": "gateway.example.com",
        "Meeting ID prefix": prefix,
    }

    for label, value in expected.items():
        button = page.get_by_role("button", name=f"Copy {label}")
        assert button.is_visible()
        button.click()
        assert page.evaluate("navigator.clipboard.readText()") == value
        assert button.text_content() == "Copied"
    # a radio choice in Google Admin is clicked, not typed: nothing to copy
    assert page.get_by_role("button", name="Copy Meeting ID length").count() == 0
    context.close()


def test_the_page_works_without_javascript(browser, link, tenant):
    context = browser.new_context(java_script_enabled=False)
    page = context.new_page()
    page.goto(link)

    assert page.locator(".copy-button").count() > 0
    assert not page.locator(".copy-button").first.is_visible()  # nothing to click without JS
    assert page.get_by_text("192.0.2.10").first.is_visible()  # the values stay readable text
    fill_and_submit(page, tenant)
    page.wait_for_selector("text=We received the token for Globex")
    assert SecurityToken.objects.filter(tenant=tenant).count() == 1
    context.close()


def page_scroll_width(page) -> int:
    return page.evaluate("document.documentElement.scrollWidth")


def test_the_page_is_readable_on_a_phone_without_scrolling_sideways(browser, link, tenant):
    context = browser.new_context(viewport=PHONE, is_mobile=True, has_touch=True)
    page = context.new_page()
    page.goto(link)
    upload_width = page_scroll_width(page)

    fill_and_submit(page, tenant)
    page.wait_for_selector("text=We received the token")

    assert upload_width <= PHONE["width"]
    assert page_scroll_width(page) <= PHONE["width"]
    context.close()


def test_a_long_calling_domain_wraps_on_a_phone_instead_of_widening_the_page(browser, live_server):
    label = "a" * 63  # the longest label a subdomain of onpexip.com can have
    tenant = invited_tenant("Initech", domain=label)
    context = browser.new_context(viewport=PHONE, is_mobile=True, has_touch=True)
    page = context.new_page()

    page.goto(live_server.url + link_path(tenant))

    assert page.get_by_text(f"1234567890123@{label}.onpexip.com").is_visible()
    assert page_scroll_width(page) <= PHONE["width"]
    context.close()
