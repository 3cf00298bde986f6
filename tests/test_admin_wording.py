"""Small things staff read in the admin: domains keep their case in messages, plurals are
English, and there is no "View site" link to a page that does not exist."""

from __future__ import annotations

import pytest
from django.urls import reverse

from onboarding.models import GatewayFetch
from tests.test_admin_tenants import ADD_URL, tenant_form

pytestmark = pytest.mark.django_db


def test_a_message_that_starts_with_a_domain_keeps_its_case(staff_client):
    data = tenant_form(domains=[{"option": "shared", "meeting_id_length": "short"}])

    page = staff_client.post(ADD_URL, data, follow=True).content.decode()

    assert "gmeet.pexip.me: " in page
    assert "Gmeet.pexip.me" not in page


def test_gateway_feed_fetches_are_spelt_right():
    assert GatewayFetch._meta.verbose_name_plural == "gateway feed fetches"


def test_the_admin_offers_no_view_site_link_to_a_missing_page(staff_client):
    page = staff_client.get(reverse("admin:index")).content.decode()

    assert "View site" not in page
    assert staff_client.get("/").status_code == 404
