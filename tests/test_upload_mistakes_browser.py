"""The upload page in Debian's Chromium at a desktop and a phone width (1280 and 390 px): a
mistake never costs the token, no Copy button lies between creating the token and pasting it,
and a tenant without Skype for Business reads nothing about it."""

from __future__ import annotations

import pytest

from onboarding.models import SecurityToken
from tests.customer_email_support import tenant_of_shape
from tests.upload_support import link_path, prefix_field

TOKEN = "browser-kept-Token_0123456789"
WIDTHS = {"desktop": {"width": 1280, "height": 900}, "phone": {"width": 390, "height": 844}}


@pytest.fixture(params=list(WIDTHS))
def viewport(request):
    return WIDTHS[request.param]


@pytest.fixture
def open_page(browser, live_server, viewport):
    """Open a tenant's upload page at this viewport, with or without JavaScript."""
    contexts = []

    def open_(tenant, *, javascript=True):
        context = browser.new_context(viewport=viewport, java_script_enabled=javascript)
        contexts.append(context)
        page = context.new_page()
        posts: list[str] = []
        page.on("request", lambda r: posts.append(r.url) if r.method == "POST" else None)
        page.goto(live_server.url + link_path(tenant))
        return page, posts

    yield open_
    for context in contexts:
        context.close()


def test_a_wrong_prefix_is_caught_before_sending_and_the_token_stays(open_page, live_server):
    tenant = tenant_of_shape("shared")
    page, posts = open_page(tenant)
    field, prefix = prefix_field(tenant)

    page.fill("#id_token", TOKEN)
    page.fill(f"#id_{field}", prefix + "1")  # one digit too many, pasted whole
    page.check("#id_trusted")
    page.click("button[type=submit]")

    assert page.get_by_text(f"which is {prefix}").is_visible()
    assert page.input_value("#id_token") == TOKEN
    assert page.input_value(f"#id_{field}") == prefix + "1"  # not cut to fit
    assert posts == []  # nothing was sent
    page.fill(f"#id_{field}", prefix)
    page.click("button[type=submit]")
    page.wait_for_selector("text=We received the token")
    assert SecurityToken.objects.filter(tenant=tenant).count() == 1


def test_a_missing_tick_is_caught_before_sending_and_the_token_stays(open_page):
    tenant = tenant_of_shape("plain")
    page, posts = open_page(tenant)

    page.fill("#id_token", TOKEN)
    page.click("button[type=submit]")

    assert page.get_by_text("then tick this box").first.is_visible()
    assert page.locator(".client-check-summary").is_visible()
    assert page.input_value("#id_token") == TOKEN
    assert posts == []


def test_without_javascript_the_refusal_page_keeps_the_token(open_page):
    tenant = tenant_of_shape("shared")
    page, _posts = open_page(tenant, javascript=False)
    field, prefix = prefix_field(tenant)

    page.fill("#id_token", TOKEN)
    page.fill(f"#id_{field}", "1234")
    page.check("#id_trusted")
    page.click("button[type=submit]")

    assert page.get_by_text(f"which is {prefix}").is_visible()
    assert page.input_value("#id_token") == TOKEN
    assert not SecurityToken.objects.filter(tenant=tenant).exists()


def test_no_copy_button_between_creating_the_token_and_pasting_it(open_page):
    page, _posts = open_page(tenant_of_shape("shared"))

    token_step = page.locator("#step-create-token").bounding_box()
    buttons = page.locator(".copy-button")
    tops = [buttons.nth(i).bounding_box()["y"] for i in range(buttons.count())]
    assert len(tops) == 3  # IP address, hostname, prefix: every one above the token step
    assert all(top < token_step["y"] for top in tops)
    assert all(buttons.nth(i).is_visible() for i in range(buttons.count()))


def test_a_tenant_without_sfb_reads_nothing_about_it(open_page):
    page, _posts = open_page(tenant_of_shape("plain"))

    assert "Skype" not in page.locator("body").inner_text()
    assert page.get_by_text("Use long meeting IDs").first.is_visible()


def test_the_page_fits_the_width_without_scrolling_sideways(open_page, viewport):
    page, _posts = open_page(tenant_of_shape("own_sfb_limited"))

    assert page.evaluate("document.documentElement.scrollWidth") <= viewport["width"]
