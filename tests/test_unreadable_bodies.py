"""A form body Django cannot read (a non-UTF-8 charset, a broken multipart) is the client's
mistake: it answers 400 with the portal's page, never a 500, with DEBUG off and on.

Django refuses such a body with BadRequest; its default 400 view then ran the CSRF check again,
which read the body again and raised inside the error handler (a 500 anyone could trigger with
any `csrftoken` cookie).
"""

from __future__ import annotations

import logging

import pytest
from django.test import Client
from hypothesis import example, given
from hypothesis import strategies as st

from onboarding.services import invitations
from tests.conftest import otp_verified_login
from tests.upload_support import link_path, shared_domain_tenant

pytestmark = pytest.mark.django_db

CHARSETS = ["latin-1", "iso-8859-1", "utf-16", "cp1252", "ascii", "utf-8", "no-such-charset", ""]
CONTENT_TYPES = [
    "application/x-www-form-urlencoded",
    "multipart/form-data",
    "multipart/form-data; boundary=b",
    "multipart/form-data; boundary=",
    "text/plain",
    "application/json",
]
METHODS = ["POST", "PUT", "PATCH", "DELETE"]
BODIES = st.one_of(
    st.just(b"a=b"),
    st.just(b"token=\xe9t\xe9&trusted=on"),
    st.just(b'--b\r\nContent-Disposition: form-data; name="a"\r\n\r\nb\r\n--b--\r\n'),
    st.binary(max_size=200),
)
ENDPOINTS = ["upload", "new-link", "dns-status", "admin-login", "admin-form"]


class RecordedErrors(logging.Handler):
    def __init__(self) -> None:
        super().__init__(level=logging.ERROR)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)


@pytest.fixture
def logged_errors():
    """ERROR lines of django.request (the portal's loggers do not propagate to caplog's root)."""
    handler = RecordedErrors()
    logger = logging.getLogger("django.request")
    logger.addHandler(handler)
    yield handler.records
    logger.removeHandler(handler)


@pytest.fixture
def paths(staff_user):
    tenant = shared_domain_tenant()
    upload = link_path(tenant)
    dns_status = invitations.dns_status_url(tenant).removeprefix("http://testserver")
    return {
        "upload": upload,
        "new-link": f"{upload}new-link/",
        "dns-status": dns_status,
        "admin-login": "/admin/login/",
        "admin-form": f"/admin/onboarding/tenant/{tenant.pk}/change/",
    }


def browser_like_client(*, signed_in_as=None) -> Client:
    client = Client(enforce_csrf_checks=True)
    if signed_in_as is not None:
        otp_verified_login(client, signed_in_as)
    client.cookies["csrftoken"] = "x" * 32
    return client


@pytest.mark.parametrize("debug", [False, True], ids=["debug-off", "debug-on"])
@given(
    endpoint=st.sampled_from(ENDPOINTS),
    method=st.sampled_from(METHODS),
    content_type=st.sampled_from(CONTENT_TYPES),
    charset=st.sampled_from(CHARSETS),
    body=BODIES,
)
@example(
    endpoint="upload", method="POST", content_type=CONTENT_TYPES[0], charset="latin-1", body=b"a=b"
)
def test_no_unreadable_body_answers_500(
    settings, paths, staff_user, logged_errors, debug, endpoint, method, content_type, charset, body
):
    settings.DEBUG = debug
    settings.RATELIMIT_ENABLE = False
    client = browser_like_client(signed_in_as=staff_user if endpoint == "admin-form" else None)
    header = f"{content_type}; charset={charset}" if charset else content_type

    response = client.generic(method, paths[endpoint], body, content_type=header)

    assert response.status_code != 500
    assert response.status_code in {200, 302, 400, 403, 404, 405, 410}
    assert logged_errors == []


def test_a_latin1_form_body_gets_the_portals_400_page(paths, logged_errors):
    client = browser_like_client()

    response = client.post(
        paths["upload"], b"a=b", content_type="application/x-www-form-urlencoded; charset=latin-1"
    )

    assert response.status_code == 400
    assert "could not read" in response.content.decode()
    assert response["Cache-Control"] == "no-store"
    assert "default-src 'self'" in response["Content-Security-Policy"]
    assert response["X-Frame-Options"] == "DENY"
    assert logged_errors == []


def test_a_latin1_form_body_gets_400_with_debug_on(settings, paths, logged_errors):
    settings.DEBUG = True
    client = browser_like_client()

    response = client.post(
        "/admin/login/", b"a=b", content_type="application/x-www-form-urlencoded; charset=latin-1"
    )

    assert response.status_code == 400
    assert logged_errors == []


def test_a_broken_multipart_body_gets_400(paths, logged_errors):
    client = browser_like_client()

    response = client.post(paths["upload"], b"junk", content_type="multipart/form-data")

    assert response.status_code == 400
    assert logged_errors == []


def test_a_readable_body_still_reaches_the_csrf_check(paths):
    client = browser_like_client()

    response = client.post(paths["upload"], {"token": "abc"})

    assert response.status_code == 403  # the cookie's token is not in the form: CSRF refuses
