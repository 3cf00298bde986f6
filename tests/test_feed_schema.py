"""Schemathesis against the committed OpenAPI description of the provisioning feed, through
Django's WSGI app on the test database: no 500, and every response matches the schema."""

from pathlib import Path

import pytest
import schemathesis
from django.core.wsgi import get_wsgi_application
from hypothesis import HealthCheck, settings

from tests.feed_support import active_tenant, issue_key

OPENAPI = Path(__file__).resolve().parent.parent / "onboarding" / "api" / "openapi.yaml"

schema = schemathesis.openapi.from_path(str(OPENAPI))
schema.app = get_wsgi_application()

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def keep_the_test_connection():
    """The WSGI handler closes the database connection after each request (as in production);
    the test's transaction lives on it, so keep it open, as Django's test client does."""
    from django.core.signals import request_finished, request_started
    from django.db import close_old_connections

    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    yield
    request_started.connect(close_old_connections)
    request_finished.connect(close_old_connections)


@pytest.fixture
def gateway_key(settings):
    # the counters would otherwise turn later examples into 429s
    settings.RATELIMIT_ENABLE = False
    active_tenant("Acme")
    active_tenant("Globex", option="shared", domain="")
    return issue_key()


@schema.parametrize()
@settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
def test_the_feed_matches_its_openapi_description(case, gateway_key):
    case.call_and_validate(app=schema.app, headers={"Authorization": f"Bearer {gateway_key}"})


@schema.parametrize()
@settings(
    max_examples=10,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
def test_the_feed_without_a_key_matches_its_openapi_description(case, settings):
    settings.RATELIMIT_ENABLE = False
    response = case.call_and_validate(app=schema.app)

    # schemathesis also tries other methods: those are 405, never a CSRF page or a 500
    assert response.status_code == (401 if case.method.upper() == "GET" else 405)
