"""Logs: JSON lines in production, a request id that follows a request into the Celery tasks it
queues, and no line from gunicorn, Django or the worker that carries a secret.

The last test runs the production web server for real (gunicorn with portal/gunicorn.conf.py) and
a real Celery worker, drives a browser through a refused and a successful upload, and reads every
byte both processes wrote.
"""

from __future__ import annotations

import io
import json
import logging
import secrets as random
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta

import pytest
from django.utils import timezone

from onboarding.infra.request_ids import REQUEST_ID_HEADER
from tests.provisioning_support import make_infinity
from tests.services import wait_until
from tests.upload_support import link_path, prefix_field, shared_domain_tenant


@pytest.fixture
def console_log():
    """The configured console handler (its real formatter and filters), writing into a buffer."""
    handler = next(h for h in logging.getLogger().handlers if h.name == "console")
    buffer = io.StringIO()
    original = handler.setStream(buffer)
    yield buffer
    handler.setStream(original)


def json_lines(text: str) -> list[dict]:
    return [json.loads(line) for line in text.splitlines() if line.strip()]


# Request ids ---------------------------------------------------------------------------------


@pytest.mark.django_db
def test_every_response_carries_a_fresh_request_id(client):
    first = client.get("/no-such-page/")
    second = client.get("/no-such-page/")

    assert len(first[REQUEST_ID_HEADER]) == 32
    assert first[REQUEST_ID_HEADER] != second[REQUEST_ID_HEADER]


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("offered", "kept"),
    [
        ("lb-7f3a9c21-0001", True),
        ("short", False),  # too short to be a proxy's id
        ("x" * 65, False),  # too long
        ("id with spaces\nand a forged line", False),
    ],
)
def test_a_proxys_request_id_is_kept_only_when_it_looks_like_one(client, offered, kept):
    response = client.get("/no-such-page/", headers={REQUEST_ID_HEADER: offered})

    assert (response[REQUEST_ID_HEADER] == offered) is kept
    assert "\n" not in response[REQUEST_ID_HEADER]


@pytest.mark.django_db
def test_log_lines_are_json_objects_carrying_the_request_id(client, console_log):
    response = client.get("/no-such-page/")

    lines = json_lines(console_log.getvalue())
    not_found = next(line for line in lines if line["message"] == "Not Found: /no-such-page/")
    assert not_found["request_id"] == response[REQUEST_ID_HEADER]
    assert (not_found["level"], not_found["logger"]) == ("WARNING", "django.request")
    assert {"time", "level", "logger", "request_id", "message"} <= set(not_found)


def test_a_line_outside_any_request_has_a_dash_for_its_id(console_log):
    logging.getLogger("onboarding.test").warning("outside a request")

    (line,) = json_lines(console_log.getvalue())
    assert (line["message"], line["request_id"]) == ("outside a request", "-")


@pytest.mark.django_db
def test_a_signed_link_is_redacted_in_the_json_line_and_its_request_dropped(client, console_log):
    path = link_path(shared_domain_tenant())
    signature = path.split("/")[2]

    client.post(path, {"token": "never-logged-0123456789"})  # refused: logged as a 400

    text = console_log.getvalue()
    assert "Bad Request: /upload/[redacted]/" in text
    assert signature not in text and "never-logged-0123456789" not in text


@pytest.mark.django_db
def test_a_signed_link_in_a_query_string_is_kept_out_of_the_json_line(client, console_log):
    signature = link_path(shared_domain_tenant()).split("/")[2]

    response = client.get(f"/no-such-page/?next=/upload/{signature}/")

    assert response.status_code == 404
    text = console_log.getvalue()
    assert "Not Found: /no-such-page/" in text  # the line was written
    assert signature not in text


# Real processes: gunicorn, a Celery worker, a browser ----------------------------------------


@dataclass
class Secrets:
    """Every secret the actions below put in play, by what it is; none may appear in a log."""

    values: dict[str, str] = field(default_factory=dict)
    request_ids: dict[str, str] = field(default_factory=dict)


def customer_uploads_a_token(page, base_url: str, found: Secrets) -> None:
    """A refused attempt (400, logged by django.request), then the real upload (302)."""
    tenant = shared_domain_tenant()
    path = link_path(tenant)
    token = f"Zq{random.token_urlsafe(24)}"
    found.values["uploaded token"] = token
    found.values["upload link signature"] = path.split("/")[2]
    field_name, prefix = prefix_field(tenant)

    page.goto(base_url + path)
    page.fill("#id_token", token)
    with page.expect_response(lambda r: r.request.method == "POST") as refused:
        # the prefix and the trusted tick are missing: sent as a browser without JavaScript
        # sends it (form.submit() skips the page's own checks), so the server refuses it and
        # its 400 page, which keeps the token in its field, goes through gunicorn's logs too
        page.evaluate("document.querySelector('form.upload-form').submit()")
    assert page.input_value("#id_token") == token
    page.fill(f"#id_{field_name}", prefix)
    page.check("#id_trusted")
    with page.expect_response(lambda r: r.request.method == "POST") as stored:
        page.click("button[type=submit]")
    page.wait_for_selector("text=We received the token")

    assert (refused.value.status, stored.value.status) == (400, 302)
    found.request_ids["upload"] = stored.value.headers[REQUEST_ID_HEADER.lower()]


def customer_opens_a_tampered_link(page, base_url: str, found: Secrets) -> None:
    path = link_path(shared_domain_tenant("Initech"))
    tampered = path.replace("/upload/", "/upload/Q", 1)
    found.values["tampered link signature"] = tampered.split("/")[2]

    assert page.goto(base_url + tampered).status == 404


def staff_signs_in_with_a_second_factor(page, base_url: str, found: Secrets) -> None:
    """A wrong code (a failed sign-in, which django-axes logs), then a backup code, then TOTP."""
    from urllib.parse import parse_qs, urlsplit

    from django.contrib.auth import get_user_model

    from onboarding.models import StaffTotpDevice
    from onboarding.services.staff_two_factor import staff_totp_enrol
    from tests.conftest import totp_code

    password = f"pw-{random.token_urlsafe(12)}"
    user = get_user_model().objects.create_superuser("logwatch", "logwatch@provider.test", password)
    enrolment = staff_totp_enrol(user=user)
    device = StaffTotpDevice.objects.get(user=user)
    found.values["staff password"] = password
    found.values["TOTP secret"] = parse_qs(urlsplit(enrolment.config_url).query)["secret"][0]
    found.values["TOTP key"] = device.bin_key.hex()
    found.values["backup code"] = enrolment.backup_codes[0]

    def sign_in(code: str) -> None:
        page.goto(f"{base_url}/admin/login/")
        page.fill("#id_username", "logwatch")
        page.fill("#id_password", password)
        page.fill("#id_otp_token", code)
        page.click("input[type=submit]")

    sign_in("000000" if totp_code(device) != "000000" else "111111")
    page.wait_for_selector(".errornote")
    sign_in(enrolment.backup_codes[0])
    page.wait_for_selector("#user-tools")
    page.context.clear_cookies()
    # The failed code above throttles the device for a second; a fast run gets here sooner, so
    # that second is moved into the past rather than waited for.
    StaffTotpDevice.objects.filter(pk=device.pk).update(
        throttling_failure_timestamp=timezone.now() - timedelta(minutes=1)
    )
    # the six-digit code itself is not checked: any six digits may occur in a log line by chance
    sign_in(totp_code(device))
    page.wait_for_selector("#user-tools")


# Each action drives the real server and records the secrets it used.
ACTIONS: list[Callable[..., None]] = [
    customer_uploads_a_token,
    customer_opens_a_tampered_link,
    staff_signs_in_with_a_second_factor,
]


@pytest.mark.services
def test_no_line_gunicorn_or_the_worker_writes_carries_a_secret(
    page, gunicorn, celery_workers, smtp_sink, infinity_node
):
    # the worker sends the token to the gateway's Management Node, logging at DEBUG
    make_infinity(infinity_node)
    worker = celery_workers(LOG_LEVEL="DEBUG", LOG_FORMAT="json")
    found = Secrets()

    for action in ACTIONS:
        action(page, gunicorn.url, found)
    # both tenants' initial emails and the confirmation: the worker ran, and provisioned the node
    smtp_sink.wait_for(3)
    assert len(infinity_node.objects("gms_access_token")) == 1
    web_log, worker_log = gunicorn.output(), worker.output()

    assert set(found.values) >= {"uploaded token", "upload link signature", "TOTP secret"}
    for what, secret in found.values.items():
        assert secret not in web_log, f"the {what} is in gunicorn's output"
        assert secret not in worker_log, f"the {what} is in the worker's output"
    web_lines = json_lines(web_log)  # every line gunicorn wrote is a JSON object
    assert any(
        line["logger"] == "gunicorn.access" and "/upload/[redacted]/" in line["message"]
        for line in web_lines
    )
    assert any(line["message"] == "Bad Request: /upload/[redacted]/" for line in web_lines)
    assert any(line["message"] == "Not Found: /upload/[redacted]/" for line in web_lines)


@pytest.mark.services
def test_the_tasks_a_request_queues_log_with_its_request_id(
    page, gunicorn, celery_workers, smtp_sink, infinity_node
):
    make_infinity(infinity_node)
    worker = celery_workers(LOG_FORMAT="json")
    found = Secrets()

    customer_uploads_a_token(page, gunicorn.url, found)
    # the initial email, then the confirmation: the upload queued the provisioning job, which
    # queued the confirmation once the node had the token; both carry the upload's request id
    smtp_sink.wait_for(2)
    # the worker logs "sent" once the SMTP server has answered, a moment after the sink has it
    wait_until(
        lambda: "(confirmation) sent" in worker.output(),
        what="the worker's log line for the confirmation",
    )

    upload_id = found.request_ids["upload"]
    web_lines = json_lines(gunicorn.output())
    worker_lines = [json.loads(x) for x in worker.output().splitlines() if x.startswith("{")]
    access = [line for line in web_lines if line["logger"] == "gunicorn.access"]
    assert any(f"request_id={upload_id}" in line["message"] for line in access)
    sent = [line for line in worker_lines if "(confirmation) sent" in line["message"]]
    assert [line["request_id"] for line in sent] == [upload_id]
    initial = [line for line in worker_lines if "(initial) sent" in line["message"]]
    assert initial and initial[0]["request_id"] != upload_id  # queued by the test, not the upload
