"""The outbox under faults, across real processes: a Celery worker subprocess on its own
redis-server, PostgreSQL, and a real SMTP sink. Time is moved by setting timestamps."""

from datetime import timedelta

import pytest
from django.db import connection, transaction
from django.utils import timezone

from onboarding.mail import outbox as mail
from onboarding.models import OutboundEmail, OutboxStatus
from onboarding.services import lifecycle, tenant_creation
from onboarding.services.audit import Actor
from onboarding.services.tenant_creation import CallingDomainSpec
from tests.services import wait_until

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.services]


def enabled_tenant(name="Acme"):
    tenant = tenant_creation.tenant_create(
        name=name,
        main_contact_email=f"it@{name.lower()}.test",
        calling_domains=[CallingDomainSpec(option="onpexip", domain=name.lower())],
        actor=Actor.system("test"),
    ).tenant
    lifecycle.tenant_enable(tenant=tenant, actor=Actor.system("test"))
    return tenant


def status_of(row):
    row.refresh_from_db()
    return row.status


def make_due(row):
    """As if the backoff or lease had run out: set the timestamps, do not wait."""
    OutboundEmail.objects.filter(pk=row.pk).update(
        next_attempt_at=timezone.now() - timedelta(seconds=1), queued_at=None
    )


def test_redis_stopped_while_enabling_the_email_arrives_after_it_is_back(
    celery_workers, broker, smtp_sink
):
    celery_workers()
    broker.stop()

    tenant = enabled_tenant()

    tenant.refresh_from_db()
    assert tenant.status == "invited"
    row = OutboundEmail.objects.get(tenant=tenant)
    assert status_of(row) == OutboxStatus.PENDING
    broker.start()
    # A restarted Redis (no persistence) has lost the queue's routing until a worker reconnects
    # and declares it again; the next sweep comes after that in real life, and so here.
    wait_until(lambda: queue_declared(broker), what="the worker back on the new Redis")
    result = mail.outbox_sweep(now=timezone.now() + timedelta(minutes=3))
    assert result.requeued == 1
    [message] = smtp_sink.wait_for(1, timeout=60)
    assert message["Message-ID"] == row.message_id
    wait_until(lambda: status_of(row) == OutboxStatus.SENT, what="the row marked sent")


def test_worker_killed_before_the_server_accepted_delivers_exactly_once(celery_workers, smtp_sink):
    smtp_sink.handler.hold_data = True
    worker = celery_workers(OUTBOX_LEASE_SECONDS="2")
    row = OutboundEmail.objects.get(tenant=enabled_tenant())
    assert smtp_sink.handler.data_arrived.wait(30), worker.output()
    assert status_of(row) == OutboxStatus.SENDING

    worker.kill()
    smtp_sink.handler.release.set()
    smtp_sink.handler.hold_data = False
    celery_workers()
    row.refresh_from_db()
    mail.outbox_sweep(now=row.lease_until + timedelta(seconds=1))

    [message] = smtp_sink.wait_for(1, timeout=60)
    assert message["Message-ID"] == row.message_id
    wait_until(lambda: status_of(row) == OutboxStatus.SENT, what="the row marked sent")
    assert len(smtp_sink.messages) == 1
    assert row.attempts == 2


def test_worker_killed_after_the_server_accepted_sends_at_most_one_duplicate(
    celery_workers, smtp_sink
):
    smtp_sink.handler.hold_data = smtp_sink.handler.accept_held = True
    worker = celery_workers(OUTBOX_LEASE_SECONDS="2")
    row = OutboundEmail.objects.get(tenant=enabled_tenant())
    assert smtp_sink.handler.data_arrived.wait(30), worker.output()
    with transaction.atomic():
        # Lock the claimed row, then let the server accept: the worker's "sent" UPDATE waits
        # on our lock, so it dies knowing the message was accepted but before recording it.
        OutboundEmail.objects.select_for_update().get(pk=row.pk)
        smtp_sink.handler.release.set()
        smtp_sink.wait_for(1)
        wait_until(lambda: blocked_outbox_updates(), what="the worker's UPDATE to block")
        worker.kill()
        # A killed client's statement runs on in PostgreSQL until the server notices the dead
        # socket; end it as a lost connection would, so it cannot commit after the crash.
        terminate_backends(blocked_outbox_updates())
    smtp_sink.handler.hold_data = False
    assert status_of(row) == OutboxStatus.SENDING

    celery_workers()
    mail.outbox_sweep(now=row.lease_until + timedelta(seconds=1))

    wait_until(lambda: status_of(row) == OutboxStatus.SENT, timeout=60, what="the row sent")
    assert len(smtp_sink.messages) == 2
    assert {m["Message-ID"] for m in smtp_sink.messages} == {row.message_id}
    assert mail.outbox_sweep(now=timezone.now() + timedelta(hours=1)).requeued == 0


def blocked_outbox_updates():
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT pid FROM pg_stat_activity WHERE wait_event_type = 'Lock' "
            "AND query LIKE 'UPDATE \"onboarding_outboundemail\"%%'"
        )
        return [pid for (pid,) in cursor.fetchall()]


def terminate_backends(pids):
    with connection.cursor() as cursor:
        for pid in pids:
            cursor.execute("SELECT pg_terminate_backend(%s)", [pid])


def test_smtp_refusing_for_a_while_is_retried_until_delivered(celery_workers, smtp_sink):
    smtp_sink.handler.refuse_with = "451 4.3.0 Try again later"
    celery_workers()
    row = OutboundEmail.objects.get(tenant=enabled_tenant())

    for attempt in (1, 2):
        wait_until(lambda a=attempt: smtp_sink.handler.refused == a, what=f"refusal {attempt}")
        wait_until(
            lambda a=attempt: status_of(row) == OutboxStatus.PENDING and row.attempts == a,
            what="the row back to pending",
        )
        if attempt == 2:
            smtp_sink.handler.refuse_with = ""
        make_due(row)
        mail.outbox_sweep()

    [message] = smtp_sink.wait_for(1)
    wait_until(lambda: status_of(row) == OutboxStatus.SENT, what="the row sent")
    assert row.attempts == 3
    assert message["Message-ID"] == row.message_id


def test_smtp_refusing_past_the_limit_fails_the_row_and_tells_staff(celery_workers, smtp_sink):
    smtp_sink.handler.refuse_with = "451 4.3.0 Try again later"
    smtp_sink.handler.refuse_only_to = "@acme.test"
    celery_workers(OUTBOX_MAX_ATTEMPTS="2")
    row = OutboundEmail.objects.get(tenant=enabled_tenant())
    wait_until(lambda: smtp_sink.handler.refused == 1, what="the first refusal")
    wait_until(lambda: status_of(row) == OutboxStatus.PENDING, what="the row back to pending")

    make_due(row)
    mail.outbox_sweep()

    [message] = smtp_sink.wait_for(1)
    assert status_of(row) == OutboxStatus.FAILED
    assert row.attempts == 2
    assert message["To"] == "staff@provider.test"
    assert "Acme" in message["Subject"]
    assert smtp_sink.handler.refused == 2


def test_the_same_send_task_delivered_three_times_sends_one_email(
    celery_workers, smtp_sink, broker
):
    from onboarding.tasks import send_emails

    celery_workers()
    row = OutboundEmail.objects.get(tenant=enabled_tenant())

    send_emails.delay([row.pk])
    send_emails.delay([row.pk])
    wait_until(lambda: broker_queue_length(broker) == 0, what="every delivery consumed")
    wait_until(lambda: status_of(row) == OutboxStatus.SENT, what="the row sent")

    assert len(smtp_sink.messages) == 1
    assert row.attempts == 1


def broker_queue_length(broker):
    import redis

    return redis.Redis.from_url(broker.url).llen("celery")


def queue_declared(broker):
    import redis

    return redis.Redis.from_url(broker.url).exists("_kombu.binding.celery") == 1
