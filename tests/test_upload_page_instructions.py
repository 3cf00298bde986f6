"""What the upload page and the other customer pages say (domain.md, "What customers read"):
the provider and why it needs the token, where in Google Admin each step happens and in which
order, Copy buttons only on typed values before the token, and only what applies."""

import html
import re

import pytest
from django.test import Client
from django.utils.html import strip_tags

from onboarding.domain import google_admin
from tests.browser_support import CUSTOMER_PAGES
from tests.customer_email_support import tenant_of_shape
from tests.upload_support import link_path

pytestmark = pytest.mark.django_db

WHY = "Google lets a gateway into your meetings only when it presents a token"


def page_of(shape: str, client: Client) -> str:
    return client.get(link_path(tenant_of_shape(shape))).content.decode()


def words(page: str) -> str:
    """The page as a reader sees it: no tags, no entities."""
    return html.unescape(strip_tags(page))


@pytest.mark.parametrize("name", list(CUSTOMER_PAGES))
def test_every_customer_page_names_the_provider_and_says_why_it_needs_the_token(
    name, client, settings
):
    settings.PROVIDER_NAME = "Acme Video Bridges"
    make, status = CUSTOMER_PAGES[name]

    response = client.get(make())

    assert response.status_code == status
    assert "Acme Video Bridges" in words(response.content.decode())
    assert WHY in words(response.content.decode())


def test_the_upload_page_says_where_each_step_happens_in_order(client):
    text = words(page_of("own_sfb_limited", client))

    position, found = 0, {}
    for phrase in (
        "Meeting rooms",
        google_admin.VIDEO_SETTINGS_PATH,
        f'"{google_admin.INTEROPERABILITY_SECTION}" section',
        google_admin.ALLOW_INTEROPERABILITY,
        google_admin.USE_LONG_MEETING_IDS,
        "192.0.2.10",
        google_admin.TOKENS_PATH,
        google_admin.TRUSTED_AT_CREATION,
        f'"{google_admin.TRUSTED_IN_LIST}" > "{google_admin.TURN_ON}"',
        google_admin.OLDER_TOKENS_PATH,
        "Security token",
    ):
        position = text.find(phrase, position)
        found[phrase] = position
    assert -1 not in found.values(), found  # each found after the one before it


def test_no_copy_button_sits_between_creating_the_token_and_pasting_it(client):
    page = page_of("shared", client)

    after_token_step = page[page.index('id="step-create-token"') :]
    assert page.count("copy-button") >= 3  # IP address, hostname, prefix
    assert "copy-button" not in after_token_step


def test_copy_buttons_sit_on_typed_values_never_on_the_meeting_id_choice(client):
    page = page_of("shared", client)

    labels = re.findall(r'aria-label="Copy ([^"]+)"', page)
    assert labels == ["Gateway IP address", "Gateway hostname", "Meeting ID prefix"]
    assert google_admin.USE_SHORT_MEETING_IDS in words(page)


def test_a_tenant_without_sfb_reads_nothing_about_it_nor_about_units(client):
    text = words(page_of("plain", client))

    assert "Skype" not in text
    assert "organisational unit" not in text and "9493952" not in text


def test_the_shared_domain_is_told_to_leave_the_sfb_box_unticked(client):
    text = words(page_of("shared", client))

    assert f"Leave '{google_admin.SFB_ADDITIONAL_GATEWAY}' unticked" in text


def test_limited_access_comes_first_with_googles_help_and_the_whole_tenant_warning(client):
    page = page_of("own_sfb_limited", client)

    assert f'href="{google_admin.ACCESS_SCOPE_HELP_URL}"' in page
    assert "the token still covers the whole tenant" in words(page)
    assert "Step 1: Limit access first" in words(page)


@pytest.mark.parametrize(
    ("shape", "count", "last_step"), [("plain", "three", 3), ("own_sfb_limited", "four", 4)]
)
def test_the_page_counts_its_steps_truly(shape, count, last_step, client):
    text = words(page_of(shape, client))

    assert f"It takes {count} steps" in text
    assert f"Step {last_step}: Paste the token here" in text
    assert f"Step {last_step + 1}" not in text
