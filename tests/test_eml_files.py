"""The local email backend (DEBUG without EMAIL_URL): one .eml file per email, readable by its
owner only (the files hold upload links), named by time and subject; the log names the file."""

from __future__ import annotations

import email
import email.policy
import logging
import stat

from django.core.mail import EmailMultiAlternatives

from onboarding.infra.eml_files import EmlFileBackend

LINK = "http://127.0.0.1:8765/upload/signed-part-of-the-link/"


def test_each_email_becomes_one_eml_file_that_only_its_owner_reads(tmp_path, caplog):
    backend = EmlFileBackend(file_path=str(tmp_path / "mail"))
    messages = [
        EmailMultiAlternatives(f"Action needed: step {n}", f"Open {LINK}", to=["it@acme.test"])
        for n in (1, 2)
    ]

    with caplog.at_level(logging.INFO, logger="onboarding.infra.eml_files"):
        assert backend.send_messages(messages) == 2

    files = sorted((tmp_path / "mail").glob("*.eml"))
    assert len(files) == 2
    assert files[0].name.endswith("-action-needed-step-1.eml")
    assert files[1].name.endswith("-action-needed-step-2.eml")
    assert stat.S_IMODE(files[0].stat().st_mode) == 0o600
    parsed = email.message_from_bytes(files[0].read_bytes(), policy=email.policy.default)
    assert LINK in parsed.get_body(("plain",)).get_content()
    assert str(files[0]) in caplog.text
    assert "signed-part-of-the-link" not in caplog.text


def test_debug_without_email_url_writes_eml_files_under_var_mail(tmp_path):
    import subprocess
    import sys

    from tests.browser_support import REPO_ROOT
    from tests.test_project_files import clean_environment

    code = (
        "from django.conf import settings; "
        "print(settings.EMAIL_BACKEND); print(settings.EMAIL_FILE_PATH)"
    )
    result = subprocess.run(
        [sys.executable, "-c", f"import django; django.setup(); {code}"],
        cwd=REPO_ROOT,
        env=clean_environment(
            DJANGO_SETTINGS_MODULE="portal.settings",
            PORTAL_ENV_FILE="",
            DEBUG="true",
            SECRET_KEY="local-secret-key-for-this-test-only-0123456789abcdef",
        ),
        capture_output=True,
        text=True,
        timeout=60,
    )

    assert result.returncode == 0, result.stderr
    backend, folder = result.stdout.split()
    assert backend == "onboarding.infra.eml_files.EmlFileBackend"
    assert folder == str(REPO_ROOT / "var" / "mail")
