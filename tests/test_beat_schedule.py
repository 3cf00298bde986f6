"""The beat schedule: every periodic job's interval is a setting read from the environment,
with the defaults the architecture gives, and a nonsensical one stops start-up."""

import os
import subprocess
import sys

from tests.services import ROOT

INTERVALS = {
    "SWEEP_INTERVAL_SECONDS": "1.5",
    "REMINDER_INTERVAL_SECONDS": "2",
    "TOKEN_DESTROY_INTERVAL_SECONDS": "3",
    "CONTACT_ERASE_INTERVAL_SECONDS": "4",
    "GATEWAY_SWEEP_INTERVAL_SECONDS": "5",
}


def schedule_in_a_fresh_process(**environment: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [
            sys.executable,
            "-c",
            "import django; django.setup(); from django.conf import settings as s; "
            "print({name: e['schedule'] for name, e in s.CELERY_BEAT_SCHEDULE.items()})",
        ],
        cwd=ROOT,
        env={**os.environ, "DJANGO_SETTINGS_MODULE": "tests.settings", **environment},
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_the_default_intervals_are_minutes_quarter_hours_and_hours(settings):
    schedule = {name: entry["schedule"] for name, entry in settings.CELERY_BEAT_SCHEDULE.items()}

    assert schedule == {
        "outbox-sweeper": 60.0,
        "dns-sweeper": 60.0,
        "reminders": 900.0,
        "token-destroyer": 3600.0,
        "contact-eraser": 3600.0,
        "provisioning-retries": 60.0,
        "gateway-sweeper": 900.0,
    }


def test_each_interval_comes_from_the_environment():
    result = schedule_in_a_fresh_process(**INTERVALS)

    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == str(
        {
            "outbox-sweeper": 1.5,
            "dns-sweeper": 1.5,
            "reminders": 2.0,
            "token-destroyer": 3.0,
            "contact-eraser": 4.0,
            "provisioning-retries": 1.5,
            "gateway-sweeper": 5.0,
        }
    )


def test_a_zero_interval_stops_start_up_instead_of_a_busy_loop():
    result = schedule_in_a_fresh_process(REMINDER_INTERVAL_SECONDS="0")

    assert result.returncode != 0
    assert "REMINDER_INTERVAL_SECONDS must be a positive number of seconds" in result.stderr
