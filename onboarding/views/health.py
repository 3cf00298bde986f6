import logging

from django.db import DatabaseError, connection
from django.http import HttpRequest, JsonResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from onboarding.services.heartbeats import scheduler_alive

logger = logging.getLogger(__name__)

# A health probe must answer quickly even when the broker is gone.
BROKER_CHECK_TIMEOUT_SECONDS = 2


def database_ok() -> bool:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            return cursor.fetchone() == (1,)
    except DatabaseError:
        logger.warning("healthz: database unreachable", exc_info=True)
        return False


def broker_ok() -> bool:
    from portal.celery import app

    try:
        with app.connection_for_write() as broker:
            broker.ensure_connection(
                max_retries=1, timeout=BROKER_CHECK_TIMEOUT_SECONDS, interval_start=0
            )
            client = getattr(broker.default_channel, "client", None)
            if client is not None:  # Redis: make sure it answers, not only that it accepts
                client.ping()
    except Exception:  # any transport's failure means the same: the broker is not usable
        logger.warning("healthz: broker unreachable", exc_info=True)
        return False
    return True


def scheduler_ok() -> bool:
    try:
        return scheduler_alive()
    except DatabaseError:
        return False


@never_cache
@require_GET
def healthz(request: HttpRequest) -> JsonResponse:
    """200 when every part answers, 503 otherwise; the body says which part failed."""
    checks = {
        "database": database_ok(),
        "broker": broker_ok(),
        "scheduler": scheduler_ok(),
    }
    healthy = all(checks.values())
    return JsonResponse(
        {
            "status": "ok" if healthy else "failing",
            "checks": {name: "ok" if fine else "failing" for name, fine in checks.items()},
        },
        status=200 if healthy else 503,
    )
