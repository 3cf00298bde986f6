"""The outbox in one process: recording, sending to a real SMTP sink, retrying, sweeping."""

from datetime import timedelta

import pytest
from django.db import transaction
from django.utils import timezone

from onboarding.mail import outbox as mail
from onboarding.models import EmailKind, OutboundEmail, OutboxStatus, Tenant, TenantStatus
from onboarding.services import audit, lifecycle, resend, tenant_creation
from onboarding.services.audit import Actor
from onboarding.services.tenant_creation import CallingDomainSpec
from tests.concurrency import run_together
from tests.conftest import point_celery_at
from tests.services import reserve_port

pytestmark = pytest.mark.django_db


def make_tenant(name="Acme", **spec):
    spec = {"option": "onpexip", "domain": name.lower(), **spec}
    return tenant_creation.tenant_create(
        name=name,
        main_contact_email=f"it@{name.lower()}.test",
        token_upload_contacts=[f"admin@{name.lower()}.test"],
        calling_domains=[CallingDomainSpec(**spec)],
        actor=Actor.system("test"),
    ).tenant


def queue_initial(tenant, key="initial:test"):
    """The initial email as enabling queues it (links go only to invited tenants)."""
    from onboarding.services.link_emails import initial_email_send

    Tenant.objects.filter(pk=tenant.pk).update(status=TenantStatus.INVITED)
    tenant.refresh_from_db()
    with transaction.atomic():
        return initial_email_send(tenant, key, timezone.now())


def test_an_email_is_recorded_encrypted_and_only_once_per_key():
    tenant = make_tenant()

    first = queue_initial(tenant)
    second = queue_initial(tenant)

    assert first.pk == second.pk
    assert OutboundEmail.objects.count() == 1
    assert first.recipients == ["admin@acme.test"]
    assert "acme.onpexip.com" not in first.message_ciphertext
    assert "Interoperability tokens" not in first.message_ciphertext


def test_an_email_of_a_rolled_back_change_is_never_recorded():
    tenant = make_tenant()

    with pytest.raises(RuntimeError), transaction.atomic():
        queue_initial(tenant)
        raise RuntimeError("the change failed")

    assert not OutboundEmail.objects.exists()


def test_enabling_a_tenant_queues_the_initial_email_with_its_values(smtp_sink):
    tenant = make_tenant()

    lifecycle.tenant_enable(tenant=tenant, actor=Actor.system())

    row = OutboundEmail.objects.get(tenant=tenant)
    assert row.kind == EmailKind.INITIAL
    assert row.idempotency_key.startswith(f"initial:{tenant.pk}:")
    mail.email_send([row.pk])
    [message] = smtp_sink.messages
    text = message.get_body(("plain",)).get_content()
    html = message.get_body(("html",)).get_content()
    for part in (text, html):
        assert "acme.onpexip.com" in part
        assert "192.0.2.10" in part
        assert "gateway.example.com" in part
        assert "Interoperability tokens" in part
        assert "support@provider.test" in part


def test_a_refused_enable_queues_nothing():
    tenant = make_tenant(option="own", domain="video.acme.test")

    with pytest.raises(audit.TransitionRefused):
        lifecycle.tenant_enable(tenant=tenant, actor=Actor.system())

    assert not OutboundEmail.objects.filter(kind=EmailKind.INITIAL).exists()


def test_sending_delivers_once_with_the_rows_message_id_and_erases_the_message(smtp_sink):
    row = queue_initial(make_tenant())

    assert mail.email_send([row.pk]) == 1
    assert mail.email_send([row.pk]) == 0

    row.refresh_from_db()
    [message] = smtp_sink.messages
    assert message["Message-ID"] == row.message_id
    assert message["To"] == "admin@acme.test"
    assert row.status == OutboxStatus.SENT
    assert row.attempts == 1
    assert row.message_ciphertext == ""
    assert row.sent_at is not None


def test_one_task_sends_its_batch_over_one_connection(smtp_sink):
    tenant = make_tenant()
    rows = [queue_initial(tenant, key=f"k{n}") for n in range(5)]

    assert mail.email_send([row.pk for row in rows]) == 5

    assert len(smtp_sink.messages) == 5
    assert smtp_sink.handler.connections == 1
    assert {r.status for r in OutboundEmail.objects.all()} == {OutboxStatus.SENT}


def test_a_temporary_refusal_backs_off_and_counts_the_attempt(smtp_sink):
    smtp_sink.handler.refuse_with = "451 4.3.0 Try again later"
    row = queue_initial(make_tenant())
    before = timezone.now()

    assert mail.email_send([row.pk]) == 0

    row.refresh_from_db()
    assert row.status == OutboxStatus.PENDING
    assert row.attempts == 1
    assert "451" in row.last_error
    assert row.next_attempt_at >= before + timedelta(minutes=1)
    assert row.message_ciphertext != ""


def test_a_row_is_not_sent_again_before_its_backoff_ends(smtp_sink):
    smtp_sink.handler.refuse_with = "451 4.3.0 Try again later"
    row = queue_initial(make_tenant())
    mail.email_send([row.pk])
    smtp_sink.handler.refuse_with = ""

    assert mail.email_send([row.pk]) == 0
    assert mail.email_send([row.pk], now=timezone.now() + timedelta(minutes=2)) == 1

    assert len(smtp_sink.messages) == 1


def test_the_attempt_limit_fails_the_row_and_tells_staff(smtp_sink, settings):
    settings.OUTBOX_MAX_ATTEMPTS = 2
    smtp_sink.handler.refuse_with = "451 4.3.0 Try again later"
    row = queue_initial(make_tenant())
    mail.email_send([row.pk])
    mail.email_send([row.pk], now=timezone.now() + timedelta(minutes=2))

    row.refresh_from_db()
    assert row.status == OutboxStatus.FAILED
    assert row.message_ciphertext == ""
    notice = OutboundEmail.objects.get(kind=EmailKind.EMAIL_FAILED)
    assert notice.recipients == ["staff@provider.test"]
    assert notice.idempotency_key == f"email_failed:{row.pk}"


def test_a_permanent_refusal_fails_at_once_and_tells_staff(smtp_sink):
    smtp_sink.handler.refuse_with = "550 5.1.1 No such mailbox"
    row = queue_initial(make_tenant())

    mail.email_send([row.pk])

    row.refresh_from_db()
    assert row.status == OutboxStatus.FAILED
    assert row.attempts == 1
    smtp_sink.handler.refuse_with = ""
    notice = OutboundEmail.objects.get(kind=EmailKind.EMAIL_FAILED)
    mail.email_send([notice.pk])
    [message] = smtp_sink.messages
    assert "Acme" in message["Subject"]
    assert "550" in message.get_body(("plain",)).get_content()
    assert "550" in message.get_body(("html",)).get_content()


def test_a_failed_staff_notice_does_not_notify_about_itself(smtp_sink):
    smtp_sink.handler.refuse_with = "550 5.1.1 No such mailbox"
    row = queue_initial(make_tenant())
    mail.email_send([row.pk])
    notice = OutboundEmail.objects.get(kind=EmailKind.EMAIL_FAILED)

    mail.email_send([notice.pk])

    assert OutboundEmail.objects.filter(kind=EmailKind.EMAIL_FAILED).count() == 1


def test_an_unreachable_smtp_server_is_a_temporary_failure(settings):
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", reserve_port()
    row = queue_initial(make_tenant())

    mail.email_send([row.pk])

    row.refresh_from_db()
    assert row.status == OutboxStatus.PENDING
    assert "ConnectionRefusedError" in row.last_error


def test_the_sweeper_reclaims_expired_leases_and_requeues_stale_rows():
    row = queue_initial(make_tenant())
    now = timezone.now()
    OutboundEmail.objects.filter(pk=row.pk).update(
        status=OutboxStatus.SENDING,
        claim_token="dead-worker",
        lease_until=now - timedelta(seconds=1),
    )

    result = mail.outbox_sweep(now=now)

    row.refresh_from_db()
    assert (result.reclaimed, result.requeued) == (1, 1)
    assert row.status == OutboxStatus.PENDING
    assert row.queued_at == now


def test_the_sweeper_leaves_fresh_and_leased_rows_alone():
    tenant = make_tenant()
    fresh = queue_initial(tenant, key="fresh")
    leased = queue_initial(tenant, key="leased")
    now = timezone.now()
    OutboundEmail.objects.filter(pk=leased.pk).update(
        status=OutboxStatus.SENDING, lease_until=now + timedelta(minutes=1)
    )

    result = mail.outbox_sweep(now=now)

    assert (result.reclaimed, result.requeued) == (0, 0)
    fresh.refresh_from_db()
    assert fresh.queued_at == fresh.created_at


def test_the_sweeper_requeues_a_pending_row_once_it_is_older_than_the_setting(settings):
    row = queue_initial(make_tenant())

    result = mail.outbox_sweep(now=row.created_at + settings.OUTBOX_REQUEUE_AFTER)

    assert result.requeued == 1


def test_a_broker_outage_while_queueing_is_logged_not_raised(
    caplog, django_capture_on_commit_callbacks
):
    tenant = make_tenant()
    point_celery_at(f"redis://127.0.0.1:{reserve_port()}/0")
    try:
        with django_capture_on_commit_callbacks(execute=True) as callbacks:
            lifecycle.tenant_enable(tenant=tenant, actor=Actor.system())
    finally:
        from django.conf import settings

        point_celery_at(settings.CELERY_BROKER_URL)

    tenant.refresh_from_db()
    assert tenant.status == "invited"
    assert OutboundEmail.objects.filter(tenant=tenant, status=OutboxStatus.PENDING).exists()
    assert len(callbacks) == 1
    assert "the outbox sweeper will queue them again" in caplog.text


def test_send_again_re_renders_from_current_data_as_a_new_row():
    tenant = make_tenant()
    row = queue_initial(tenant)
    tenant.token_upload_contacts = ["new-admin@acme.test"]
    tenant.save()

    again = resend.email_send_again(row)

    assert again.pk != row.pk
    assert again.recipients == ["new-admin@acme.test"]
    assert again.kind == EmailKind.INITIAL


def test_a_staff_notice_cannot_be_sent_again():
    smtp_notice = OutboundEmail.objects.create(
        kind=EmailKind.EMAIL_FAILED, idempotency_key="x", recipients=["s@p.test"], subject="s"
    )

    with pytest.raises(ValueError, match="cannot be sent again"):
        resend.email_send_again(smtp_notice)


def queue_confirmation(tenant, key="confirmation:test", subject_name=None):
    from onboarding.mail import composers

    context = {**composers.tenant_context(tenant), "token": None}
    if subject_name:
        context["tenant"] = Tenant(name=subject_name)
    return mail.email_queue(
        kind=EmailKind.CONFIRMATION,
        idempotency_key=key,
        recipients=tenant.service_notification_recipients,
        tenant=tenant,
        context=context,
    )


def test_a_repeated_key_returns_the_recorded_email_unchanged_and_queues_no_second_send(
    django_capture_on_commit_callbacks,
):
    tenant = make_tenant()
    with django_capture_on_commit_callbacks() as first_send:
        first = queue_confirmation(tenant)
    with django_capture_on_commit_callbacks() as second_send:
        second = queue_confirmation(tenant, subject_name="Someone else")

    assert second.pk == first.pk
    assert OutboundEmail.objects.get().subject == first.subject
    assert "Someone else" not in second.subject
    assert (len(first_send), len(second_send)) == (1, 0)


@pytest.mark.django_db(transaction=True)
def test_two_callers_racing_with_one_key_record_one_email_and_both_get_it():
    tenant = make_tenant()

    def record():
        with transaction.atomic():
            return queue_confirmation(tenant, key="confirmation:race").pk

    results = run_together(record, record)

    assert all(isinstance(result, int) for result in results), results
    assert results[0] == results[1]
    assert OutboundEmail.objects.filter(idempotency_key="confirmation:race").count() == 1


@pytest.mark.django_db(transaction=True)
def test_two_sweeps_at_once_queue_each_lost_email_once(monkeypatch, settings):
    """Two beats by mistake: both sweeps see the same lost rows; the claim lets one queue each."""
    tenant = make_tenant()
    rows = [queue_initial(tenant, key=f"lost:{n}") for n in range(40)]
    OutboundEmail.objects.filter(pk__in=[r.pk for r in rows]).update(queued_at=None)
    queued: list[int] = []
    monkeypatch.setattr(mail, "enqueue_send", lambda ids: queued.extend(ids) or True)
    now = timezone.now()

    for _round in range(5):
        OutboundEmail.objects.update(queued_at=None)
        queued.clear()
        run_together(
            lambda: mail.outbox_sweep(now=now),
            lambda: mail.outbox_sweep(now=now + timedelta(microseconds=1)),
        )
        assert sorted(queued) == sorted(r.pk for r in rows)
