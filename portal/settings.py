"""Settings, read from the environment (django-environ).

Defaults make a bare machine work (SQLite, a server-less broker, console email); production sets
every secret explicitly and never relies on a default for one.

Read top to bottom, in sections: the environment, HTTPS, apps and middleware, the database, the
cache and rate limits, templates and static files, email, the portal's domain settings, secrets
at rest, Celery, the email outbox, the Content Security Policy, logging, and staff sign-in. Each
setting is defined once, in its final form: what depends on the environment is worked out just
before it, under a lower-case name (`_database`), because Django takes every name that is upper
case, leading underscore or not, as a setting.
"""

import base64
import hashlib
from datetime import timedelta
from pathlib import Path

import environ
from cryptography.fernet import Fernet
from django.core.exceptions import ImproperlyConfigured

# The environment ---------------------------------------------------------------------------------
BASE_DIR = Path(__file__).resolve().parent.parent

env = environ.Env()
# Tests point this at nothing so a developer's local .env never leaks into the suite.
ENV_FILE = env.str("PORTAL_ENV_FILE", default=str(BASE_DIR / ".env"))
if ENV_FILE and Path(ENV_FILE).is_file():
    environ.Env.read_env(ENV_FILE)

DEBUG = env.bool("DEBUG", default=False)

SECRET_KEY = env.str("SECRET_KEY", default="")
if not SECRET_KEY:
    raise ImproperlyConfigured(
        "SECRET_KEY is not set. `make run` writes a .env with a generated one for local use; "
        "production must set it in the environment."
    )
SECRET_KEY_FALLBACKS = env.list("SECRET_KEY_FALLBACKS", default=[])

ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["127.0.0.1", "localhost"])
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])

# HTTPS and the proxy in front --------------------------------------------------------------------
# Production is HTTPS only: redirects, secure cookies and HSTS follow this one switch. It is on
# whenever DEBUG is off; a plain-http run (the tests' live server, the compose stack on a laptop)
# turns it off explicitly.
HTTPS_ONLY = env.bool("HTTPS_ONLY", default=not DEBUG)
SECURE_SSL_REDIRECT = HTTPS_ONLY
# The load balancer probes /healthz over plain http inside the network: a redirect would read as
# "down". (Patterns match the path without its leading slash.)
SECURE_REDIRECT_EXEMPT = [r"^healthz$"]
SESSION_COOKIE_SECURE = HTTPS_ONLY
CSRF_COOKIE_SECURE = HTTPS_ONLY
SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=31_536_000 if HTTPS_ONLY else 0)
# No includeSubDomains and no preload: the portal is one host of the provider's domain and cannot
# promise HTTPS for every name below it, and a preload entry takes months to undo. Hence the
# two checks that recommend them are silenced (see SILENCED_SYSTEM_CHECKS below).
SECURE_HSTS_INCLUDE_SUBDOMAINS = False
SECURE_HSTS_PRELOAD = False
# Behind a TLS-terminating proxy: the META key of the header it sets to the original scheme, e.g.
# HTTP_X_FORWARDED_PROTO. Only a proxy that overwrites the header may be trusted with it, or any
# client could claim to be on HTTPS. Empty: the connection's own scheme counts.
_PROXY_SSL_HEADER = env.str("SECURE_PROXY_SSL_HEADER", default="")
SECURE_PROXY_SSL_HEADER = (_PROXY_SSL_HEADER, "https") if _PROXY_SSL_HEADER else None
X_FRAME_OPTIONS = "DENY"

# Apps and middleware -----------------------------------------------------------------------------
INSTALLED_APPS = [
    # django.contrib.admin, with the portal's site (a second factor required) as admin.site
    "portal.apps.PortalAdminConfig",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "crispy_forms",
    "crispy_bootstrap5",
    "csp",  # Content Security Policy
    "onboarding",
    # django-otp's sign-in machinery only: its TOTP and backup-code plugins store the secrets in
    # the clear, so the devices are onboarding's own (onboarding/models/staff_devices.py).
    "django_otp",
    "axes",  # lockout after failed staff sign-ins
    "simple_history",  # the audit history
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    # request ids first so every later line carries one; static files before sessions; the CSP
    # header on every response.
    "onboarding.infra.request_ids.RequestIdMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "csp.middleware.CSPMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    # marks request.user verified from the session
    "django_otp.middleware.OTPMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_ratelimit.middleware.RatelimitMiddleware",
    # after the auth and message middleware: it signs out and leaves a message
    "onboarding.infra.staff_sessions.StaffSessionExpiryMiddleware",
    # lets the history rows name the staff user
    "simple_history.middleware.HistoryRequestMiddleware",
    # a form body Django cannot read answers 400 here: before any view middleware (the CSRF
    # check reads the body), and inside the others, so the page gets every security header
    "onboarding.infra.http.UnreadableBodyMiddleware",
    # turns a lockout into its page and must be last
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "portal.urls"
WSGI_APPLICATION = "portal.wsgi.application"

# The database ------------------------------------------------------------------------------------
_database = env.db("DATABASE_URL", default=f"sqlite:///{BASE_DIR / 'db.sqlite3'}")
# make run's processes write to one file: a deferred transaction that must turn writer fails at
# once ("database is locked"), so each takes the lock at BEGIN and waits; WAL lets reads go on.
_sqlite_locking = (
    {
        "OPTIONS": {
            **_database.get("OPTIONS", {}),
            "transaction_mode": "IMMEDIATE",
            "timeout": 20,
            "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL",
        }
    }
    if _database["ENGINE"] == "django.db.backends.sqlite3"
    else {}
)
DATABASES = {
    "default": {
        **_database,
        "ATOMIC_REQUESTS": False,
        # Persistent connections: opening one per request (PostgreSQL forks a backend for each)
        # cost more than the upload page's own queries (bench/web.py). The health check pings a
        # kept connection once per request, so a database restart costs no failed request.
        "CONN_MAX_AGE": env.int("DATABASE_CONN_MAX_AGE", default=60),
        "CONN_HEALTH_CHECKS": True,
        **_sqlite_locking,
    },
}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# The cache and rate limits -----------------------------------------------------------------------
_cache = env.cache("CACHE_URL", default="locmemcache://")
# A Redis outage must not turn pages into errors: reads miss, writes are dropped, and the rate
# limits fail open (the signed link is the real guard).
_redis_fail_open = (
    {
        "OPTIONS": {
            **_cache.get("OPTIONS", {}),
            "IGNORE_EXCEPTIONS": True,
            "SOCKET_CONNECT_TIMEOUT": 1,
            "SOCKET_TIMEOUT": 1,
        }
    }
    if _cache["BACKEND"] == "django_redis.cache.RedisCache"
    else {}
)
CACHES = {"default": {**_cache, **_redis_fail_open}}
# The embedded default has no shared cache; limits then count per process, which is all a single
# local process needs. Production sets CACHE_URL to Redis.
_per_process_limit_checks = (
    ["django_ratelimit.E003", "django_ratelimit.W001"]
    if _cache["BACKEND"].endswith("LocMemCache")
    else []
)
SILENCED_SYSTEM_CHECKS: list[str] = [
    # HSTS without includeSubDomains and without preload, by decision (see SECURE_HSTS_PRELOAD).
    "security.W005",
    "security.W021",
    *_per_process_limit_checks,
]

# Rate limits (django-ratelimit, answered by RATELIMIT_VIEW through its middleware)
RATELIMIT_ENABLE = env.bool("RATELIMIT_ENABLE", default=True)
RATELIMIT_USE_CACHE = "default"
RATELIMIT_FAIL_OPEN = True
RATELIMIT_VIEW = "onboarding.views.errors.rate_limited"
RATELIMIT_IP_META_KEY = "onboarding.infra.http.client_ip"
# Behind a proxy: the META key of the header the proxy sets to the client's address, such as
# HTTP_X_REAL_IP. Empty: REMOTE_ADDR. Never X-Forwarded-For blindly: clients can forge it.
CLIENT_IP_HEADER = env.str("CLIENT_IP_HEADER", default="")
RATE_UPLOAD_PAGE_PER_IP = env.str("RATE_UPLOAD_PAGE_PER_IP", default="120/m")
RATE_UPLOAD_POST_PER_IP = env.str("RATE_UPLOAD_POST_PER_IP", default="30/h")
RATE_UPLOAD_POST_PER_LINK = env.str("RATE_UPLOAD_POST_PER_LINK", default="10/h")
RATE_NEW_LINK_PER_LINK = env.str("RATE_NEW_LINK_PER_LINK", default="3/h")
RATE_DNS_CHECK_PER_LINK = env.str("RATE_DNS_CHECK_PER_LINK", default="10/h")
# A gateway polls its feed; a 304 is cheap, so a poll every couple of seconds still fits.
RATE_GATEWAY_FEED_PER_KEY = env.str("RATE_GATEWAY_FEED_PER_KEY", default="60/m")

# Templates, language and static files ------------------------------------------------------------
TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "onboarding.views.context_processors.portal",
            ],
        },
    },
]
CRISPY_ALLOWED_TEMPLATE_PACKS = "bootstrap5"
CRISPY_TEMPLATE_PACK = "bootstrap5"

# Staff see a new upload link once in a message: keep messages server-side, not in a cookie.
MESSAGE_STORAGE = "django.contrib.messages.storage.session.SessionStorage"

LANGUAGE_CODE = "en-gb"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = env.str("STATIC_ROOT", default=str(BASE_DIR / "staticfiles"))
# whitenoise serves the collected files with hashed names (cached for ever) and compressed
# copies; the manifest needs `collectstatic`, which the image build runs. The tests keep the plain
# StaticFilesStorage (tests/settings.py).
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"},
}

# Email -------------------------------------------------------------------------------------------
# EMAIL_URL carries the backend, server and credentials (smtp+tls://user:password@host:587).
# Unset with DEBUG (`make run`): every email becomes an .eml file under var/mail/, so a newcomer
# opens the demo's links there, while the console log stays redacted. Unset without DEBUG: the
# console default, refused below.
_email_url = env.str("EMAIL_URL", default="")
_email = env.email_url_config(_email_url or "consolemail://")
EMAIL_BACKEND = _email["EMAIL_BACKEND"]
EMAIL_HOST = _email["EMAIL_HOST"]
EMAIL_PORT = _email["EMAIL_PORT"]
EMAIL_HOST_USER = _email["EMAIL_HOST_USER"]
EMAIL_HOST_PASSWORD = _email["EMAIL_HOST_PASSWORD"]
# smtp+tls:// and smtps:// turn on STARTTLS, smtp+ssl:// implicit TLS; otherwise Django's default
EMAIL_USE_TLS = _email.get("EMAIL_USE_TLS", False)
EMAIL_USE_SSL = _email.get("EMAIL_USE_SSL", False)
# the folder of filemail:// (the file backend)
EMAIL_FILE_PATH = _email["EMAIL_FILE_PATH"]
if DEBUG and not _email_url:
    EMAIL_BACKEND = "onboarding.infra.eml_files.EmlFileBackend"
    EMAIL_FILE_PATH = str(BASE_DIR / "var" / "mail")
if not DEBUG and EMAIL_BACKEND == "django.core.mail.backends.console.EmailBackend":
    # the console backend prints whole emails, upload links included, into the log
    raise ImproperlyConfigured(
        "Set EMAIL_URL (e.g. smtp://host:25): the console backend is for DEBUG only."
    )
EMAIL_TIMEOUT = env.int("EMAIL_TIMEOUT", default=20)
DEFAULT_FROM_EMAIL = env.str(
    "DEFAULT_FROM_EMAIL", default="Meet interop onboarding <onboarding@localhost>"
)
SERVER_EMAIL = DEFAULT_FROM_EMAIL
STAFF_NOTIFICATION_EMAILS = env.list("STAFF_NOTIFICATION_EMAILS", default=[])
SUPPORT_CONTACT = env.str("SUPPORT_CONTACT", default="support@localhost")
# who runs the gateway: named on every customer page and email, so a request for a Google secret
# never comes from nobody in particular (domain.md, "What customers read")
PROVIDER_NAME = env.str("PROVIDER_NAME", default="Pexip")
# `make run` serves on 127.0.0.1:$PORT; a command run beside it with the same PORT (e.g.
# `PORT=8765 manage.py issue_upload_link`) then builds links to that port, not to 8000.
_port = env.int("PORT", default=8000)
PORTAL_BASE_URL = env.str("PORTAL_BASE_URL", default=f"http://127.0.0.1:{_port}").rstrip("/")

# The portal's domain settings (domain.md) --------------------------------------------------------
# The default gateway: documentation-range values, flagged by `check --deploy`.
DEFAULT_GATEWAY_NAME = env.str("DEFAULT_GATEWAY_NAME", default="Default gateway")
DEFAULT_GATEWAY_IP = env.str("DEFAULT_GATEWAY_IP", default="192.0.2.10")
DEFAULT_GATEWAY_HOSTNAME = env.str("DEFAULT_GATEWAY_HOSTNAME", default="gateway.example.com")
DEFAULT_GATEWAY_SIP_HOST = env.str("DEFAULT_GATEWAY_SIP_HOST", default="")
# How the default gateway gets tokens (architecture.md, "Gateway provisioning"). Applied at every
# `migrate` where they are set, so a deployment needs no clicks: infinity, feed or manual.
DEFAULT_GATEWAY_PROVISIONING = env.str("DEFAULT_GATEWAY_PROVISIONING", default="")
DEFAULT_GATEWAY_MANAGEMENT_URL = env.str("DEFAULT_GATEWAY_MANAGEMENT_URL", default="")
DEFAULT_GATEWAY_MANAGEMENT_USERNAME = env.str("DEFAULT_GATEWAY_MANAGEMENT_USERNAME", default="")
DEFAULT_GATEWAY_MANAGEMENT_PASSWORD = env.str("DEFAULT_GATEWAY_MANAGEMENT_PASSWORD", default="")
# PEM text, or the path of a PEM file
DEFAULT_GATEWAY_MANAGEMENT_CA_BUNDLE = env.str("DEFAULT_GATEWAY_MANAGEMENT_CA_BUNDLE", default="")

# Provisioning on Pexip Infinity: waits after a timeout, 429 or 5xx, in seconds, one per
# attempt (the last repeats). Tests shorten them; nothing waits in a test.
PROVISIONING_RETRY_SECONDS = env.list(
    "PROVISIONING_RETRY_SECONDS", cast=int, default=[30, 60, 300, 900, 3600]
)
if not PROVISIONING_RETRY_SECONDS or min(PROVISIONING_RETRY_SECONDS) < 0:
    raise ImproperlyConfigured("PROVISIONING_RETRY_SECONDS is a list of seconds, none negative.")
# One job per tenant at a time; a worker that dies holding a tenant frees it after this.
PROVISIONING_LEASE_SECONDS = env.int("PROVISIONING_LEASE_SECONDS", default=300)

# Onboarding policy (domain.md marks these as settings)
TOKEN_MAX_LENGTH = env.int("TOKEN_MAX_LENGTH", default=100)
TOKEN_GRACE_PERIOD = timedelta(days=env.int("TOKEN_GRACE_PERIOD_DAYS", default=7))
UPLOAD_LINK_MAX_AGE = timedelta(days=env.int("UPLOAD_LINK_MAX_AGE_DAYS", default=14))
# how old a link may be and still ask for a new one, and how many a tenant gets a day that way
NEW_LINK_REQUEST_MAX_AGE = timedelta(days=env.int("NEW_LINK_REQUEST_MAX_AGE_DAYS", default=90))
NEW_LINKS_PER_TENANT_PER_DAY = env.int("NEW_LINKS_PER_TENANT_PER_DAY", default=5)
REMINDER_AFTER_DAYS = env.list("REMINDER_AFTER_DAYS", cast=int, default=[3, 7])
STUCK_AFTER = timedelta(days=env.int("STUCK_AFTER_DAYS", default=7))
PREFIX_QUARANTINE = timedelta(days=env.int("PREFIX_QUARANTINE_DAYS", default=90))
# how long an offboarded tenant's contact addresses are kept before they are erased
CONTACT_RETENTION = timedelta(days=env.int("CONTACT_RETENTION_DAYS", default=180))
# record label and port of every SRV record an own domain must publish
DNS_EXPECTED_SRV_RECORDS = env.list(
    "DNS_EXPECTED_SRV_RECORDS",
    default=["_sips._tcp:5061", "_sip._tcp:5060", "_h323cs._tcp:1720"],
)
# DNS checks (architecture.md, "DNS checks"). Empty: ask each domain's authoritative servers
# (found through the system resolver). Set (tests, special networks): ask these IPs instead.
DNS_NAMESERVERS = env.list("DNS_NAMESERVERS", default=[])
# the port DNS_NAMESERVERS listen on (authoritative servers are always asked on 53)
DNS_PORT = env.int("DNS_PORT", default=53)
# seconds to wait for one server's answer before asking the next one
DNS_TIMEOUT = env.float("DNS_TIMEOUT", default=2.0)
# seconds one lookup may take in all: servers, retries, CNAME hops and finding the servers
DNS_LIFETIME = env.float("DNS_LIFETIME", default=6.0)
# how many domains the sweeper checks at once (threads doing lookups; one thread writes)
DNS_CHECK_CONCURRENCY = env.int("DNS_CHECK_CONCURRENCY", default=100)

# Secrets at rest (architecture.md, "Secrets") ----------------------------------------------------
# Without DEBUG both keys must be set. With DEBUG, as a local convenience only, a missing one is
# derived from SECRET_KEY, so the web process and the worker agree.
TOKEN_ENCRYPTION_KEYS = env.list("TOKEN_ENCRYPTION_KEYS", default=[]) or (
    [base64.urlsafe_b64encode(hashlib.sha256(f"{SECRET_KEY}:tokens".encode()).digest()).decode()]
    if DEBUG
    else []
)
TOKEN_FINGERPRINT_KEY = env.str("TOKEN_FINGERPRINT_KEY", default="") or (
    hashlib.sha256(f"{SECRET_KEY}:fingerprints".encode()).hexdigest() if DEBUG else ""
)
for _position, _key in enumerate(TOKEN_ENCRYPTION_KEYS, start=1):
    try:
        Fernet(_key)
    except (ValueError, TypeError) as _exc:
        raise ImproperlyConfigured(
            f"TOKEN_ENCRYPTION_KEYS entry {_position} is not a valid Fernet key."
        ) from _exc
if not TOKEN_ENCRYPTION_KEYS:
    raise ImproperlyConfigured(
        "TOKEN_ENCRYPTION_KEYS is not set: give one or more Fernet keys, newest first "
        "(`make run` writes one into .env for local use)."
    )
if len(TOKEN_FINGERPRINT_KEY) < 32:
    raise ImproperlyConfigured(
        "TOKEN_FINGERPRINT_KEY must be set to at least 32 random characters."
    )

# Celery and beat (architecture.md, "Celery") -----------------------------------------------------
CELERY_BROKER_URL = env.str("CELERY_BROKER_URL", default="filesystem://")
BROKER_DATA_DIR = Path(env.str("BROKER_DATA_DIR", default=str(BASE_DIR / "var" / "broker")))
if CELERY_BROKER_URL.startswith("filesystem://"):
    # kombu's server-less transport: one folder both ways, so every process on this machine
    # shares one queue (memory:// does not cross processes).
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": str(BROKER_DATA_DIR / "queue"),
        "data_folder_out": str(BROKER_DATA_DIR / "queue"),
        "processed_folder": str(BROKER_DATA_DIR / "processed"),
        "store_processed": False,
    }
    for _folder in ("queue", "processed"):
        (BROKER_DATA_DIR / _folder).mkdir(parents=True, exist_ok=True)
else:
    CELERY_BROKER_TRANSPORT_OPTIONS = {"socket_connect_timeout": 2, "socket_timeout": 5}
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_BROKER_CONNECTION_TIMEOUT = 2
# A web request must not hang on a dead broker: publishing fails fast, the sweeper catches up.
CELERY_TASK_PUBLISH_RETRY = False
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
# Celery closes Django's database connections after every task unless this is set; portal/celery.py
# gives tasks the requests' rules instead (CONN_MAX_AGE, CONN_HEALTH_CHECKS). Celery still
# recycles a connection after this many tasks.
CELERY_DB_REUSE_MAX = 1000
CELERY_TASK_SOFT_TIME_LIMIT = 120
CELERY_TASK_TIME_LIMIT = 180
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TASK_SERIALIZER = "json"
CELERY_RESULT_SERIALIZER = "json"
CELERY_TASK_IGNORE_RESULT = True
CELERY_RESULT_BACKEND = None
CELERY_TIMEZONE = "UTC"
CELERY_WORKER_HIJACK_ROOT_LOGGER = False
CELERY_BEAT_SCHEDULE_FILENAME = env.str(
    "CELERY_BEAT_SCHEDULE_FILENAME", default=str(BASE_DIR / "var" / "celerybeat-schedule")
)
# How often each periodic job runs, in seconds. Tests that run a real beat shorten them.
# The sweepers: the architecture's "every minute", so a lost email or a due domain waits little.
SWEEP_INTERVAL_SECONDS = env.float("SWEEP_INTERVAL_SECONDS", default=60.0)
# Reminders fall due on a day, not a minute: a quarter of an hour late is never noticed.
REMINDER_INTERVAL_SECONDS = env.float("REMINDER_INTERVAL_SECONDS", default=900.0)
# Replaced tokens wait days (TOKEN_GRACE_PERIOD) before they go: hourly is prompt enough.
TOKEN_DESTROY_INTERVAL_SECONDS = env.float("TOKEN_DESTROY_INTERVAL_SECONDS", default=3600.0)
# Contacts are kept months (CONTACT_RETENTION) after offboarding: hourly is prompt enough.
CONTACT_ERASE_INTERVAL_SECONDS = env.float("CONTACT_ERASE_INTERVAL_SECONDS", default=3600.0)
# The drift sweep reads every Infinity node's lists: a quarter of an hour keeps a node's load
# small and repairs a hand edit well before anyone calls.
GATEWAY_SWEEP_INTERVAL_SECONDS = env.float("GATEWAY_SWEEP_INTERVAL_SECONDS", default=900.0)
for _name, _seconds in (
    ("SWEEP_INTERVAL_SECONDS", SWEEP_INTERVAL_SECONDS),
    ("REMINDER_INTERVAL_SECONDS", REMINDER_INTERVAL_SECONDS),
    ("TOKEN_DESTROY_INTERVAL_SECONDS", TOKEN_DESTROY_INTERVAL_SECONDS),
    ("CONTACT_ERASE_INTERVAL_SECONDS", CONTACT_ERASE_INTERVAL_SECONDS),
    ("GATEWAY_SWEEP_INTERVAL_SECONDS", GATEWAY_SWEEP_INTERVAL_SECONDS),
):
    if not _seconds > 0:  # zero or less: beat would send the job in a busy loop
        raise ImproperlyConfigured(f"{_name} must be a positive number of seconds, not {_seconds}.")
CELERY_BEAT_SCHEDULE = {
    "outbox-sweeper": {"task": "onboarding.tasks.sweep_outbox", "schedule": SWEEP_INTERVAL_SECONDS},
    "dns-sweeper": {"task": "onboarding.tasks.sweep_dns", "schedule": SWEEP_INTERVAL_SECONDS},
    "reminders": {"task": "onboarding.tasks.send_reminders", "schedule": REMINDER_INTERVAL_SECONDS},
    "token-destroyer": {
        "task": "onboarding.tasks.destroy_expired_tokens",
        "schedule": TOKEN_DESTROY_INTERVAL_SECONDS,
    },
    "contact-eraser": {
        "task": "onboarding.tasks.erase_offboarded_contacts",
        "schedule": CONTACT_ERASE_INTERVAL_SECONDS,
    },
    "provisioning-retries": {
        "task": "onboarding.tasks.retry_provisioning",
        "schedule": SWEEP_INTERVAL_SECONDS,
    },
    "gateway-sweeper": {
        "task": "onboarding.tasks.sweep_gateways",
        "schedule": GATEWAY_SWEEP_INTERVAL_SECONDS,
    },
}
# /healthz calls the scheduler dead when its newest heartbeat is older than this.
SCHEDULER_HEARTBEAT_MAX_AGE = timedelta(
    seconds=env.int("SCHEDULER_HEARTBEAT_MAX_AGE_SECONDS", default=180)
)

# Email outbox (architecture.md, "Email outbox") --------------------------------------------------
OUTBOX_MAX_ATTEMPTS = env.int("OUTBOX_MAX_ATTEMPTS", default=8)
OUTBOX_LEASE = timedelta(seconds=env.int("OUTBOX_LEASE_SECONDS", default=300))
OUTBOX_REQUEUE_AFTER = timedelta(seconds=env.int("OUTBOX_REQUEUE_AFTER_SECONDS", default=120))
OUTBOX_BATCH_SIZE = env.int("OUTBOX_BATCH_SIZE", default=50)

# Content Security Policy (django-csp 4) ----------------------------------------------------------
# The strict policy every page gets. The portal's own pages load only their own static files: no
# inline script or style anywhere (copy.js and portal.css are files), no third-party asset.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'"],
        # Bootstrap draws checkboxes, radios and select arrows as data: SVG images
        "img-src": ["'self'", "data:"],
        "object-src": ["'none'"],
        "base-uri": ["'none'"],
        "form-action": ["'self'"],
        "frame-ancestors": ["'none'"],
    }
}
# The admin's relaxations, each applied to the one admin view that needs it (with django-csp's
# csp_update), never site-wide. A browser test proves every other admin page needs none.
# - Email previews (onboarding/admin/previews.py): the HTML part of an email is shown in a
#   sandboxed iframe (no scripts, no same origin) through srcdoc, and srcdoc documents inherit
#   this page's policy. Emails must carry style attributes (mail clients drop stylesheets), so
#   this page allows inline style attributes; scripts stay forbidden.
ADMIN_CSP_RELAXATIONS = {
    "email_previews": {"style-src-attr": ["'unsafe-inline'"]},
}

# Logging -----------------------------------------------------------------------------------------
# JSON lines in production (one object per line: time, level, logger, message, request_id), plain
# text for a person at a terminal. Every handler runs the redacting filter (signed links out) and
# the request-id filter (the id of the request, or of the request that queued a Celery task).
LOG_FORMAT = env.str("LOG_FORMAT", default="plain" if DEBUG else "json")
if LOG_FORMAT not in ("json", "plain"):
    raise ImproperlyConfigured(f"LOG_FORMAT must be json or plain, not {LOG_FORMAT!r}.")
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
            "formatter": LOG_FORMAT,
            # request_id first: it reads the record's request, which redact_links may drop
            "filters": ["request_id", "redact_links"],
        }
    },
    "loggers": {
        # Replaces Django's default handlers (which print unfiltered when DEBUG is on): every
        # line goes through the console handler, whose filter takes the signed part of
        # upload and DNS status links out. gunicorn's loggers are configured from this same
        # dictionary (portal/gunicorn.conf.py), so its access log is redacted too.
        "django": {"handlers": ["console"], "level": "INFO", "propagate": False},
        "django.server": {"handlers": ["console"], "level": "INFO", "propagate": False},
        "gunicorn.access": {"handlers": ["console"], "level": "INFO", "propagate": False},
        "gunicorn.error": {"handlers": ["console"], "level": "INFO", "propagate": False},
    },
    "root": {"handlers": ["console"], "level": env.str("LOG_LEVEL", default="INFO")},
}

# Staff sign-in, lockout and audit ----------------------------------------------------------------
# (Their apps and middleware are listed above: django_otp, axes, simple_history.)
AUTHENTICATION_BACKENDS = [
    # first, so a locked-out username or address is refused before its password is checked
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
# A staff session ends this many hours after sign-in, however active
# (onboarding/infra/staff_sessions.py); the cookie lasts no longer. Django's default is 14 days,
# sliding with activity.
STAFF_SESSION_HOURS = env.int("STAFF_SESSION_HOURS", default=12)
if STAFF_SESSION_HOURS < 1:
    raise ImproperlyConfigured("STAFF_SESSION_HOURS must be 1 or more.")
SESSION_COOKIE_AGE = STAFF_SESSION_HOURS * 3600
# The admin always asks for a second factor (a TOTP code or a backup code), DEBUG or not:
# `make run` enrols the demo user and prints its backup codes.
OTP_TOTP_ISSUER = "Meet interop onboarding"
# Lockout (django-axes): attempts are kept in the database (they outlive a Redis restart and staff
# see them in the admin). Counted per username and address together, so nobody can lock a staff
# member out from elsewhere; wrong codes count as well as wrong passwords.
AXES_HANDLER = "axes.handlers.database.AxesDatabaseHandler"
AXES_FAILURE_LIMIT = env.int("AXES_FAILURE_LIMIT", default=5)
AXES_COOLOFF_TIME = timedelta(minutes=env.int("AXES_COOLOFF_MINUTES", default=30))
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_CLIENT_IP_CALLABLE = "onboarding.infra.http.client_ip"
AXES_LOCKOUT_TEMPLATE = "admin/locked_out.html"
AXES_SENSITIVE_PARAMETERS = ["username", "ip_address", "otp_token"]
# Audit (django-simple-history): restoring old versions would bypass the lifecycle's rules.
SIMPLE_HISTORY_REVERT_DISABLED = True
SIMPLE_HISTORY_HISTORY_CHANGE_REASON_USE_TEXT_FIELD = True
