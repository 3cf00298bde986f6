"""The production configuration: HTTPS behind a proxy (with /healthz reachable over http), and
static files with hashed names served by whitenoise under gunicorn.

The in-process tests switch the HTTPS settings on for one test (the suite itself runs on plain
http); the last test runs gunicorn with README's production environment for real.
"""

from __future__ import annotations

import importlib.util
import subprocess
import sys
import urllib.error
import urllib.request
from pathlib import Path

import pytest
from django.conf import settings as django_settings

from tests.services import ROOT, GunicornServer

PROXY_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")


def load_deploy_check():
    spec = importlib.util.spec_from_file_location("deploy_check", ROOT / "scripts/deploy_check.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture
def https_only(settings):
    settings.SECURE_SSL_REDIRECT = True
    settings.SECURE_HSTS_SECONDS = 31_536_000
    return settings


@pytest.mark.django_db
def test_plain_http_is_redirected_to_https(client, https_only):
    response = client.get("/upload/anything/")

    assert response.status_code == 301
    assert response["Location"] == "https://testserver/upload/anything/"


@pytest.mark.django_db
def test_healthz_answers_over_plain_http_for_the_load_balancer(client, https_only):
    response = client.get("/healthz")

    assert response.status_code in (200, 503)  # an answer about health, not a redirect
    assert "checks" in response.json()


@pytest.mark.django_db
def test_behind_the_proxy_its_https_header_counts_and_hsts_is_sent(client, https_only):
    https_only.SECURE_PROXY_SSL_HEADER = PROXY_HEADER

    response = client.get("/no-such-page/", headers={"X-Forwarded-Proto": "https"})

    assert response.status_code == 404
    assert response["Strict-Transport-Security"] == "max-age=31536000"


@pytest.mark.django_db
def test_without_a_proxy_setting_a_forged_https_header_is_ignored(client, https_only):
    https_only.SECURE_PROXY_SSL_HEADER = None

    response = client.get("/no-such-page/", headers={"X-Forwarded-Proto": "https"})

    assert response.status_code == 301


def test_the_tests_keep_the_plain_static_storage_and_production_hashes_names():
    result = subprocess.run(
        [
            sys.executable,
            "-c",
            "import django; django.setup(); from django.conf import settings as s; "
            "print(s.STORAGES['staticfiles']['BACKEND'], s.SECURE_SSL_REDIRECT, "
            "s.SESSION_COOKIE_SECURE, s.CSRF_COOKIE_SECURE, s.SECURE_PROXY_SSL_HEADER)",
        ],
        cwd=ROOT,
        env=load_deploy_check().production_environment(),
        capture_output=True,
        text=True,
        timeout=60,
    )

    assert result.returncode == 0, result.stderr
    assert result.stdout.split(" ", 1) == [
        "whitenoise.storage.CompressedManifestStaticFilesStorage",
        "True True True ('HTTP_X_FORWARDED_PROTO', 'https')\n",
    ]
    assert django_settings.STORAGES["staticfiles"]["BACKEND"].endswith(".StaticFilesStorage")


@pytest.fixture
def production_gunicorn(tmp_path, test_database_url, smtp_sink):
    """gunicorn with README's production environment (throwaway secrets), its static files
    collected first, on this test's database and the local Redis."""
    environment = load_deploy_check().production_environment(
        {
            "STATIC_ROOT": str(tmp_path / "static"),
            "DATABASE_URL": test_database_url,
            "CACHE_URL": "redis://127.0.0.1:6379/1",
            "CELERY_BROKER_URL": "redis://127.0.0.1:6379/2",
        }
    )
    collected = subprocess.run(
        [sys.executable, "manage.py", "collectstatic", "--noinput"],
        cwd=ROOT,
        env=environment,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert collected.returncode == 0, collected.stderr
    server = GunicornServer(
        database_url=test_database_url,
        broker_url=environment["CELERY_BROKER_URL"],
        email_url=smtp_sink.url,
    )
    server.env = {**environment, "GUNICORN_BIND": f"127.0.0.1:{server.port}"}
    yield server.start(), tmp_path / "static"
    server.cleanup()


class NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


def fetch(url: str, **headers: str):
    opener = urllib.request.build_opener(NoRedirect)
    request = urllib.request.Request(url, headers=headers)  # noqa: S310 (our own http URL)
    try:
        return opener.open(request, timeout=20)
    except urllib.error.HTTPError as error:
        return error


@pytest.mark.services
def test_gunicorn_in_production_serves_hashed_static_files_and_redirects_to_https(
    production_gunicorn,
):
    server, static_root = production_gunicorn
    hashed = next(Path(static_root, "onboarding").glob("portal.*.css")).name

    # the proxy forwards https requests with X-Forwarded-Proto; ALLOWED_HOSTS is the README's
    allowed = server.env["ALLOWED_HOSTS"]
    https = {"X-Forwarded-Proto": "https"}
    css = fetch(f"{server.url}/static/onboarding/{hashed}", Host=allowed, **https)
    page = fetch(f"{server.url}/no-such-page/", Host=allowed)
    health = fetch(f"{server.url}/healthz", Host=allowed)
    secure = fetch(f"{server.url}/no-such-page/", Host=allowed, **https)

    assert css.status == 200
    assert "immutable" in css.headers["Cache-Control"]  # hashed names are cached for ever
    assert (page.status, page.headers["Location"]) == (301, f"https://{allowed}/no-such-page/")
    assert health.status in (200, 503)
    assert secure.status == 404
    assert secure.headers["Strict-Transport-Security"] == "max-age=31536000"
    assert "frame-ancestors 'none'" in secure.headers["Content-Security-Policy"]
