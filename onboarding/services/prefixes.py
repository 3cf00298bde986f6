"""Shared-domain prefixes: race-free allocation from 8000-8999 and the quarantine after release.

A prefix stays on its calling-domain row when that row is retired (the tenant moved away or was
offboarded), so the unique constraint on shared prefixes keeps holding it: old invitations that
dial it can never reach a new tenant. Once PREFIX_QUARANTINE has passed since the retirement, the
allocator may take it back: a conditional UPDATE clears it from the retired row (kept there as
`released_prefix`, for the record) and the insert of the new row, under the same constraint,
decides between racing allocators. Never-used prefixes are preferred, so reuse comes as late as
possible.
"""

from __future__ import annotations

import secrets
from datetime import datetime

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone

from onboarding.domain import calling_domains, domain_names
from onboarding.domain.calling_domains import CallingDomainOption
from onboarding.models import CallingDomain
from onboarding.services.audit import TransitionRefused

# How often to re-pick a prefix when another transaction took ours first. Collisions are rare
# (random choice among the free ones); this bound only stops a pathological loop.
PREFIX_ALLOCATION_ATTEMPTS = 50


class PrefixPoolExhausted(ValidationError):
    """No shared-domain prefix is free: a validation error staff read on the form."""

    def __init__(self) -> None:
        message = (
            f"All {calling_domains.SHARED_PREFIX_POOL_SIZE:,} shared-domain prefixes "
            f"({calling_domains.SHARED_PREFIX_FIRST}-{calling_domains.SHARED_PREFIX_LAST}) are "
            "allocated or in "
            f"quarantine. Put this tenant on an {domain_names.ONPEXIP_PARENT} subdomain or its own "
            "domain instead."
        )
        super().__init__(message)


def quarantine_cutoff(now: datetime) -> datetime:
    """Prefixes of shared domains retired at or before this moment may be reused."""
    return now - settings.PREFIX_QUARANTINE


def _held_prefixes(now: datetime) -> tuple[set[str], set[str]]:
    """(blocked, reusable): blocked are in use or quarantined; reusable are past quarantine."""
    cutoff = quarantine_cutoff(now)
    blocked: set[str] = set()
    reusable: set[str] = set()
    rows = (
        CallingDomain.objects.filter(option=CallingDomainOption.SHARED)
        .exclude(prefix="")
        .values_list("prefix", "retired_at")
    )
    for prefix, retired_at in rows:
        if retired_at is not None and retired_at <= cutoff:
            reusable.add(prefix)
        else:
            blocked.add(prefix)
    return blocked, reusable - blocked


def shared_prefix_allocate(calling_domain: CallingDomain, *, now: datetime | None = None) -> str:
    """Give a new shared-domain calling domain a free prefix and save it.

    The unique constraint on shared prefixes decides: we insert a candidate inside a savepoint,
    and when a concurrent transaction committed the same one first, we pick again.
    """
    now = now or timezone.now()
    for _attempt in range(PREFIX_ALLOCATION_ATTEMPTS):
        blocked, reusable = _held_prefixes(now)
        candidates = [p for p in calling_domains.shared_prefix_candidates() if p not in blocked]
        fresh = [p for p in candidates if p not in reusable]
        if not candidates:
            raise PrefixPoolExhausted()
        choice = secrets.choice(fresh or candidates)
        try:
            with transaction.atomic():
                if choice in reusable and not _take_back(choice, now):
                    continue  # another allocator took it back first
                calling_domain.prefix = choice
                calling_domain.save()
        except IntegrityError:
            calling_domain.prefix = ""
            taken_now = CallingDomain.objects.filter(
                option=CallingDomainOption.SHARED, prefix=choice
            ).exists()
            if not taken_now:
                raise
            continue
        return choice
    raise TransitionRefused(
        "Could not allocate a shared-domain prefix: too many tenants were being created at "
        "once. Save again."
    )


def _take_back(prefix: str, now: datetime) -> bool:
    """Clear a quarantined-out prefix from its retired row; one of two racing callers wins."""
    return bool(
        CallingDomain.objects.filter(
            option=CallingDomainOption.SHARED,
            prefix=prefix,
            retired_at__lte=quarantine_cutoff(now),
        ).update(prefix="", released_prefix=prefix)
    )


def shared_prefixes_free(*, now: datetime | None = None) -> int:
    blocked, _reusable = _held_prefixes(now or timezone.now())
    return calling_domains.SHARED_PREFIX_POOL_SIZE - len(blocked)
