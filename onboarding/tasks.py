"""Celery tasks: thin. Each takes ids (never secrets), calls one function, and is idempotent.

Each task's name is given explicitly, so queued messages and beat entries keep resolving
wherever this module lives (tests/test_task_names.py pins them).
"""

from celery import shared_task

from onboarding.dns import sweep
from onboarding.gateways import provisioning, provisioning_sweep
from onboarding.mail import outbox
from onboarding.services import offboarding, reminders, tokens
from onboarding.services.heartbeats import heartbeat_record


@shared_task(name="onboarding.tasks.send_emails", ignore_result=True)
def send_emails(outbox_ids: list[int]) -> int:
    return outbox.email_send(outbox_ids)


@shared_task(name="onboarding.tasks.sweep_outbox", ignore_result=True)
def sweep_outbox() -> dict[str, int]:
    result = outbox.outbox_sweep()
    heartbeat_record("outbox_sweeper")
    return {"reclaimed": result.reclaimed, "requeued": result.requeued}


@shared_task(name="onboarding.tasks.sweep_dns", ignore_result=True)
def sweep_dns() -> dict[str, int]:
    """Check the own domains that are due; runs every minute from the beat schedule."""
    result = sweep.dns_sweep()
    heartbeat_record("dns_sweeper")
    return dict(vars(result))


@shared_task(name="onboarding.tasks.destroy_expired_tokens", ignore_result=True)
def destroy_expired_tokens() -> int:
    destroyed = tokens.tokens_destroy_expired()
    heartbeat_record("token_destroyer")
    return destroyed


@shared_task(name="onboarding.tasks.send_reminders", ignore_result=True)
def send_reminders() -> int:
    queued = reminders.reminders_send()
    heartbeat_record("reminders")
    return queued


@shared_task(name="onboarding.tasks.erase_offboarded_contacts", ignore_result=True)
def erase_offboarded_contacts() -> int:
    """Erase the contact addresses of tenants offboarded longer than CONTACT_RETENTION ago."""
    erased = offboarding.contacts_erase_due()
    heartbeat_record("contact_eraser")
    return erased


@shared_task(name="onboarding.tasks.provision_tenant", ignore_result=True)
def provision_tenant(tenant_id: int) -> str | None:
    """Make the tenant's gateway hold what it should; takes the id only, never the token."""
    outcome = provisioning.tenant_provision(tenant_id)
    return outcome.state if outcome else None


@shared_task(name="onboarding.tasks.retry_provisioning", ignore_result=True)
def retry_provisioning() -> int:
    queued = provisioning_sweep.provisioning_retry_pass()
    heartbeat_record("provisioning_retries")
    return queued


# reads every node's lists and may repair many tenants: longer than the default limit
@shared_task(
    name="onboarding.tasks.sweep_gateways",
    ignore_result=True,
    soft_time_limit=3000,
    time_limit=3600,
)
def sweep_gateways() -> dict[str, int]:
    """Compare every Infinity node with what it should hold; repair drift."""
    result = provisioning_sweep.gateways_sweep()
    heartbeat_record("gateway_sweeper")
    return dict(vars(result))
