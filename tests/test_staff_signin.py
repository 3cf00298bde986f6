"""Staff sign-in: a password and a second factor (TOTP or a backup code), lockout after repeated
failures (django-axes), enrolment that shows the secret once. Through the admin's own URLs."""

from __future__ import annotations

import logging
import re
import time
from base64 import b32encode

import pytest
from django.core.management import call_command
from django.urls import reverse

from onboarding.models import (
    StaffBackupCode,
    StaffBackupCodeDevice,
    StaffTotpDevice,
    backup_code_digest,
)
from onboarding.services.staff_two_factor import staff_totp_enrol
from tests.conftest import totp_code

pytestmark = pytest.mark.django_db

LOGIN_URL = reverse("admin:login")
INDEX_URL = reverse("admin:index")
PASSWORD = "correct horse battery staple"


@pytest.fixture
def enrolled(staff_user):
    enrolment = staff_totp_enrol(user=staff_user)
    return staff_user, StaffTotpDevice.objects.get(user=staff_user), enrolment


def sign_in(client, code, *, password=PASSWORD, username="staff"):
    return client.post(
        f"{LOGIN_URL}?next={INDEX_URL}",
        {"username": username, "password": password, "otp_token": code, "next": INDEX_URL},
    )


def test_a_password_alone_does_not_open_the_admin(client, staff_user):
    client.force_login(staff_user)

    response = client.get(INDEX_URL)

    assert response.status_code == 302
    assert response["Location"].startswith(LOGIN_URL)


def test_the_login_form_asks_for_the_code(client):
    html = client.get(LOGIN_URL).content.decode()

    assert 'name="otp_token"' in html
    assert "authenticator app" in html


def test_staff_sign_in_with_password_and_the_current_code(client, enrolled):
    _user, device, _enrolment = enrolled

    response = sign_in(client, totp_code(device))

    assert response.status_code == 302
    assert client.get(INDEX_URL).status_code == 200


def test_a_wrong_code_is_refused_with_a_clear_message(client, enrolled):
    _user, device, _enrolment = enrolled
    wrong = totp_code(device, at=time.time() - 3600)

    response = sign_in(client, wrong)

    assert response.status_code == 200
    assert "That code is not valid" in response.content.decode()
    assert client.get(INDEX_URL).status_code == 302


def test_a_code_already_used_is_refused_even_within_its_30_seconds(client, enrolled):
    _user, device, _enrolment = enrolled
    code = totp_code(device)

    first = sign_in(client, code)
    client.logout()
    replayed = sign_in(client, code)

    assert first.status_code == 302
    assert replayed.status_code == 200
    assert "That code is not valid" in replayed.content.decode()
    assert client.get(INDEX_URL).status_code == 302


def test_a_code_from_the_previous_step_is_accepted_for_a_slow_clock(client, enrolled):
    _user, device, _enrolment = enrolled

    response = sign_in(client, totp_code(device, at=time.time() - device.step))

    assert response.status_code == 302
    device.refresh_from_db()
    assert device.last_t >= 0 and device.last_used_at is not None


def test_a_code_two_steps_old_is_refused(client, enrolled):
    _user, device, _enrolment = enrolled

    response = sign_in(client, totp_code(device, at=time.time() - 3 * device.step))

    assert response.status_code == 200
    assert "That code is not valid" in response.content.decode()


def test_a_missing_code_is_asked_for(client, enrolled):
    response = sign_in(client, "")

    assert response.status_code == 200
    assert "Enter the code from your authenticator app" in response.content.decode()


def test_a_backup_code_works_once(client, enrolled):
    user, _device, enrolment = enrolled
    code = enrolment.backup_codes[0]

    first = sign_in(client, code)
    client.logout()
    second = sign_in(client, code)

    assert first.status_code == 302
    assert second.status_code == 200
    assert "each backup code works once" in second.content.decode()
    assert StaffBackupCode.objects.filter(device__user=user).count() == 7


def test_a_backup_code_may_be_typed_in_capitals_and_without_dashes(client, enrolled):
    _user, _device, enrolment = enrolled
    typed = enrolment.backup_codes[3].upper().replace("-", " ")

    assert sign_in(client, typed).status_code == 302


def test_a_wrong_backup_code_is_refused(client, enrolled):
    user, _device, enrolment = enrolled
    wrong = enrolment.backup_codes[0][:-1] + ("x" if enrolment.backup_codes[0][-1] != "x" else "y")

    response = sign_in(client, wrong)

    assert response.status_code == 200
    assert "That code is not valid" in response.content.decode()
    assert StaffBackupCode.objects.filter(device__user=user).count() == 8


def test_staff_without_a_device_are_told_how_to_enrol(client, staff_user):
    response = sign_in(client, "123456")

    assert response.status_code == 200
    assert "manage.py enrol_totp" in response.content.decode()
    assert client.get(INDEX_URL).status_code == 302


def test_repeated_wrong_passwords_lock_the_account_with_a_clear_page(client, enrolled, settings):
    _user, device, _enrolment = enrolled
    for _attempt in range(settings.AXES_FAILURE_LIMIT):
        sign_in(client, totp_code(device), password="wrong password")

    locked = sign_in(client, totp_code(device))

    assert locked.status_code == 429
    assert "Sign-in locked" in locked.content.decode()
    assert "axes_reset_username" in locked.content.decode()
    assert client.get(INDEX_URL).status_code == 302


def test_wrong_codes_count_towards_the_lockout(client, enrolled, settings):
    _user, device, _enrolment = enrolled
    wrong = totp_code(device, at=time.time() - 3600)
    for _attempt in range(settings.AXES_FAILURE_LIMIT):
        sign_in(client, wrong)

    assert sign_in(client, totp_code(device)).status_code == 429


def test_an_administrator_unlocks_a_locked_user(client, enrolled, settings):
    _user, device, _enrolment = enrolled
    for _attempt in range(settings.AXES_FAILURE_LIMIT):
        sign_in(client, "000000", password="wrong password")

    call_command("axes_reset_username", "staff")

    assert sign_in(client, totp_code(device)).status_code == 302


def test_enrolment_prints_the_secret_once_and_logs_nothing_of_it(staff_user, capsys, caplog):
    caplog.set_level(logging.DEBUG)

    call_command("enrol_totp", "staff")

    printed = capsys.readouterr().out
    device = StaffTotpDevice.objects.get(user=staff_user)
    secret = b32encode(device.bin_key).decode()
    assert f"secret={secret}" in printed
    assert printed.count("otpauth://totp/") == 1
    backup_codes = re.findall(r"\b[0-9a-z]{4}-[0-9a-z]{4}-[0-9a-z]{4}-[0-9a-z]{4}\b", printed)
    assert len(set(backup_codes)) == 8
    stored = StaffBackupCodeDevice.objects.get(user=staff_user).codes.values_list(
        "digest", flat=True
    )
    assert set(stored) == {backup_code_digest(code) for code in backup_codes}
    logged = "\n".join(record.getMessage() for record in caplog.records)
    assert secret not in logged
    assert device.bin_key.hex() not in logged
    assert not any(code in logged for code in backup_codes)


def test_enrolling_again_replaces_the_old_devices(client, staff_user):
    old = staff_totp_enrol(user=staff_user)
    staff_totp_enrol(user=staff_user)

    assert StaffTotpDevice.objects.filter(user=staff_user).count() == 1
    assert StaffBackupCode.objects.filter(device__user=staff_user).count() == 8
    assert sign_in(client, old.backup_codes[0]).status_code == 200


def test_enrolling_refuses_a_non_staff_user(django_user_model):
    django_user_model.objects.create_user("customer", password="x")

    with pytest.raises(Exception, match="not staff"):
        call_command("enrol_totp", "customer")


def test_signing_in_logs_no_code_and_no_secret(client, enrolled, caplog):
    _user, device, _enrolment = enrolled
    caplog.set_level(logging.DEBUG)
    code = totp_code(device)

    sign_in(client, "000000", password="wrong password")
    sign_in(client, code)

    logged = "\n".join(record.getMessage() for record in caplog.records)
    assert device.bin_key.hex() not in logged
    assert b32encode(device.bin_key).decode() not in logged
    assert not re.search(rf"\b{code}\b", logged)


def test_the_device_admin_never_shows_the_key_or_the_backup_codes(staff_client, staff_user):
    enrolment = staff_totp_enrol(user=staff_user)
    # staff_totp_enrol replaced the fixture's device: verify the session with the new one
    from tests.conftest import otp_verified_login

    otp_verified_login(staff_client, staff_user)
    totp = StaffTotpDevice.objects.get(user=staff_user)
    backup = StaffBackupCodeDevice.objects.get(user=staff_user)

    pages = [
        staff_client.get(reverse("admin:onboarding_stafftotpdevice_changelist")),
        staff_client.get(reverse("admin:onboarding_stafftotpdevice_change", args=[totp.pk])),
        staff_client.get(reverse("admin:onboarding_staffbackupcodedevice_changelist")),
        staff_client.get(
            reverse("admin:onboarding_staffbackupcodedevice_change", args=[backup.pk])
        ),
    ]

    assert [page.status_code for page in pages] == [200, 200, 200, 200]
    html = "".join(page.content.decode() for page in pages)
    assert "staff" in html and "Authenticator app" in html  # who is enrolled
    for hidden in (
        totp.bin_key.hex(),
        b32encode(totp.bin_key).decode(),
        totp.key_ciphertext,
        *enrolment.backup_codes,
        *backup.codes.values_list("digest", flat=True),
    ):
        assert hidden not in html
    assert staff_client.get(reverse("admin:onboarding_stafftotpdevice_add")).status_code == 403


def test_a_deleted_device_no_longer_signs_in(client, enrolled):
    user, device, _enrolment = enrolled
    code = totp_code(device)

    StaffTotpDevice.objects.filter(user=user).delete()

    response = sign_in(client, code)
    assert response.status_code == 200
    assert "manage.py enrol_totp" in response.content.decode()
