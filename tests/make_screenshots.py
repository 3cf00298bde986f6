"""The screenshots README.md links (docs/screenshots/), made in Debian's Chromium against a live
server with the test database. Not part of the suite (the name does not start with test_); run
it by name when a customer page or email changes:

    .venv/bin/python -m pytest -p no:cacheprovider tests/make_screenshots.py
"""

from __future__ import annotations

from pathlib import Path

import pytest

from onboarding.models import EmailKind
from tests.customer_email_support import stored, tenant_of_shape
from tests.upload_support import link_path, prefix_field

SCREENSHOTS = Path(__file__).resolve().parent.parent / "docs" / "screenshots"
WIDTHS = {"1280": {"width": 1280, "height": 900}, "390": {"width": 390, "height": 844}}


@pytest.fixture
def shot(browser):
    contexts = []

    def take(width: str):
        context = browser.new_context(viewport=WIDTHS[width], is_mobile=width == "390")
        contexts.append(context)
        return context.new_page()

    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    yield take
    for context in contexts:
        context.close()


@pytest.mark.parametrize("width", list(WIDTHS))
def test_the_upload_page(shot, live_server, width):
    tenant = tenant_of_shape("shared")
    page = shot(width)
    page.goto(live_server.url + link_path(tenant))

    page.screenshot(path=SCREENSHOTS / f"upload-page-{width}.png", full_page=True)


def test_the_upload_page_catching_a_wrong_prefix(shot, live_server):
    tenant = tenant_of_shape("shared")
    field, prefix = prefix_field(tenant)
    page = shot("390")
    page.goto(live_server.url + link_path(tenant))
    page.fill("#id_token", "example-token-0123456789")
    page.fill(f"#id_{field}", prefix + "1")
    page.check("#id_trusted")
    page.click("button[type=submit]")

    page.locator("form.upload-form").scroll_into_view_if_needed()
    page.locator("section[aria-labelledby=step-upload-token]").screenshot(
        path=SCREENSHOTS / "upload-page-wrong-prefix-390.png"
    )


@pytest.mark.django_db
@pytest.mark.parametrize("shape", ["shared", "own_sfb_limited"])
def test_the_initial_email(shot, shape):
    tenant_of_shape(shape)
    page = shot("1280")
    page.set_content(stored(EmailKind.INITIAL).html)

    page.screenshot(path=SCREENSHOTS / f"initial-email-{shape}.png", full_page=True)
