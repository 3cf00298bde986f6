"""What customers read in their emails (domain.md, "The journey" step 4 and "What customers
read"): where in Google Admin each step happens, in Google's own words and in the right order;
the provider's name and why it needs the token; and only the sections that apply."""

import html

import pytest
from django.utils.html import strip_tags

from onboarding.domain import google_admin
from onboarding.models import EmailKind
from tests.customer_email_support import (
    CUSTOMER_KINDS,
    LINK_KINDS,
    every_customer_email,
    stored,
    tenant_of_shape,
)

pytestmark = pytest.mark.django_db

WHY = "Google lets a gateway into your meetings only when it presents a token"
SFB_WORDS = "Skype for Business"
OU_WORDS = ("organisational unit", "support.google.com/a/answer/9493952", "whole tenant")


def parts(email):
    """Both parts as a reader sees them (the HTML without its tags and entities)."""
    return {"text": email.text, "html": html.unescape(strip_tags(email.html))}


def positions(body, *phrases):
    found = [body.find(phrase) for phrase in phrases]
    assert -1 not in found, dict(zip(phrases, found, strict=True))
    return found


@pytest.mark.parametrize("kind", LINK_KINDS)
def test_the_link_emails_say_where_each_step_happens_in_googles_words(kind):
    emails = every_customer_email(tenant_of_shape("plain"))

    for part, body in parts(emails[kind]).items():
        for label in (
            google_admin.VIDEO_SETTINGS_PATH,
            f'"{google_admin.INTEROPERABILITY_SECTION}" section',
            google_admin.ALLOW_INTEROPERABILITY,
            google_admin.USE_LONG_MEETING_IDS,
            google_admin.TOKENS_PATH,
            google_admin.TRUSTED_AT_CREATION,
            f"{google_admin.TRUSTED_IN_LIST}",
            google_admin.TURN_ON,
            google_admin.OLDER_TOKENS_PATH,
            google_admin.OLDER_ADD_GATEWAY,
            google_admin.OLDER_GENERATE,
        ):
            assert label in body, (part, label)


@pytest.mark.parametrize("kind", LINK_KINDS)
def test_the_link_emails_tick_allow_first_then_the_values_then_the_token_last(kind):
    emails = every_customer_email(tenant_of_shape("own_sfb_limited"))

    for body in parts(emails[kind]).values():
        units, allow, values, token_page, upload = positions(
            body,
            "Meeting rooms",
            google_admin.ALLOW_INTEROPERABILITY,
            "192.0.2.10",
            google_admin.TOKENS_PATH,
            "http://testserver/upload/",
        )
        assert units < allow < values < token_page < upload


@pytest.mark.parametrize("kind", [*LINK_KINDS, EmailKind.SETTINGS_CHANGED])
def test_the_customer_emails_name_the_provider_and_say_why_it_needs_the_token(kind, settings):
    settings.PROVIDER_NAME = "Acme Video Bridges"
    emails = every_customer_email(tenant_of_shape("shared"))

    for body in parts(emails[kind]).values():
        assert "Acme Video Bridges" in body
        assert WHY in body


def test_every_customer_email_names_the_provider(settings):
    settings.PROVIDER_NAME = "Acme Video Bridges"
    emails = every_customer_email(tenant_of_shape("own_sfb_limited"))

    assert set(emails) == set(CUSTOMER_KINDS)
    for kind, email in emails.items():
        for part, body in parts(email).items():
            assert "Acme Video Bridges" in body, (kind, part)


def test_the_settings_changed_email_says_where_the_values_go():
    emails = every_customer_email(tenant_of_shape("plain"))

    for body in parts(emails[EmailKind.SETTINGS_CHANGED]).values():
        assert google_admin.VIDEO_SETTINGS_PATH in body
        assert google_admin.USE_LONG_MEETING_IDS in body
        assert google_admin.TOKENS_PATH not in body  # the token stays: nothing to create


@pytest.mark.parametrize("shape", ["plain"])
def test_no_customer_email_mentions_sfb_or_units_to_a_tenant_without_them(shape):
    emails = every_customer_email(tenant_of_shape(shape))

    for kind, email in emails.items():
        for part, body in parts(email).items():
            assert SFB_WORDS not in body, (kind, part)
            for words in OU_WORDS:
                assert words not in body, (kind, part, words)


def test_the_shared_domain_is_told_to_leave_the_sfb_box_unticked_and_nothing_about_units():
    emails = every_customer_email(tenant_of_shape("shared"))

    for kind in LINK_KINDS:
        for body in parts(emails[kind]).values():
            assert google_admin.SFB_ADDITIONAL_GATEWAY in body and "unticked" in body
    for kind, email in emails.items():
        for body in parts(email).values():
            for words in OU_WORDS:
                assert words not in body, (kind, words)


def test_limited_access_comes_with_googles_help_link_and_the_whole_tenant_warning():
    emails = every_customer_email(tenant_of_shape("own_sfb_limited"))

    for kind in [*LINK_KINDS, EmailKind.SETTINGS_CHANGED]:
        for body in parts(emails[kind]).values():
            for words in (*OU_WORDS, "Sales", "Meeting rooms"):
                assert words in body, (kind, words)
    for body in parts(emails[EmailKind.INITIAL]).values():
        assert "enter the hostname pexip.me" in body


@pytest.mark.parametrize(("shape", "count"), [("plain", "three"), ("own_sfb_limited", "four")])
def test_the_initial_email_counts_its_steps_truly(shape, count):
    email = every_customer_email(tenant_of_shape(shape))[EmailKind.INITIAL]

    for body in parts(email).values():
        assert f"{count} steps" in body.lower()
        assert f"step {'3' if count == 'three' else '4'}" in body.lower()
        assert f"step {'4' if count == 'three' else '5'}" not in body.lower()


def test_the_token_is_the_last_thing_to_copy_before_the_upload_page():
    tenant_of_shape("plain")

    email = stored(EmailKind.INITIAL)
    for body in parts(email).values():
        after_token = body[body.find(google_admin.TOKENS_PATH) :]
        assert "192.0.2.10" not in after_token and "gateway.example.com" not in after_token
