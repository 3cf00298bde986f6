"""A gateway's Infinity Management Node as the portal reaches it: the client made from the
gateway's settings, "Test connection", and stopping a gateway whose credentials are refused."""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime

from django.conf import settings
from django.utils import timezone

from onboarding.domain import infinity_rules
from onboarding.gateways.infinity_client import (
    InfinityClient,
    InfinityError,
    Rejected,
    TlsFailure,
    Transient,
    Unauthorized,
)
from onboarding.infra import encryption
from onboarding.mail import outbox
from onboarding.models import EmailKind, Gateway, Tenant

logger = logging.getLogger(__name__)


def client_for(gateway: Gateway) -> InfinityClient:
    """Raises ConfigurationError for settings the client refuses (not https, a missing file)."""
    password = (
        encryption.decrypt(gateway.management_password_ciphertext)
        if gateway.management_password_ciphertext
        else ""
    )
    return InfinityClient(
        manager_url=gateway.management_url,
        username=gateway.management_username,
        password=password,
        ca_bundle=gateway.management_ca_bundle or None,
        timeout=gateway.management_timeout,
    )


# One open client per gateway and thread, for the jobs and sweeps a worker runs one after another:
# a job then costs no new TLS handshake (bench/provision.py measures the difference). Keyed by
# every setting the client is made from, so a changed password or CA bundle makes a new one.
_open_clients = threading.local()


@contextmanager
def node_session(gateway: Gateway) -> Iterator[InfinityClient]:
    """The gateway's client, kept open across jobs in this thread."""
    clients: dict[int, tuple[tuple[object, ...], InfinityClient]] = getattr(
        _open_clients, "by_gateway", {}
    )
    _open_clients.by_gateway = clients
    settings_key = (
        gateway.management_url,
        gateway.management_username,
        gateway.management_password_ciphertext,
        gateway.management_ca_bundle,
        gateway.management_timeout,
    )
    cached = clients.get(gateway.pk)
    if cached is None or cached[0] != settings_key:
        if cached is not None:
            cached[1].close()
        clients[gateway.pk] = (settings_key, client_for(gateway))
    client = clients[gateway.pk][1]
    try:
        yield client
    except BaseException:
        # after a failure the connection may be in any state: the next job starts afresh
        clients.pop(gateway.pk, None)
        client.close()
        raise


def in_plain_words(exc: InfinityError) -> str:
    """What staff read about a failure: the node's own message where it gave one."""
    if isinstance(exc, Unauthorized):
        return f"The management node refused the portal's username or password ({exc})."
    if isinstance(exc, TlsFailure):
        return f"The management node's certificate did not verify against the CA bundle ({exc})."
    if isinstance(exc, Rejected):
        return f"The management node refused the change: {exc}"
    if isinstance(exc, Transient):
        return f"The management node did not answer in time or is busy ({exc})."
    return str(exc)


def connection_test(gateway: Gateway) -> tuple[bool, str]:
    """Read both lists once, as the provisioning does; change nothing."""
    try:
        with client_for(gateway) as client:
            tokens = client.list_tokens()
            rules = client.list_rules()
    except InfinityError as exc:
        return False, in_plain_words(exc)
    prefix = infinity_rules.DEFAULT_OBJECT_PREFIX + "-"
    ours_tokens = sum(1 for t in tokens if str(t.get("name") or "").startswith(prefix))
    ours_rules = sum(1 for r in rules if str(r.get("tag") or "").startswith(prefix))
    return True, (
        f"Connected to {gateway.management_url}: it holds {len(tokens)} Google Meet access "
        f"tokens ({ours_tokens} managed by the portal) and {len(rules)} routing rules "
        f"({ours_rules} managed by the portal)."
    )


def gateway_stop(gateway: Gateway, reason: str, *, now: datetime | None = None) -> bool:
    """Stop sending to a gateway whose node refuses our credentials; tell staff once."""
    now = now or timezone.now()
    stopped = Gateway.objects.filter(pk=gateway.pk, provisioning_stopped_at__isnull=True).update(
        provisioning_stopped_at=now, provisioning_stop_reason=reason
    )
    gateway.provisioning_stopped_at = gateway.provisioning_stopped_at or now
    gateway.provisioning_stop_reason = gateway.provisioning_stop_reason or reason
    if stopped:
        logger.warning("gateway %s stopped: %s", gateway.pk, reason)
        staff_alert(
            gateway,
            None,
            reason,
            key=f"gateway_stopped:{gateway.pk}:{now:%Y%m%dT%H%M%S%f}",
            what_to_do="Nothing is sent to this gateway until its credentials change or staff "
            'press "Provision now" on a tenant. Check the username, password and CA bundle on '
            'the gateway page, then use "Test connection".',
        )
    return bool(stopped)


def gateway_resume(gateway: Gateway) -> bool:
    resumed = Gateway.objects.filter(pk=gateway.pk, provisioning_stopped_at__isnull=False).update(
        provisioning_stopped_at=None, provisioning_stop_reason=""
    )
    gateway.provisioning_stopped_at = None
    gateway.provisioning_stop_reason = ""
    return bool(resumed)


def staff_alert(
    gateway: Gateway, tenant: Tenant | None, problem: str, *, key: str, what_to_do: str
) -> None:
    if not settings.STAFF_NOTIFICATION_EMAILS:
        logger.error("STAFF_NOTIFICATION_EMAILS is empty: nobody is told: %s", problem)
        return
    outbox.email_queue(
        kind=EmailKind.GATEWAY_PROBLEM,
        idempotency_key=key,
        recipients=settings.STAFF_NOTIFICATION_EMAILS,
        tenant=tenant,
        context={
            "gateway_name": gateway.name,
            "gateway_id": gateway.pk,
            "tenant": tenant,
            "problem": problem,
            "what_to_do": what_to_do,
        },
    )
