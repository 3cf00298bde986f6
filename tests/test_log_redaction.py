"""Signed link values are taken out of log lines by their shape (`payload:timestamp:signature`),
however the path around them is spelled: raw or percent-encoded, any case, in the path, the
query string or the Referer.

The last test sends each spelling to the real production web server (gunicorn with
portal/gunicorn.conf.py) and reads every byte it wrote.
"""

from __future__ import annotations

import http.client
import logging
from urllib.parse import quote

import pytest

from onboarding.infra.log_redaction import RedactSignedLinks, redact
from onboarding.services import invitations
from tests.services import GunicornServer
from tests.upload_support import link_path, shared_domain_tenant

# what TimestampSigner.sign_object makes: a plain payload, and a compressed one (leading dot)
SIGNED = (
    "eyJpIjoyMCwibiI6InFjX1UyX1dsbHh6ZTVtWFhsVkpYR1EifQ"
    ":1xZVKj:4FAfTWf6KwoffdiKdBPhvcdpMjVDxpc4WBS2SxhP3M8"
)
COMPRESSED = (
    ".eJyrVspUslIyVNJRKs4vKkotLk7MTS1KzUsuyczPAwBxbAjT"
    ":1xZVKj:9aB-_cDefGhijKLmnoPqrsTuvWXyz0123456789ab"
)


def percent_encode_all(text: str) -> str:
    return "".join(f"%{byte:02X}" for byte in text.encode())


@pytest.mark.parametrize(
    "line",
    [
        f"GET /upload/{SIGNED}/ HTTP/1.1",
        f"GET /%75pload/{SIGNED}/ HTTP/1.1",
        f"GET /upload%2F{SIGNED}/ HTTP/1.1",
        f"GET /UPLOAD/{SIGNED}/ HTTP/1.1",
        f"Not Found: /UPLOAD/{SIGNED}/",
        f"GET /upload/{SIGNED.replace(':', '%3A')}/ HTTP/1.1",
        f"GET /upload/{SIGNED.replace(':', '%3a')}/ HTTP/1.1",
        f"GET /upload/{percent_encode_all(SIGNED)}/ HTTP/1.1",
        f"GET /upload/{percent_encode_all(SIGNED).lower()}/ HTTP/1.1",
        f"GET /no-such-page/?next={quote(f'/upload/{SIGNED}/', safe='')} HTTP/1.1",
        f"GET /dns-status/{COMPRESSED}/ HTTP/1.1",
        f'127.0.0.1 "GET /x/ HTTP/1.1" 404 "http://portal.test/upload/{SIGNED}/"',
        f"{SIGNED}",
    ],
)
def test_a_signed_value_is_redacted_however_it_is_spelled(line):
    redacted = redact(line)

    assert "[redacted]" in redacted
    for part in SIGNED.split(":") + COMPRESSED.split(":"):
        assert part not in redacted
    assert "eyJpIjoy" not in redacted and "%65%79%4A" not in redacted.upper()


@pytest.mark.parametrize(
    "line",
    [
        "GET /admin/onboarding/tenant/12/change/ HTTP/1.1",
        "2026-12-04 15:35:37,401 INFO django.server GET /healthz",
        "request_id=b9e3ee0615cd4da89a737abad36f271c",
        "Token fingerprint 3f2a9c:2026-12-04",
        "IPv6 [2001:db8::1]:443",
    ],
)
def test_lines_without_a_signed_value_are_left_alone(line):
    assert redact(line) == line


def test_a_record_whose_request_carries_a_signed_value_in_its_referer_drops_the_request(rf):
    request = rf.get("/static/x.css", HTTP_REFERER=f"http://portal.test/upload/{SIGNED}/")
    record = logging.LogRecord("django.request", logging.WARNING, "", 0, "Not Found", (), None)
    record.request = request

    RedactSignedLinks().filter(record)

    assert record.request is None


# Through the real web server ------------------------------------------------------------------


def raw_get(server: GunicornServer, target: str, headers: dict[str, str] | None = None) -> int:
    """Send the request line exactly as given (no client-side normalisation)."""
    connection = http.client.HTTPConnection("127.0.0.1", server.port, timeout=10)
    try:
        connection.putrequest("GET", target, skip_accept_encoding=True)
        for name, value in (headers or {}).items():
            connection.putheader(name, value)
        connection.endheaders()
        return connection.getresponse().status
    finally:
        connection.close()


@pytest.mark.services
def test_no_spelling_of_a_link_puts_its_signature_into_gunicorns_output(gunicorn):
    tenant = shared_domain_tenant()
    upload_signed = link_path(tenant).split("/")[2]
    dns_signed = invitations.dns_status_url(tenant).rstrip("/").rsplit("/", 1)[1]
    spellings = {
        f"/upload/{upload_signed}/": 200,
        f"/%75pload/{upload_signed}/": 200,
        f"/upload%2F{upload_signed}/": 200,
        f"/upload%2f{upload_signed}/": 200,
        f"/UPLOAD/{upload_signed}/": 404,
        f"/Upload/{upload_signed}/": 404,
        f"/upload/{upload_signed.replace(':', '%3A')}/": 200,
        f"/upload/{upload_signed.replace(':', '%3a')}/": 200,
        f"/upload/{percent_encode_all(upload_signed)}/": 200,
        f"/no-such-page/?next=/upload/{upload_signed}/": 404,
        f"/no-such-page/?next={quote(f'/upload/{upload_signed}/', safe='')}": 404,
        f"/dns-status/{dns_signed}/": 200,
        f"/%64ns-status/{dns_signed}/": 200,
        f"/DNS-STATUS/{dns_signed}/": 404,
    }

    answers = {target: raw_get(gunicorn, target) for target in spellings}
    referred = raw_get(
        gunicorn, "/no-such-page/", {"Referer": f"http://127.0.0.1/upload/{upload_signed}/"}
    )

    assert answers == spellings  # each spelling reached the portal as expected
    assert referred == 404
    output = gunicorn.output()
    assert output.count("[redacted]") >= len(spellings)
    for secret in (upload_signed, dns_signed):
        for part in secret.split(":"):
            assert part not in output
            assert percent_encode_all(part) not in output


@pytest.mark.parametrize("unit", ["a", "%41", "a1_-", "eyJ", "ab:"])
def test_a_long_run_without_a_signed_value_is_left_alone(unit):
    line = unit * (8_000 // len(unit))

    assert redact(line) == line
