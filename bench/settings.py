"""Settings for bench/web.py: the production settings, fed a benchmark environment.

Everything the portal deploys with stays as it is (middleware, templates, sessions, the database
and Redis). What differs, and why, is listed here, and bench/web.py prints it:
- the rate limits are off (RATELIMIT_ENABLE=false): one client on loopback sends thousands of
  requests a second, which the per-IP limits exist to refuse;
- ROOT_URLCONF is bench.urls: the portal's URLs plus the two floor pages, so production URLs
  never carry them;
- SECURE_SSL_REDIRECT is off: TLS ends at the proxy in production, and wrk speaks plain HTTP.
"""

import os
from pathlib import Path

# Never a developer's local .env: the benchmark must be the same on every machine.
os.environ["PORTAL_ENV_FILE"] = ""
os.environ["RATELIMIT_ENABLE"] = "false"
_BENCH_ENVIRONMENT = {
    "DEBUG": "false",
    "SECRET_KEY": "bench-secret-key-not-for-production-0123456789abcdef",
    "DATABASE_URL": "postgres://postgres@127.0.0.1:5432/portal_bench_web",
    "CACHE_URL": "redis://127.0.0.1:6379/4",
    "CELERY_BROKER_URL": "redis://127.0.0.1:6379/5",
    "EMAIL_URL": "smtp://127.0.0.1:1",
    "PORTAL_BASE_URL": "http://127.0.0.1:8000",
    "SUPPORT_CONTACT": "support@provider.test",
    "ALLOWED_HOSTS": "127.0.0.1,localhost,testserver",
    # fixed benchmark keys: never used outside the benchmark
    "TOKEN_ENCRYPTION_KEYS": "YmVuY2gtb25seS1rZXktMDEyMzQ1Njc4OWFiY2RlZmc=",
    "TOKEN_FINGERPRINT_KEY": "bench-fingerprint-key-0123456789abcdef0123456789",
}
for _name, _value in _BENCH_ENVIRONMENT.items():
    os.environ.setdefault(_name, _value)

from portal.settings import *  # noqa: E402,F403
from portal.settings import TEMPLATES  # noqa: E402

ROOT_URLCONF = "bench.urls"
SECURE_SSL_REDIRECT = False
TEMPLATES[0]["DIRS"] = [*TEMPLATES[0]["DIRS"], Path(__file__).resolve().parent / "templates"]
