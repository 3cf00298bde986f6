"""Accessibility of the customer pages in a real browser: axe-core finds no serious or critical
violation, and a keyboard alone is enough to upload the token or ask for a new link.

axe-core comes from npm (scripts/test.sh installs it when node_modules/ lacks it) and runs inside
the page through page.evaluate, so the pages keep their strict CSP while it runs.
"""

from __future__ import annotations

import pytest

from onboarding.infra import encryption
from onboarding.models import SecurityToken
from tests.browser_support import CUSTOMER_PAGES, axe_results, serious_violations
from tests.upload_support import link_path, prefix_field, shared_domain_tenant

# The brief's four, and the other states a customer can land on.
PAGES = sorted(CUSTOMER_PAGES)
# A focusable element is never further than this many Tab presses: a bound, not a target.
MAX_TABS = 60


@pytest.mark.parametrize("name", PAGES)
def test_each_customer_page_has_no_serious_or_critical_axe_violation(name, page, live_server):
    make_page, status = CUSTOMER_PAGES[name]
    response = page.goto(live_server.url + make_page())

    results = axe_results(page)

    assert response.status == status
    assert len(results["passes"]) > 5  # axe really ran its rules on this page
    assert serious_violations(results) == []


def test_axe_reports_a_serious_violation_when_there_is_one(page, live_server):
    """The check can fail: an image without alternative text is a critical violation."""
    page.goto(live_server.url + CUSTOMER_PAGES["upload"][0]())
    page.evaluate("() => document.querySelector('main').appendChild(document.createElement('img'))")

    assert any(v.startswith("image-alt") for v in serious_violations(axe_results(page)))


def tab_to(page, selector: str) -> int:
    """Press Tab until the element matching selector has the focus; return how many presses."""
    for presses in range(1, MAX_TABS + 1):
        page.keyboard.press("Tab")
        if page.evaluate(f"document.activeElement.matches({selector!r})"):
            return presses
    raise AssertionError(f"{selector} never got the focus in {MAX_TABS} Tab presses")


def focus_is_visible(page) -> bool:
    """The focused element shows a ring (an outline or Bootstrap's box-shadow)."""
    return page.evaluate(
        """() => { const s = getComputedStyle(document.activeElement);
                   return (s.outlineStyle !== 'none' && s.outlineWidth !== '0px')
                          || s.boxShadow !== 'none'; }"""
    )


def test_the_upload_form_is_filled_and_submitted_with_the_keyboard_alone(page, live_server):
    tenant = shared_domain_tenant()
    field, prefix = prefix_field(tenant)
    page.goto(live_server.url + link_path(tenant))

    tab_to(page, "#id_token")
    assert focus_is_visible(page)
    page.keyboard.type("keyboard-Token_0123456789")
    tab_to(page, f"#id_{field}")
    page.keyboard.type(prefix)
    tab_to(page, "#id_trusted")
    page.keyboard.press("Space")
    tab_to(page, "button[type=submit]")
    assert focus_is_visible(page)
    page.keyboard.press("Enter")

    page.wait_for_selector("text=We received the token")
    assert encryption.decrypt(SecurityToken.objects.get(tenant=tenant).ciphertext) == (
        "keyboard-Token_0123456789"
    )


def test_the_copy_buttons_are_reached_and_pressed_with_the_keyboard(browser, live_server):
    context = browser.new_context(permissions=["clipboard-read", "clipboard-write"])
    page = context.new_page()
    page.goto(live_server.url + link_path(shared_domain_tenant()))

    tab_to(page, ".copy-button")
    label = page.evaluate("document.activeElement.getAttribute('aria-label')")
    value = page.evaluate("document.activeElement.getAttribute('data-copy')")
    page.keyboard.press("Enter")

    assert label and label.startswith("Copy ")
    # The copy is asynchronous and its "Copied" label lasts two seconds: wait for the clipboard
    # itself, which a slow machine cannot miss.
    page.wait_for_function(
        "async (value) => (await navigator.clipboard.readText()) === value", arg=value
    )
    assert value
    context.close()


def test_a_new_link_is_asked_for_from_an_expired_link_with_the_keyboard(page, live_server):
    page.goto(live_server.url + CUSTOMER_PAGES["expired"][0]())

    tab_to(page, "button[type=submit]")
    page.keyboard.press("Enter")

    page.wait_for_selector("text=We sent a new link")
