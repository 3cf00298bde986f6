"""The email outbox: compose from templates, record in the caller's transaction, send, retry.

An `OutboundEmail` row is written in the same transaction as the change that causes it, under a
unique idempotency key, so an email is never lost (the row exists whenever the change does) and
never duplicated by a retried caller. Its rendered message is stored encrypted and erased once
sent. Workers claim rows with a conditional UPDATE and a lease; the sweeper re-queues what the
broker lost and reclaims what a dead worker held.
"""

from __future__ import annotations

import json
import logging
import smtplib
import threading
import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from celery import current_app
from django.conf import settings
from django.core.mail import EmailMultiAlternatives, get_connection
from django.db import transaction
from django.db.models import F, Q
from django.template.loader import render_to_string
from django.utils import timezone

from onboarding.infra import encryption
from onboarding.models import EmailKind, OutboundEmail, OutboxStatus, Tenant

logger = logging.getLogger(__name__)

# Waits between attempts: quick at first for a blip, then patient for an outage.
RETRY_BACKOFF = (
    timedelta(minutes=1),
    timedelta(minutes=2),
    timedelta(minutes=5),
    timedelta(minutes=15),
    timedelta(minutes=30),
    timedelta(minutes=60),
)
# The send task, queued by name: the outbox sits below the tasks that call it.
SEND_EMAILS_TASK = "onboarding.tasks.send_emails"
# How many pending rows one sweep re-queues; the next sweep takes the rest.
SWEEP_LIMIT = 1000


@dataclass(frozen=True)
class RenderedEmail:
    subject: str
    text: str
    html: str


def render(kind: str, context: dict[str, Any]) -> RenderedEmail:
    context = {
        "support_contact": settings.SUPPORT_CONTACT,
        "provider_name": settings.PROVIDER_NAME,
        "portal_base_url": settings.PORTAL_BASE_URL,
        **context,
    }
    subject: str = render_to_string(f"emails/{kind}/subject.txt", context)
    # one line, whatever a template or a tenant name holds: no header can be smuggled in
    subject = " ".join(subject.split())
    return RenderedEmail(
        subject=subject,
        text=render_to_string(f"emails/{kind}/body.txt", context),
        html=render_to_string(f"emails/{kind}/body.html", context),
    )


def email_queue(
    *,
    kind: str,
    idempotency_key: str,
    recipients: Iterable[str],
    context: dict[str, Any],
    tenant: Tenant | None = None,
    now: datetime | None = None,
) -> OutboundEmail:
    """Record an email in the caller's transaction; the send task is queued once it commits.

    Calling it again with the same key returns the existing row and queues nothing.
    """
    now = now or timezone.now()
    recipients = [address for address in recipients if address]
    rendered = render(kind, context)
    payload = {"text": rendered.text, "html": rendered.html}
    row = OutboundEmail(
        idempotency_key=idempotency_key,
        tenant=tenant,
        kind=kind,
        recipients=recipients,
        subject=rendered.subject,
        message_ciphertext=encryption.encrypt(json.dumps(payload)),
        created_at=now,
        next_attempt_at=now,
        queued_at=now,
    )
    # ON CONFLICT DO NOTHING: a concurrent insert of the same key makes this one wait for it,
    # then skip; the read finds whichever row holds the key, ours when its message key is ours
    OutboundEmail.objects.bulk_create([row], ignore_conflicts=True)
    stored = OutboundEmail.objects.get(idempotency_key=idempotency_key)
    if stored.message_key == row.message_key:
        _after_commit_send(stored.pk)
    return stored


_unpublished = threading.local()


def _after_commit_send(outbox_id: int) -> None:
    """Publish this row's send task once the transaction commits, batched with its neighbours.

    Every row registers the same flush; the first one to run after the commit publishes all
    the rows of that commit in batches, the rest find nothing left. Ids of a rolled-back
    transaction may ride along with a later flush: the task finds no such pending row and
    does nothing.
    """
    pending = getattr(_unpublished, "ids", None)
    if pending is None:
        pending = _unpublished.ids = []
    pending.append(outbox_id)
    transaction.on_commit(_flush_unpublished)


def _flush_unpublished() -> None:
    ids = getattr(_unpublished, "ids", None)
    if ids:
        _unpublished.ids = []
        enqueue_send(ids)


def enqueue_send(outbox_ids: Sequence[int]) -> bool:
    """Hand rows to the workers, a batch per task. A broker outage is logged, not raised: the
    rows are safe in the database and the sweeper queues them again."""
    size = max(1, settings.OUTBOX_BATCH_SIZE)
    published = True
    for start in range(0, len(outbox_ids), size):
        batch = list(outbox_ids[start : start + size])
        try:
            current_app.send_task(SEND_EMAILS_TASK, args=[batch])
        except Exception:  # any broker or network failure
            logger.warning(
                "could not queue outbound emails %s; the outbox sweeper will queue them again",
                batch,
                exc_info=True,
            )
            published = False
    return published


# Sending ----------------------------------------------------------------------------------------


def email_send(outbox_ids: Sequence[int], *, now: datetime | None = None) -> int:
    """Claim these rows and send them over one connection; return how many were sent.

    A row that is not pending and due (already sent, held by another worker, failed, backing
    off) is left alone, so a task delivered twice sends once.
    """
    now = now or timezone.now()
    claim_token = uuid.uuid4().hex
    claimed = _claim(outbox_ids, claim_token, now)
    if not claimed:
        return 0
    sent = 0
    connection = get_connection(timeout=settings.EMAIL_TIMEOUT)
    try:
        for row in claimed:
            sent += _send_one(row, connection, claim_token)
    finally:
        _close_quietly(connection)
    return sent


def _claim(outbox_ids: Sequence[int], claim_token: str, now: datetime) -> list[OutboundEmail]:
    """One conditional UPDATE: only rows still pending and due change hands."""
    OutboundEmail.objects.filter(
        pk__in=list(outbox_ids), status=OutboxStatus.PENDING, next_attempt_at__lte=now
    ).update(
        status=OutboxStatus.SENDING,
        claim_token=claim_token,
        lease_until=now + settings.OUTBOX_LEASE,
        attempts=F("attempts") + 1,
    )
    return list(OutboundEmail.objects.filter(claim_token=claim_token).order_by("id"))


def _send_one(row: OutboundEmail, connection: Any, claim_token: str) -> int:
    try:
        payload = json.loads(encryption.decrypt(row.message_ciphertext))
        message = EmailMultiAlternatives(
            subject=row.subject,
            body=payload["text"],
            from_email=settings.DEFAULT_FROM_EMAIL,
            to=row.recipients,
            headers={"Message-ID": row.message_id},
            connection=connection,
        )
        message.attach_alternative(payload["html"], "text/html")
        connection.open()  # once per batch: later rows reuse the open connection
        message.send()
    except Exception as exc:  # classified below: only what can succeed later is retried
        _close_quietly(connection)
        _record_failure(row, claim_token, exc)
        return 0
    OutboundEmail.objects.filter(pk=row.pk, claim_token=claim_token).update(
        status=OutboxStatus.SENT,
        sent_at=timezone.now(),
        message_ciphertext="",
        claim_token="",
        lease_until=None,
        last_error="",
    )
    logger.info("outbound email %s (%s) sent", row.pk, row.kind)
    return 1


def _close_quietly(connection: Any) -> None:
    try:
        connection.close()
    except (OSError, smtplib.SMTPException):
        logger.debug("closing the SMTP connection failed", exc_info=True)


def is_permanent(exc: BaseException) -> bool:
    """5xx answers and undecryptable messages will not succeed by trying again."""
    if isinstance(exc, encryption.DecryptionFailed):
        return True
    if isinstance(exc, smtplib.SMTPRecipientsRefused):
        return all(code >= 500 for code, _msg in exc.recipients.values())
    if isinstance(exc, smtplib.SMTPResponseException):
        return exc.smtp_code >= 500
    return False


def describe_error(exc: BaseException) -> str:
    if isinstance(exc, smtplib.SMTPResponseException):
        detail = exc.smtp_error
        text = detail.decode("utf-8", "replace") if isinstance(detail, bytes) else str(detail)
        return f"SMTP {exc.smtp_code}: {text}"[:500]
    return f"{type(exc).__name__}: {exc}"[:500]


def _record_failure(row: OutboundEmail, claim_token: str, exc: BaseException) -> None:
    now = timezone.now()
    error = describe_error(exc)
    give_up = is_permanent(exc) or row.attempts >= settings.OUTBOX_MAX_ATTEMPTS
    with transaction.atomic():
        if give_up:
            changed = OutboundEmail.objects.filter(pk=row.pk, claim_token=claim_token).update(
                status=OutboxStatus.FAILED,
                last_error=error,
                claim_token="",
                lease_until=None,
                message_ciphertext="",
            )
            if changed:
                logger.error("outbound email %s (%s) failed for good: %s", row.pk, row.kind, error)
                staff_notify_email_failed(row, error)
            return
        wait = RETRY_BACKOFF[min(row.attempts, len(RETRY_BACKOFF)) - 1]
        OutboundEmail.objects.filter(pk=row.pk, claim_token=claim_token).update(
            status=OutboxStatus.PENDING,
            last_error=error,
            claim_token="",
            lease_until=None,
            next_attempt_at=now + wait,
        )
    logger.warning("outbound email %s attempt %s failed, retrying: %s", row.pk, row.attempts, error)


def staff_notify_email_failed(row: OutboundEmail, error: str) -> None:
    if row.kind == EmailKind.EMAIL_FAILED:
        return  # never notify about a notification: that loop has no end
    if not settings.STAFF_NOTIFICATION_EMAILS:
        logger.error("STAFF_NOTIFICATION_EMAILS is empty: nobody is told email %s failed", row.pk)
        return
    email_queue(
        kind=EmailKind.EMAIL_FAILED,
        idempotency_key=f"email_failed:{row.pk}",
        recipients=settings.STAFF_NOTIFICATION_EMAILS,
        tenant=row.tenant,
        context={"failed": row, "error": error, "tenant": row.tenant},
    )


# The sweeper ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class SweepResult:
    reclaimed: int
    requeued: int


def outbox_sweep(*, now: datetime | None = None) -> SweepResult:
    """Reclaim rows whose worker died holding them; re-queue pending rows the broker lost."""
    now = now or timezone.now()
    reclaimed = OutboundEmail.objects.filter(
        status=OutboxStatus.SENDING, lease_until__lt=now
    ).update(status=OutboxStatus.PENDING, claim_token="", lease_until=None, queued_at=None)
    stale = now - settings.OUTBOX_REQUEUE_AFTER
    lost = Q(status=OutboxStatus.PENDING, next_attempt_at__lte=now) & (
        Q(queued_at__isnull=True) | Q(queued_at__lte=stale)
    )
    candidates = list(
        OutboundEmail.objects.filter(lost)
        .order_by("next_attempt_at", "id")
        .values_list("pk", flat=True)[:SWEEP_LIMIT]
    )
    # Claimed by a conditional UPDATE that marks them with this sweep's own time: a second sweep
    # running at once (two beats by mistake) finds them no longer lost and queues none of them.
    OutboundEmail.objects.filter(lost, pk__in=candidates).update(queued_at=now)
    due = list(
        OutboundEmail.objects.filter(pk__in=candidates, queued_at=now).values_list("pk", flat=True)
    )
    requeued = len(due) if due and enqueue_send(due) else 0
    return SweepResult(reclaimed=reclaimed, requeued=requeued)
