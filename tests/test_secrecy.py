"""The token stays secret: after a real upload through HTTP its plaintext is nowhere a person or
another process could read it, and key rotation keeps every stored secret decryptable.

Each test uploads a distinctive random token through the page, with the data committed
(transactional database), then looks for it in one place: a pg_dump of the test database, every
log record, every admin page, every email (sent to a real SMTP sink) and outbox row, and every
Celery task message as it is published (the `before_task_publish` signal, nothing patched).
"""

from __future__ import annotations

import io
import json
import logging
import re
import secrets as random
import subprocess
from dataclasses import dataclass, field

import pytest
from celery.signals import before_task_publish
from cryptography.fernet import Fernet
from django.contrib import admin
from django.core.management import call_command
from django.db import connection
from django.urls import reverse

from onboarding.infra import encryption
from onboarding.mail import outbox as mail
from onboarding.models import Gateway, OutboundEmail, OutboxStatus, SecurityToken, Tenant
from tests.upload_support import gateway_confirms, invited_tenant, link_path

HREF = re.compile(r'href="(/admin/[^"#?]*)')


@dataclass
class Upload:
    token: str
    link: str
    tenant: Tenant
    published: list[str] = field(default_factory=list)

    @property
    def signature(self) -> str:
        return self.link.split("/")[2]


@pytest.fixture
def every_log_record(caplog):
    """Every logger at DEBUG into caplog, SQL with its parameters included."""
    loggers = [logging.getLogger(name) for name in list(logging.root.manager.loggerDict)]
    caplog.set_level(logging.DEBUG)
    for logger in loggers:
        caplog.set_level(logging.DEBUG, logger=logger.name)
    silent = [logger for logger in loggers if not logger.propagate]
    for logger in silent:
        logger.addHandler(caplog.handler)
    connection.force_debug_cursor = True
    yield caplog
    connection.force_debug_cursor = False
    for logger in silent:
        logger.removeHandler(caplog.handler)


@pytest.fixture
def task_messages(broker):
    """What every published Celery task carries (body and headers), on a broker of this test's."""
    published: list[str] = []

    def record(body=None, headers=None, **_kwargs):
        published.append(f"{body!r} {headers!r}")

    before_task_publish.connect(record, weak=False)
    yield published
    before_task_publish.disconnect(record)


@pytest.fixture
def uploaded(client, transactional_db, every_log_record, task_messages):
    """A refused attempt (it is logged: 400), then the real upload, both through HTTP."""
    token = f"Zq{random.token_urlsafe(24)}"
    tenant = invited_tenant()
    link = link_path(tenant)
    refused = client.post(link, {"token": token})  # the trusted tick is missing
    stored = client.post(link, {"token": token, "trusted": "on"})
    assert (refused.status_code, stored.status_code) == (400, 302)
    assert encryption.decrypt(SecurityToken.objects.get(tenant=tenant).ciphertext) == token
    gateway_confirms(tenant)  # the confirmation goes out too
    return Upload(token=token, link=link, tenant=tenant, published=task_messages)


def pg_dump() -> str:
    """The whole test database as pg_dump writes it (committed rows only)."""
    database = connection.settings_dict["NAME"]
    return subprocess.run(
        ["pg_dump", "-h", "127.0.0.1", "-U", "postgres", "--no-password", database],
        capture_output=True,
        check=True,
        timeout=60,
    ).stdout.decode()


def test_the_token_is_not_in_a_dump_of_the_database(uploaded):
    dump = pg_dump()

    assert SecurityToken.objects.get().fingerprint in dump  # the upload is in this dump
    assert uploaded.token not in dump


@pytest.mark.django_db(transaction=True)
def test_no_staff_second_factor_is_in_a_dump_of_the_database(staff_user):
    from base64 import b32encode

    from onboarding.models import StaffBackupCode, StaffTotpDevice
    from onboarding.services.staff_two_factor import staff_totp_enrol

    enrolment = staff_totp_enrol(user=staff_user)
    key = StaffTotpDevice.objects.get(user=staff_user).bin_key

    dump = pg_dump()

    assert StaffTotpDevice.objects.get().key_ciphertext in dump  # the device is in this dump
    assert StaffBackupCode.objects.first().digest in dump  # and so are the codes' digests
    hidden = [key.hex(), key.hex().upper(), b32encode(key).decode(), enrolment.config_url]
    for code in enrolment.backup_codes:
        hidden += [code, code.replace("-", ""), code.upper()]
    for secret in hidden:
        assert secret not in dump


def test_neither_the_token_nor_the_links_signature_is_in_any_log_record(uploaded, caplog):
    records = caplog.get_records("setup")  # the upload ran in the fixture
    messages = "\n".join(caplog.handler.format(record) for record in records)
    everything = "\n".join(repr(vars(record)) for record in records)

    assert "Bad Request: /upload/[redacted]/" in messages  # the refused POST, logged redacted
    assert 'INSERT INTO "onboarding_securitytoken"' in messages  # SQL and its parameters too
    for secret in (uploaded.token, uploaded.signature):
        assert secret not in messages
        assert secret not in everything


def admin_pages() -> set[str]:
    """Each registered model's list, and the change and history page of every row it has."""
    pages = {reverse("admin:index")}
    for model in admin.site._registry:
        name = f"admin:{model._meta.app_label}_{model._meta.model_name}"
        pages.add(reverse(f"{name}_changelist"))
        for pk in model._default_manager.values_list("pk", flat=True):
            pages.add(reverse(f"{name}_change", args=[pk]))
            pages.add(reverse(f"{name}_history", args=[pk]))
    return pages


def test_the_token_is_on_no_admin_page(uploaded, client, staff_user):
    from base64 import b32encode

    from onboarding.models import StaffTotpDevice
    from onboarding.services.staff_two_factor import staff_totp_enrol
    from tests.conftest import otp_verified_login

    # the staff member's own second factor is as secret as the token
    enrolment = staff_totp_enrol(user=staff_user)
    otp_verified_login(client, staff_user)
    device = StaffTotpDevice.objects.get(user=staff_user)
    hidden = [
        uploaded.token,
        device.bin_key.hex(),
        b32encode(device.bin_key).decode(),
        *enrolment.backup_codes,
    ]
    to_visit, seen = admin_pages(), set()
    tenant_page = reverse("admin:onboarding_tenant_change", args=[uploaded.tenant.pk])

    while to_visit and len(seen) < 400:  # every page listed above, and every admin page linked
        path = to_visit.pop()
        seen.add(path)
        response = client.get(path)
        assert response.status_code == 200, path
        html = response.content.decode()
        for secret in hidden:
            assert secret not in html, path
        to_visit |= {p for p in HREF.findall(html) if "logout" not in p} - seen

    assert tenant_page in seen and not to_visit
    fingerprint = SecurityToken.objects.get().fingerprint
    assert fingerprint in client.get(tenant_page).content.decode()  # staff see this instead


def test_the_token_is_in_no_outbox_row_and_no_email_sent(uploaded, smtp_sink):
    rows = list(OutboundEmail.objects.all())
    unsent = [encryption.decrypt(row.message_ciphertext) for row in rows]

    sent = mail.email_send([row.pk for row in rows])

    assert sent == len(rows) == len(smtp_sink.messages) >= 2  # the initial and confirmation
    assert OutboundEmail.objects.filter(status=OutboxStatus.SENT).count() == sent
    assert uploaded.token not in json.dumps(list(OutboundEmail.objects.values()), default=str)
    assert all(uploaded.token not in message for message in unsent)
    for message in smtp_sink.messages:
        assert uploaded.token not in message.as_string()
        for part in message.walk():
            if not part.is_multipart():
                assert uploaded.token not in part.get_content()


def test_the_token_is_in_no_task_message(uploaded):
    sent_ids = list(OutboundEmail.objects.values_list("pk", flat=True))

    assert uploaded.published  # the outbox queued its sends through the broker
    assert any(str(pk) in message for message in uploaded.published for pk in sent_ids)
    for message in uploaded.published:
        assert uploaded.token not in message


def test_the_stored_tokens_repr_and_str_do_not_show_it(uploaded):
    stored = SecurityToken.objects.get()

    for shown in (repr(stored), str(stored), repr(stored.invitation), str(stored.tenant)):
        assert uploaded.token not in shown
    assert stored.fingerprint in str(stored)


# Key rotation ------------------------------------------------------------------------------------


def new_key() -> str:
    return Fernet.generate_key().decode()


def upload_tokens(client, count: int) -> dict[int, str]:
    tokens = {}
    for n in range(count):
        tenant = invited_tenant(f"Rotate{n}")
        tokens[tenant.pk] = f"rotate-{n}-{random.token_urlsafe(16)}"
        response = client.post(link_path(tenant), {"token": tokens[tenant.pk], "trusted": "on"})
        assert response.status_code == 302
        gateway_confirms(tenant)
    return tokens


def stored_tokens() -> dict[int, str]:
    return {t.tenant_id: encryption.decrypt(t.ciphertext) for t in SecurityToken.objects.all()}


def unsent_messages() -> dict[int, str]:
    rows = OutboundEmail.objects.exclude(message_ciphertext="")
    return {row.pk: encryption.decrypt(row.message_ciphertext) for row in rows}


@pytest.mark.django_db
def test_rotation_moves_every_secret_to_the_new_key_so_the_old_one_can_be_dropped(client, settings):
    old, new = new_key(), new_key()
    settings.TOKEN_ENCRYPTION_KEYS = [old]
    tokens, messages = upload_tokens(client, 3), unsent_messages()
    Gateway.objects.filter(is_default=True).update(
        management_password_ciphertext=encryption.encrypt("node-password")
    )
    settings.TOKEN_ENCRYPTION_KEYS = [new, old]
    output = io.StringIO()

    call_command("rotate_token_keys", stdout=output)

    assert len(messages) == 6  # each tenant's initial email and confirmation, not yet sent
    assert "Re-encrypted 3 tokens, 6 unsent emails" in output.getvalue()
    assert "1 gateway passwords" in output.getvalue()
    settings.TOKEN_ENCRYPTION_KEYS = [new]  # the old key is gone
    assert stored_tokens() == tokens
    assert unsent_messages() == messages
    password = Gateway.objects.get(is_default=True).management_password_ciphertext
    assert encryption.decrypt(password) == "node-password"


@pytest.mark.django_db
def test_after_rotation_the_old_key_alone_decrypts_nothing_and_never_falls_back(client, settings):
    old, new = new_key(), new_key()
    settings.TOKEN_ENCRYPTION_KEYS = [old]
    upload_tokens(client, 3)
    settings.TOKEN_ENCRYPTION_KEYS = [new, old]
    call_command("rotate_token_keys", stdout=io.StringIO())

    settings.TOKEN_ENCRYPTION_KEYS = [old]

    for ciphertext in [
        *SecurityToken.objects.values_list("ciphertext", flat=True),
        *OutboundEmail.objects.values_list("message_ciphertext", flat=True),
    ]:
        with pytest.raises(encryption.DecryptionFailed):
            encryption.decrypt(ciphertext)


@pytest.mark.django_db
def test_rotation_re_encrypts_staff_totp_keys_and_sign_in_still_works(client, staff_user, settings):
    from onboarding.models import StaffTotpDevice
    from onboarding.services.staff_two_factor import staff_totp_enrol
    from tests.conftest import totp_code

    old, new = new_key(), new_key()
    settings.TOKEN_ENCRYPTION_KEYS = [old]
    staff_totp_enrol(user=staff_user)
    before = StaffTotpDevice.objects.get(user=staff_user)
    key = before.bin_key
    settings.TOKEN_ENCRYPTION_KEYS = [new, old]
    output = io.StringIO()

    call_command("rotate_token_keys", stdout=output)

    assert "1 TOTP keys" in output.getvalue()
    settings.TOKEN_ENCRYPTION_KEYS = [new]  # the old key is gone
    device = StaffTotpDevice.objects.get(user=staff_user)
    assert device.key_ciphertext != before.key_ciphertext
    assert device.bin_key == key
    settings.TOKEN_ENCRYPTION_KEYS = [old]
    with pytest.raises(encryption.DecryptionFailed):
        encryption.decrypt(device.key_ciphertext)
    settings.TOKEN_ENCRYPTION_KEYS = [new]
    response = client.post(
        reverse("admin:login"),
        {
            "username": "staff",
            "password": "correct horse battery staple",
            "otp_token": totp_code(device),
            "next": reverse("admin:index"),
        },
    )
    assert response.status_code == 302
    assert client.get(reverse("admin:index")).status_code == 200
