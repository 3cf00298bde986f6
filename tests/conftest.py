"""Fixtures for the real services the suite talks to."""

import os
from pathlib import Path

import pytest
from hypothesis import HealthCheck, settings

settings.register_profile(
    "ci",
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
settings.register_profile(
    "dev",
    max_examples=200,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
settings.load_profile("ci")


@pytest.fixture(autouse=True)
def isolated_cache(settings):
    """Each test counts its own rate limits: a key prefix of its own in the shared Redis."""
    import uuid

    caches = {name: dict(config) for name, config in settings.CACHES.items()}
    for config in caches.values():
        config["KEY_PREFIX"] = f"test-{uuid.uuid4().hex}"
    settings.CACHES = caches


@pytest.fixture
def staff_user(django_user_model):
    return django_user_model.objects.create_superuser(
        "staff", "staff@provider.test", "correct horse battery staple"
    )


@pytest.fixture
def sign_in_as(client, django_user_model):
    """Sign in as a new staff member in one of the staff roles (a group), with a second factor."""
    from django.contrib.auth.models import Group

    def sign_in(role: str):
        user = django_user_model.objects.create_user(
            role.lower().replace(" ", "-"), password="role-password-92", is_staff=True
        )
        user.groups.add(Group.objects.get(name=role))
        return otp_verified_login(client, user)

    return sign_in


def otp_verified_login(client, user):
    """Log `user` in with a second factor, the way django-otp's `login()` marks a session."""
    from django_otp import DEVICE_ID_SESSION_KEY

    from onboarding.models import StaffTotpDevice

    device = StaffTotpDevice.objects.filter(user=user, confirmed=True).first()
    if device is None:
        device, _key = StaffTotpDevice.create_for(user=user, name="test app")
    client.force_login(user)
    session = client.session
    session[DEVICE_ID_SESSION_KEY] = device.persistent_id
    session.save()
    return client


def totp_code(device, *, at=None) -> str:
    """The code an authenticator app would show now (or at `at`, a Unix time) for `device`."""
    import time

    from django_otp.oath import TOTP

    totp = TOTP(device.bin_key, device.step, device.t0, device.digits, device.drift)
    totp.time = time.time() if at is None else at
    return f"{totp.token():0{device.digits}d}"


@pytest.fixture
def staff_client(client, staff_user):
    """A superuser signed in with a second factor (the admin refuses anyone without)."""
    return otp_verified_login(client, staff_user)


# Real services -----------------------------------------------------------------------------------


@pytest.fixture(scope="session")
def smtp_sink_server():
    from tests.services import SmtpSink

    sink = SmtpSink().start()
    yield sink
    sink.stop()


@pytest.fixture
def smtp_sink(smtp_sink_server, settings):
    """A real SMTP server on loopback, emptied for each test; Django sends to it."""
    smtp_sink_server.reset()
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST = "127.0.0.1"
    settings.EMAIL_PORT = smtp_sink_server.port
    settings.EMAIL_USE_TLS = False
    yield smtp_sink_server
    smtp_sink_server.reset()


@pytest.fixture
def redis_server():
    """A dedicated redis-server on a free port, for tests that stop and start it."""
    from tests.services import RedisServer

    server = RedisServer().start()
    yield server
    server.cleanup()


def point_celery_at(broker_url: str) -> None:
    """Make this process publish to another broker (Celery caches its connection pools)."""
    from kombu import pools

    from portal.celery import app

    # Celery reads CELERY_BROKER_URL from the environment before its own configuration.
    os.environ["CELERY_BROKER_URL"] = broker_url
    app.conf.broker_url = broker_url
    # kombu keeps its pools in global groups keyed by broker URL: closing only Celery's pool
    # left it there, closed, and going back to that URL then failed "Acquire on closed pool".
    pools.reset()
    app._pool = None
    app.amqp._producer_pool = None


@pytest.fixture
def broker(redis_server):
    """The broker for this test: its own redis-server, used by this process and the workers."""
    from portal.celery import app

    original = app.conf.broker_url
    point_celery_at(redis_server.url)
    yield redis_server
    point_celery_at(original)


@pytest.fixture
def test_database_url(transactional_db):
    from django.db import connection

    name = connection.settings_dict["NAME"]
    return f"postgres://postgres@127.0.0.1:5432/{name}"


@pytest.fixture
def gunicorn(test_database_url, broker, smtp_sink):
    """The production web server on the test database, logging JSON at DEBUG (the log tests read
    every line it writes)."""
    from tests.services import GunicornServer

    server = GunicornServer(
        database_url=test_database_url,
        broker_url=broker.url,
        email_url=smtp_sink.url,
        extra_env={"LOG_LEVEL": "DEBUG", "LOG_FORMAT": "json"},
    ).start()
    yield server
    server.cleanup()


@pytest.fixture
def celery_workers(test_database_url, broker, smtp_sink):
    """Start real `celery worker` processes on the test database, the test broker and sink."""
    from tests.services import CeleryWorker

    started: list[CeleryWorker] = []

    def start(*, beat: bool = False, **extra_env: str) -> CeleryWorker:
        worker = CeleryWorker(
            database_url=test_database_url,
            broker_url=broker.url,
            email_url=smtp_sink.url,
            extra_env=extra_env,
            beat=beat,
        ).start()
        started.append(worker)
        return worker

    yield start
    for worker in started:
        worker.cleanup()


@pytest.fixture
def celery_beats(test_database_url, broker, smtp_sink):
    """Start real `celery beat` processes, each with a schedule file of its own, on the test
    database and broker (requested after `celery_workers`, they stop before the workers)."""
    from tests.services import CeleryBeat

    started: list[CeleryBeat] = []

    def start(**extra_env: str) -> CeleryBeat:
        beat = CeleryBeat(
            database_url=test_database_url,
            broker_url=broker.url,
            email_url=smtp_sink.url,
            extra_env=extra_env,
        ).start()
        started.append(beat)
        return beat

    yield start
    for beat in started:
        beat.cleanup()


# DNS ---------------------------------------------------------------------------------------------


@pytest.fixture(scope="session")
def dns_server_session():
    from tests.dns_server import DnsServer

    server = DnsServer().start()
    yield server
    server.stop()


@pytest.fixture
def dns_server(dns_server_session, settings):
    """A real authoritative DNS server on loopback, emptied for each test; the portal asks it."""
    dns_server_session.reset()
    settings.DNS_NAMESERVERS = ["127.0.0.1"]
    settings.DNS_PORT = dns_server_session.port
    settings.DNS_TIMEOUT = 1.0
    settings.DNS_LIFETIME = 2.0
    yield dns_server_session
    dns_server_session.reset()


@pytest.fixture
def silent_dns_server(settings):
    """A DNS "server" that takes every query and never answers; timeouts kept short."""
    from tests.dns_server import SilentDnsServer

    server = SilentDnsServer()
    settings.DNS_NAMESERVERS = ["127.0.0.1"]
    settings.DNS_PORT = server.port
    settings.DNS_TIMEOUT = 0.1
    settings.DNS_LIFETIME = 0.25
    yield server
    server.stop()


@pytest.fixture(scope="session")
def servfail_dns_server_session():
    from tests.dns_server import AuthoritativeResolver, DnsServer

    server = DnsServer(AuthoritativeResolver(servfail_all=True)).start()
    yield server
    server.stop()


@pytest.fixture
def servfail_dns_server(servfail_dns_server_session, settings):
    """A real DNS server that answers SERVFAIL to every question."""
    settings.DNS_NAMESERVERS = ["127.0.0.1"]
    settings.DNS_PORT = servfail_dns_server_session.port
    return servfail_dns_server_session


# The browser ----------------------------------------------------------------------------------

CHROMIUM = Path("/usr/bin/chromium")


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args):
    """Debian's Chromium, headless and quiet.

    Playwright's sync API keeps an event loop running in the main thread from its start to the
    end of the session, so Django's async-safety guard is lifted for the rest of the session:
    in tests only, never in the application's settings or code.
    """
    if not CHROMIUM.is_file():
        pytest.fail(f"{CHROMIUM} is missing: install Debian's chromium package (.ci/run does).")
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    return {
        **browser_type_launch_args,
        "executable_path": str(CHROMIUM),
        "headless": True,
        "args": [
            "--no-sandbox",
            "--disable-gpu",
            "--disable-dev-shm-usage",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--no-first-run",
        ],
    }


# Pexip Infinity's Management Node ------------------------------------------------------------


@pytest.fixture(scope="session")
def infinity_node_server():
    from tests.infinity_double import InfinityDouble

    node = InfinityDouble().start()
    yield node
    node.stop()


@pytest.fixture
def infinity_node(infinity_node_server):
    """A test double of Pexip Infinity's Management Node over HTTPS on loopback, emptied and
    with every fault off for each test. Give the portal `base_url`, `username`, `password` and
    `ca_bundle` (the CA of this test run); see tests/infinity_double.py for the switches."""
    infinity_node_server.reset()
    yield infinity_node_server
    infinity_node_server.reset()
