"""Staff sessions last STAFF_SESSION_HOURS (default 12) from sign-in and do not slide with
activity; then staff are signed out and asked to sign in again. Time is set, never waited for."""

from __future__ import annotations

import time

import pytest
from django.conf import settings as django_settings

from onboarding.infra.staff_sessions import SIGNED_IN_AT

pytestmark = pytest.mark.django_db

HOUR = 3600


def signed_in_hours_ago(client, hours: float) -> None:
    session = client.session
    session[SIGNED_IN_AT] = time.time() - hours * HOUR
    session.save()


def test_sign_in_starts_the_sessions_clock(staff_client):
    started = staff_client.session[SIGNED_IN_AT]

    assert time.time() - 60 < started <= time.time()


def test_a_session_within_its_hours_opens_the_admin(staff_client):
    signed_in_hours_ago(staff_client, 11.9)

    assert staff_client.get("/admin/").status_code == 200


def test_a_session_past_its_hours_is_signed_out(staff_client):
    signed_in_hours_ago(staff_client, 12)

    response = staff_client.get("/admin/", follow=True)

    assert response.redirect_chain[0][0].startswith("/admin/login/")
    assert "_auth_user_id" not in staff_client.session
    assert "staff sessions end 12 hours after sign-in" in response.content.decode()


def test_activity_does_not_move_the_clock(staff_client):
    signed_in_hours_ago(staff_client, 11.5)
    started = staff_client.session[SIGNED_IN_AT]

    for _ in range(3):
        assert staff_client.get("/admin/onboarding/tenant/").status_code == 200

    assert staff_client.session[SIGNED_IN_AT] == started
    signed_in_hours_ago(staff_client, 12.1)
    assert staff_client.get("/admin/onboarding/tenant/").status_code == 302


def test_the_hours_are_a_setting(staff_client, settings):
    settings.STAFF_SESSION_HOURS = 1
    signed_in_hours_ago(staff_client, 1.01)

    response = staff_client.get("/admin/")

    assert response.status_code == 302
    assert "_auth_user_id" not in staff_client.session


def test_a_session_from_before_the_rule_is_signed_out(staff_client):
    session = staff_client.session
    del session[SIGNED_IN_AT]
    session.save()

    assert staff_client.get("/admin/").status_code == 302
    assert "_auth_user_id" not in staff_client.session


def test_the_session_cookie_lasts_no_longer_than_the_session():
    assert django_settings.STAFF_SESSION_HOURS == 12
    assert django_settings.SESSION_COOKIE_AGE == 12 * HOUR
