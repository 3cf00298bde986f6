"""Settings for the test suite: the production settings module, fed a test environment.

Real services only: PostgreSQL and Redis on this machine (override with the usual variables).
"""

import os

_TEST_ENVIRONMENT = {
    "PORTAL_ENV_FILE": "",
    "DEBUG": "false",
    "SECRET_KEY": "test-secret-key-not-for-production-0123456789abcdef",
    "DATABASE_URL": "postgres://postgres@127.0.0.1:5432/portal",
    "CACHE_URL": "redis://127.0.0.1:6379/1",
    "EMAIL_URL": "smtp://127.0.0.1:1",
    "PORTAL_BASE_URL": "http://testserver",
    "SUPPORT_CONTACT": "support@provider.test",
    "STAFF_NOTIFICATION_EMAILS": "staff@provider.test",
    "ALLOWED_HOSTS": "testserver,127.0.0.1,localhost",
    # fixed test keys: never used outside the test suite
    "TOKEN_ENCRYPTION_KEYS": "Y2hhbmdlLW1lLXRlc3Qta2V5LTAxMjM0NTY3ODlhYmM=",
    "TOKEN_FINGERPRINT_KEY": "test-fingerprint-key-0123456789abcdef0123456789",
    "CELERY_BROKER_URL": "redis://127.0.0.1:6379/2",
    # the test client and the live server speak plain http
    "HTTPS_ONLY": "false",
}
for _name, _value in _TEST_ENVIRONMENT.items():
    os.environ.setdefault(_name, _value)

from portal.settings import *  # noqa: E402,F403

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
# The hashed-manifest storage needs `collectstatic`, which only a deployment runs.
STORAGES = {
    **STORAGES,  # noqa: F405
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
# whitenoise looks for STATIC_ROOT at start-up and warns when it is missing; collectstatic never
# runs here, so it looks per request instead (the live server serves from the finders anyway).
WHITENOISE_AUTOREFRESH = True
# ... and serves the app folders' files itself (under gunicorn too), as runserver would.
WHITENOISE_USE_FINDERS = True
