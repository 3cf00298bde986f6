"""Reminders to upload the token: after 3 and 7 days without an upload (settings), at most once
per step and invitation, each carrying a fresh link that replaces the earlier one."""

from __future__ import annotations

from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from onboarding.models import OutboundEmail, Tenant, TenantStatus
from onboarding.services import link_emails


def reminder_key(tenant: Tenant, step: int) -> str:
    # the invitation cycle is part of the key: a revoked token starts the reminders afresh
    assert tenant.invited_at is not None  # reminders go to invited tenants only
    return f"reminder:{tenant.pk}:{int(tenant.invited_at.timestamp())}:{step}"


def due_step(tenant: Tenant, *, now: datetime) -> int | None:
    """The latest reminder step whose day has come (1-based), if any."""
    days = sorted(settings.REMINDER_AFTER_DAYS)
    invited_at = tenant.invited_at
    assert invited_at is not None  # reminders go to invited tenants only
    reached = [
        step for step, day in enumerate(days, start=1) if invited_at + timedelta(days=day) <= now
    ]
    return reached[-1] if reached else None


def reminders_send(*, now: datetime | None = None) -> int:
    """Queue the reminders that are due; running it twice sends nothing more."""
    now = now or timezone.now()
    first_day = min(settings.REMINDER_AFTER_DAYS)
    candidates = Tenant.objects.filter(
        status=TenantStatus.INVITED, invited_at__lte=now - timedelta(days=first_day)
    ).values_list("pk", flat=True)
    queued = 0
    for tenant_id in candidates:
        with transaction.atomic():
            # the lock makes a concurrent run wait, then see this run's row and skip
            tenant = Tenant.objects.select_for_update().get(pk=tenant_id)
            if tenant.status != TenantStatus.INVITED or tenant.invited_at is None:
                continue
            step = due_step(tenant, now=now)
            if step is None:
                continue
            later_or_same = [
                reminder_key(tenant, s) for s in range(step, len(settings.REMINDER_AFTER_DAYS) + 1)
            ]
            if OutboundEmail.objects.filter(idempotency_key__in=later_or_same).exists():
                continue
            link_emails.reminder_send(tenant, reminder_key(tenant, step), step, now)
            queued += 1
    return queued
