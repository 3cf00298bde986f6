"""A snapshot of the settings whose order or content a rewrite of portal/settings.py could change
without any other test noticing: the middleware and apps (order matters), the authentication
backends, logging, the beat schedule and the Content Security Policy.

The values are those of the test environment (tests/settings.py: DEBUG off, LOG_FORMAT and
LOG_LEVEL unset). Change a value here only together with the setting, on purpose.
"""

from datetime import timedelta

from django.conf import settings

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "onboarding.infra.request_ids.RequestIdMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "csp.middleware.CSPMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django_otp.middleware.OTPMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_ratelimit.middleware.RatelimitMiddleware",
    "onboarding.infra.staff_sessions.StaffSessionExpiryMiddleware",
    "simple_history.middleware.HistoryRequestMiddleware",
    "onboarding.infra.http.UnreadableBodyMiddleware",
    "axes.middleware.AxesMiddleware",
]

INSTALLED_APPS = [
    "portal.apps.PortalAdminConfig",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "crispy_forms",
    "crispy_bootstrap5",
    "csp",
    "onboarding",
    "django_otp",
    "axes",
    "simple_history",
]

AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {
        "redact_links": {"()": "onboarding.infra.log_redaction.RedactSignedLinks"},
        "request_id": {"()": "onboarding.infra.request_ids.RequestIdLogFilter"},
    },
    "formatters": {
        "plain": {"format": "%(asctime)s %(levelname)s %(name)s [%(request_id)s] %(message)s"},
        "json": {
            "()": "pythonjsonlogger.json.JsonFormatter",
            "fmt": "%(asctime)s %(levelname)s %(name)s %(request_id)s %(message)s",
            "rename_fields": {"asctime": "time", "levelname": "level", "name": "logger"},
        },
    },
    "handlers": {
        "console": {
            "class": "logging.StreamHandler",
            "formatter": "json",
            "filters": ["request_id", "redact_links"],
        }
    },
    "loggers": {
        "django": {"handlers": ["console"], "level": "INFO", "propagate": False},
        "django.server": {"handlers": ["console"], "level": "INFO", "propagate": False},
        "gunicorn.access": {"handlers": ["console"], "level": "INFO", "propagate": False},
        "gunicorn.error": {"handlers": ["console"], "level": "INFO", "propagate": False},
    },
    "root": {"handlers": ["console"], "level": "INFO"},
}

# entry name -> (task name, interval in seconds)
BEAT_SCHEDULE = {
    "outbox-sweeper": ("onboarding.tasks.sweep_outbox", 60.0),
    "dns-sweeper": ("onboarding.tasks.sweep_dns", 60.0),
    "reminders": ("onboarding.tasks.send_reminders", 900.0),
    "token-destroyer": ("onboarding.tasks.destroy_expired_tokens", 3600.0),
    "contact-eraser": ("onboarding.tasks.erase_offboarded_contacts", 3600.0),
    "provisioning-retries": ("onboarding.tasks.retry_provisioning", 60.0),
    "gateway-sweeper": ("onboarding.tasks.sweep_gateways", 900.0),
}

CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'"],
        "img-src": ["'self'", "data:"],
        "object-src": ["'none'"],
        "base-uri": ["'none'"],
        "form-action": ["'self'"],
        "frame-ancestors": ["'none'"],
    }
}

ADMIN_CSP_RELAXATIONS = {"email_previews": {"style-src-attr": ["'unsafe-inline'"]}}


def seconds(schedule) -> float:
    """An entry's interval, however it is spelled: seconds, a timedelta or a Celery schedule."""
    if isinstance(schedule, int | float):
        return float(schedule)
    if isinstance(schedule, timedelta):
        return schedule.total_seconds()
    return schedule.run_every.total_seconds()


def test_the_middleware_runs_in_the_same_order():
    assert settings.MIDDLEWARE == MIDDLEWARE


def test_the_same_apps_are_installed_in_the_same_order():
    assert settings.INSTALLED_APPS == INSTALLED_APPS


def test_the_authentication_backends_are_the_same_and_lockout_comes_first():
    assert settings.AUTHENTICATION_BACKENDS == AUTHENTICATION_BACKENDS


def test_logging_is_configured_the_same():
    assert settings.LOGGING == LOGGING


def test_the_beat_schedule_runs_the_same_tasks_at_the_same_intervals():
    schedule = {
        name: (entry["task"], seconds(entry["schedule"]))
        for name, entry in settings.CELERY_BEAT_SCHEDULE.items()
    }
    assert schedule == BEAT_SCHEDULE


def test_the_content_security_policy_is_the_same():
    assert settings.CONTENT_SECURITY_POLICY == CONTENT_SECURITY_POLICY


def test_the_admins_csp_relaxations_are_the_same():
    assert settings.ADMIN_CSP_RELAXATIONS == ADMIN_CSP_RELAXATIONS
