"""Settings, read from the environment (django-environ).

Defaults make a bare machine work (SQLite, a server-less broker, console email); production sets
every secret explicitly and never relies on a default for one.
"""

import base64
import hashlib
from datetime import timedelta
from pathlib import Path

import environ
from cryptography.fernet import Fernet
from django.core.exceptions import ImproperlyConfigured

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

# HTTPS and the proxy in front (issue 7, item 1) -------------------------------------------------
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

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "crispy_forms",
    "crispy_bootstrap5",
    "csp",  # issue 7: Content Security Policy
    "onboarding",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    # issue 7 (items 1, 2, 6): request ids first so every later line carries one; static files
    # before sessions; the CSP header on every response.
    "onboarding.infra.request_ids.RequestIdMiddleware",
    # a form body Django cannot read answers 400 here, before the CSRF check reads it
    "onboarding.infra.http.UnreadableBodyMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "csp.middleware.CSPMiddleware",
    # end of issue 7's middleware
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_ratelimit.middleware.RatelimitMiddleware",
]

ROOT_URLCONF = "portal.urls"
WSGI_APPLICATION = "portal.wsgi.application"

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

DATABASES = {
    "default": env.db("DATABASE_URL", default=f"sqlite:///{BASE_DIR / 'db.sqlite3'}"),
}
DATABASES["default"]["ATOMIC_REQUESTS"] = False
# Persistent connections: opening one per request (PostgreSQL forks a backend for each) cost
# more than the upload page's own queries (bench/web.py). The health check pings a kept
# connection once per request, so a database restart costs no failed request.
DATABASES["default"]["CONN_MAX_AGE"] = env.int("DATABASE_CONN_MAX_AGE", default=60)
DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # make run's processes write to one file: a deferred transaction that must turn writer fails at
    # once ("database is locked"), so each takes the lock at BEGIN and waits; WAL lets reads go on.
    DATABASES["default"].setdefault("OPTIONS", {}).update(
        transaction_mode="IMMEDIATE",
        timeout=20,
        init_command="PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL",
    )
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

CACHES = {"default": env.cache("CACHE_URL", default="locmemcache://")}
SILENCED_SYSTEM_CHECKS: list[str] = [
    # HSTS without includeSubDomains and without preload, by decision (see SECURE_HSTS_PRELOAD).
    "security.W005",
    "security.W021",
]
if CACHES["default"]["BACKEND"] == "django_redis.cache.RedisCache":
    # A Redis outage must not turn pages into errors: reads miss, writes are dropped, and the
    # rate limits fail open (the signed link is the real guard).
    CACHES["default"].setdefault("OPTIONS", {}).update(
        {"IGNORE_EXCEPTIONS": True, "SOCKET_CONNECT_TIMEOUT": 1, "SOCKET_TIMEOUT": 1}
    )
elif CACHES["default"]["BACKEND"].endswith("LocMemCache"):
    # The embedded default has no shared cache; limits then count per process, which is all a
    # single local process needs. Production sets CACHE_URL to Redis.
    SILENCED_SYSTEM_CHECKS += ["django_ratelimit.E003", "django_ratelimit.W001"]

# Rate limits (django-ratelimit, answered by RATELIMIT_VIEW through its middleware) -------------
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

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

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

# Staff see a new upload link once in a message: keep messages server-side, not in a cookie.
MESSAGE_STORAGE = "django.contrib.messages.storage.session.SessionStorage"

CRISPY_ALLOWED_TEMPLATE_PACKS = "bootstrap5"
CRISPY_TEMPLATE_PACK = "bootstrap5"

# Email ---------------------------------------------------------------------------------------
# lower case, so that the dict itself (with any SMTP password) is not a setting of its own
_email_settings = env.email_url("EMAIL_URL", default="consolemail://")
vars().update(_email_settings)
if (
    not DEBUG
    and _email_settings["EMAIL_BACKEND"] == "django.core.mail.backends.console.EmailBackend"
):
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
PORTAL_BASE_URL = env.str("PORTAL_BASE_URL", default="http://127.0.0.1:8000").rstrip("/")

# The default gateway (domain.md: documentation-range values, flagged by `check --deploy`) -------
DEFAULT_GATEWAY_NAME = env.str("DEFAULT_GATEWAY_NAME", default="Default gateway")
DEFAULT_GATEWAY_IP = env.str("DEFAULT_GATEWAY_IP", default="192.0.2.10")
DEFAULT_GATEWAY_HOSTNAME = env.str("DEFAULT_GATEWAY_HOSTNAME", default="gateway.example.com")
DEFAULT_GATEWAY_SIP_HOST = env.str("DEFAULT_GATEWAY_SIP_HOST", default="")

# Onboarding policy (domain.md marks these as settings) -------------------------------------------
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

# Secrets at rest (architecture.md, "Secrets") ---------------------------------------------------
TOKEN_ENCRYPTION_KEYS = env.list("TOKEN_ENCRYPTION_KEYS", default=[])
TOKEN_FINGERPRINT_KEY = env.str("TOKEN_FINGERPRINT_KEY", default="")
if DEBUG and not TOKEN_ENCRYPTION_KEYS:
    # Local convenience only: a key derived from SECRET_KEY, so the web process and the worker
    # agree. Outside DEBUG a missing key stops the process here.
    TOKEN_ENCRYPTION_KEYS = [
        base64.urlsafe_b64encode(hashlib.sha256(f"{SECRET_KEY}:tokens".encode()).digest()).decode()
    ]
if DEBUG and not TOKEN_FINGERPRINT_KEY:
    TOKEN_FINGERPRINT_KEY = hashlib.sha256(f"{SECRET_KEY}:fingerprints".encode()).hexdigest()
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

# Celery (architecture.md, "Celery") --------------------------------------------------------------
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
for _name, _seconds in (
    ("SWEEP_INTERVAL_SECONDS", SWEEP_INTERVAL_SECONDS),
    ("REMINDER_INTERVAL_SECONDS", REMINDER_INTERVAL_SECONDS),
    ("TOKEN_DESTROY_INTERVAL_SECONDS", TOKEN_DESTROY_INTERVAL_SECONDS),
    ("CONTACT_ERASE_INTERVAL_SECONDS", CONTACT_ERASE_INTERVAL_SECONDS),
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
}
# /healthz calls the scheduler dead when its newest heartbeat is older than this.
SCHEDULER_HEARTBEAT_MAX_AGE = timedelta(
    seconds=env.int("SCHEDULER_HEARTBEAT_MAX_AGE_SECONDS", default=180)
)

# Email outbox (architecture.md, "Email outbox") -------------------------------------------------
OUTBOX_MAX_ATTEMPTS = env.int("OUTBOX_MAX_ATTEMPTS", default=8)
OUTBOX_LEASE = timedelta(seconds=env.int("OUTBOX_LEASE_SECONDS", default=300))
OUTBOX_REQUEUE_AFTER = timedelta(seconds=env.int("OUTBOX_REQUEUE_AFTER_SECONDS", default=120))
OUTBOX_BATCH_SIZE = env.int("OUTBOX_BATCH_SIZE", default=50)

# Content Security Policy (issue 7, item 2; django-csp 4) ----------------------------------------
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

# Logging (issue 7, item 6) -----------------------------------------------------------------------
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

# Staff sign-in, roles and audit (issue 7: 2FA, lockout, history) ----------------------------------
# Kept in one block on purpose: other settings blocks of issue 7 (deploy, CSP, logs) live apart.
INSTALLED_APPS[INSTALLED_APPS.index("django.contrib.admin")] = "portal.apps.PortalAdminConfig"
INSTALLED_APPS += [
    # django-otp's sign-in machinery only: its TOTP and backup-code plugins store the secrets in
    # the clear, so the devices are onboarding's own (onboarding/models/staff_devices.py).
    "django_otp",
    "axes",
    "simple_history",
]
# OTPMiddleware marks request.user verified from the session; HistoryRequestMiddleware lets the
# history rows name the staff user; AxesMiddleware turns a lockout into its page and must be last.
MIDDLEWARE.insert(
    MIDDLEWARE.index("django.contrib.auth.middleware.AuthenticationMiddleware") + 1,
    "django_otp.middleware.OTPMiddleware",
)
MIDDLEWARE += [
    # after the auth and message middleware: it signs out and leaves a message
    "onboarding.infra.staff_sessions.StaffSessionExpiryMiddleware",
    "simple_history.middleware.HistoryRequestMiddleware",
    "axes.middleware.AxesMiddleware",
]
AUTHENTICATION_BACKENDS = [
    # first, so a locked-out username or address is refused before its password is checked
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
# A staff session ends this many hours after sign-in, however active (onboarding/staff_sessions.py);
# the cookie lasts no longer. Django's default is 14 days, sliding with activity.
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
