"""`make run` uses SQLite, which has no percentile_cont: the dashboard falls back to taking the
median in Python. This runs the page in a separate process on a fresh SQLite file."""

from tests.sqlite_support import run_on_sqlite

SCRIPT = """
import json
from datetime import timedelta

import django

django.setup()
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.test import Client
from django.urls import reverse
from django.utils import timezone

call_command("migrate", verbosity=0)
from tests.conftest import otp_verified_login
from tests.dashboard_support import activated
from tests.html_tables import page_tables

now = timezone.now()
activated("Alpha", at=now - timedelta(days=2), took=timedelta(days=1))
activated("Bravo", at=now - timedelta(days=10), took=timedelta(days=2))
activated("Charlie", at=now - timedelta(days=40), took=timedelta(days=6))
activated("Delta", at=now - timedelta(days=50), took=timedelta(days=9))
client = Client()
otp_verified_login(client, get_user_model().objects.create_superuser("staff", "s@x.test", "pw"))
response = client.get(reverse("admin:onboarding_dashboard"))
tables = page_tables(response.content.decode())
print(json.dumps({
    "status": response.status_code,
    "medians": tables["medians"].rows[1:],
    "active": [row for row in tables["states"].rows if row[0] == "Active"][0][1],
    "per_week": tables["chart-numbers"].rows[1][1:],
}))
"""


def test_the_dashboard_works_on_sqlite_with_the_median_taken_in_python(tmp_path):
    page = run_on_sqlite(SCRIPT, tmp_path)
    assert page["status"] == 200
    # 30 days: 1 and 2 days; 90 days: 1, 2, 6 and 9 days (an even count: the mean of 2 and 6)
    assert page["medians"] == [["30 days", "1 day 12 h", "2"], ["90 days", "4 days", "4"]]
    assert page["active"] == "4"
    # all four activations fall inside the chart's twelve weeks (TruncWeek on SQLite)
    assert sum(int(count) for count in page["per_week"]) == 4
    assert len(page["per_week"]) == 12
