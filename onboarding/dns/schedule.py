"""When an own domain is checked next, and what its verdict sets off (domain.md, "DNS for own
domains"): backoff while unverified, a daily re-check once verified, drift after failures in
a row. Pure rules: the sweeper (sweep.py) reads the state and writes the outcome."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from onboarding.models import DomainVerdict

# Waits between checks of an unverified domain, then hourly: quick at first, because the customer
# is probably publishing the records right now, then patient, because they may take days.
BACKOFF = tuple(timedelta(minutes=m) for m in (1, 2, 5, 15, 30, 60))
# A verified domain is checked again daily, to notice records that disappear or change.
RECHECK_VERIFIED = timedelta(days=1)
# After a failure or no answer for a verified domain, look again within the hour: staff hear of
# real drift the same day, and one bad answer (a change in progress) alone does not alarm them.
RECHECK_AFTER_TROUBLE = timedelta(hours=1)
# Definitive failures in a row (missing or mismatch; unknown never counts) that mean drift.
DRIFT_AFTER_FAILURES = 2
# Staff are told when an own domain is still unverified after this long (domain.md).
NOT_VERIFIED_WARNING_AFTER = timedelta(days=7)


@dataclass(frozen=True)
class DomainState:
    """A claimed domain's scheduling fields, read under lock when its verdict is written."""

    pk: int
    tenant_id: int
    domain: str
    verified_at: datetime | None
    dns_pending_since: datetime | None
    dns_checks_unverified: int
    dns_failures_in_a_row: int
    drift_flagged_at: datetime | None
    not_verified_notified_at: datetime | None


STATE_FIELDS = [name for name in DomainState.__dataclass_fields__ if name != "pk"]


@dataclass(frozen=True)
class Outcome:
    next_check_at: datetime
    dns_checks_unverified: int
    dns_failures_in_a_row: int
    verified: bool = False
    flag_drift: bool = False
    clear_drift: bool = False
    tell_not_verified: bool = False


def dns_outcome(state: DomainState, verdict: str, now: datetime) -> Outcome:
    """The schedule and consequences of one domain's verdict (the rules of domain.md)."""
    if state.verified_at is None:
        if verdict == DomainVerdict.OK:
            return Outcome(now + RECHECK_VERIFIED, 0, 0, verified=True)
        step = BACKOFF[min(state.dns_checks_unverified, len(BACKOFF) - 1)]
        overdue = (
            state.dns_pending_since is not None
            and now - state.dns_pending_since >= NOT_VERIFIED_WARNING_AFTER
        )
        return Outcome(
            now + step,
            state.dns_checks_unverified + 1,
            0,
            tell_not_verified=overdue and state.not_verified_notified_at is None,
        )
    if verdict == DomainVerdict.OK:
        return Outcome(now + RECHECK_VERIFIED, 0, 0, clear_drift=bool(state.drift_flagged_at))
    # Verified stays verified: unknown changes nothing, a failure counts towards drift.
    failures = state.dns_failures_in_a_row + (verdict == DomainVerdict.CUSTOMER_MUST_ACT)
    return Outcome(
        now + RECHECK_AFTER_TROUBLE,
        0,
        failures,
        flag_drift=failures >= DRIFT_AFTER_FAILURES and state.drift_flagged_at is None,
    )
