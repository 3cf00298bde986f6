"""gunicorn's configuration (`gunicorn -c portal/gunicorn.conf.py portal.wsgi`).

Its loggers are configured from the portal's own LOGGING, so the access log is JSON in
production and goes through the filter that takes upload links' signatures out. (gunicorn's own
`accesslog` option is left unset on purpose: it would add a second, unfiltered handler.)
"""

import os

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "portal.settings")

from django.conf import settings

bind = os.environ.get("GUNICORN_BIND", "0.0.0.0:8000")
# gunicorn itself reads WEB_CONCURRENCY for the number of workers (default 2 here: small images)
workers = int(os.environ.get("WEB_CONCURRENCY", "2"))
# slower than this means something hangs; the upload page answers in milliseconds
timeout = 30
# the proxy in front already holds slow clients; keep-alive only between it and us
keepalive = 5
logconfig_dict = settings.LOGGING
# request line, status, size, time in microseconds; the request id the portal answered with
access_log_format = '%(h)s "%(r)s" %(s)s %(B)s %(D)sus request_id=%({x-request-id}o)s'
# gunicorn trusts X-Forwarded-* only from these addresses (the proxy); "*" would let a client
# claim any scheme. The portal's own settings decide the rest (SECURE_PROXY_SSL_HEADER).
forwarded_allow_ips = os.environ.get("FORWARDED_ALLOW_IPS", "127.0.0.1")
