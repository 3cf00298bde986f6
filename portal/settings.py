"""Settings, read from the environment (django-environ).

Defaults make a bare machine work (SQLite, a server-less broker, console email); production sets
every secret explicitly and never relies on a default for one.
"""

from datetime import timedelta
from pathlib import Path

import environ
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

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "crispy_forms",
    "crispy_bootstrap5",
    "onboarding",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
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
            ],
        },
    },
]

DATABASES = {
    "default": env.db("DATABASE_URL", default=f"sqlite:///{BASE_DIR / 'db.sqlite3'}"),
}
DATABASES["default"]["ATOMIC_REQUESTS"] = False
DATABASES["default"]["CONN_MAX_AGE"] = env.int("DATABASE_CONN_MAX_AGE", default=0)
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

CACHES = {"default": env.cache("CACHE_URL", default="locmemcache://")}

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
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}

CRISPY_ALLOWED_TEMPLATE_PACKS = "bootstrap5"
CRISPY_TEMPLATE_PACK = "bootstrap5"

# Email ---------------------------------------------------------------------------------------
vars().update(env.email_url("EMAIL_URL", default="consolemail://"))
EMAIL_TIMEOUT = env.int("EMAIL_TIMEOUT", default=20)
DEFAULT_FROM_EMAIL = env.str("DEFAULT_FROM_EMAIL", default="Meet interop onboarding <onboarding@localhost>")
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
REMINDER_AFTER_DAYS = env.list("REMINDER_AFTER_DAYS", cast=int, default=[3, 7])
STUCK_AFTER = timedelta(days=env.int("STUCK_AFTER_DAYS", default=7))
PREFIX_QUARANTINE = timedelta(days=env.int("PREFIX_QUARANTINE_DAYS", default=90))
# record label and port of every SRV record an own domain must publish
DNS_EXPECTED_SRV_RECORDS = env.list(
    "DNS_EXPECTED_SRV_RECORDS",
    default=["_sips._tcp:5061", "_sip._tcp:5060", "_h323cs._tcp:1720"],
)

# Logging ---------------------------------------------------------------------------------------
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": env.str("LOG_LEVEL", default="INFO")},
}
