"""DNS checks of own domains, scheduled in the database, and what their verdicts set off.

The beat sweeper runs every minute. It claims due domains with SELECT ... FOR UPDATE SKIP LOCKED
and moves their `next_check_at` forward in the same transaction, so two sweepers (or a slow
sweep and the next) never check a domain twice. Lookups run in a bounded thread pool; only the
calling thread touches the database, writing verdicts in batches. The schedule's rules live in
schedule.py; the rare consequences (verified, drift, still unverified after 7 days) in
notices.py, through lifecycle.py and the outbox.

The lookups are CPU-bound in Python (the GIL), so every CPU second this thread spends is one the
lookups wait for: a batch is written with a handful of ORM statements (`pk__in`, `bulk_create`
with `update_conflicts`), never one per domain. Measured with bench/dns_verify.py at 1,000
domains: 1.14-1.18x the resolver floor (goal 1.2x; hand-written array and JSON SQL gave 1.08x,
not worth its code).
"""

from __future__ import annotations

import logging
import queue
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from onboarding.dns import lookups as dns_lookup
from onboarding.dns import notices
from onboarding.dns import verdicts as dns
from onboarding.dns.schedule import (
    BACKOFF,
    DRIFT_AFTER_FAILURES,
    NOT_VERIFIED_WARNING_AFTER,
    RECHECK_AFTER_TROUBLE,
    RECHECK_VERIFIED,
    STATE_FIELDS,
    DomainState,
    Outcome,
    dns_outcome,
)
from onboarding.dns.status_table import DnsStatusRow, dns_status_table
from onboarding.domain.calling_domains import CallingDomainOption
from onboarding.models import CallingDomain, DnsCheck, DomainVerdict, TenantStatus

# Callers import these from here, where they lived before the module was split.
__all__ = [
    "BACKOFF",
    "CLAIM_LEASE",
    "DRIFT_AFTER_FAILURES",
    "NOT_VERIFIED_WARNING_AFTER",
    "RECHECK_AFTER_TROUBLE",
    "RECHECK_VERIFIED",
    "DnsStatusRow",
    "Outcome",
    "SweepResult",
    "calling_domains_check_now",
    "dns_outcome",
    "dns_status_table",
    "dns_sweep",
]

logger = logging.getLogger(__name__)

# A claim moves `next_check_at` this far ahead, well past the longest sweep: if the worker dies
# mid-sweep, its domains are checked again after this instead of being lost.
CLAIM_LEASE = timedelta(minutes=15)
# A sweep stops claiming after this many seconds and the next one (a minute later) takes the
# rest, so a sweep ends inside the task's soft time limit even when every lookup times out.
SWEEP_CLAIM_SECONDS = 45
# Claimed domains not yet written, in pools' worth: the pool's own plus as many waiting, so
# lookups go on while this thread writes, and no more, so that a sweep that stops claiming
# ends inside the soft time limit even when every lookup runs to its lifetime.
CLAIMED_POOLS = 2
# Claim again once this share of the claimed work is done: claims of half a pool or more, so
# the pool never runs dry during a write and a claim's statements serve many domains.
REFILL_SHARE = 0.25
# Verdicts are written this many domains at a time, one transaction per batch: big enough to
# be cheap per row, small enough that the last batch (written after the lookups end) is quick.
WRITE_BATCH = 200
# Seconds the writing thread waits after a result before collecting the rest: it then wakes
# tens of times a second instead of once per domain, leaving the CPU to the lookups.
COLLECT_PAUSE = 0.02


@dataclass(frozen=True)
class _Target:
    """What the lookups of one claimed domain need; the threads never touch the database."""

    pk: int
    domain: str
    ownership_code: str
    sip_host: str


@dataclass
class SweepResult:
    checked: int = 0
    verified: int = 0
    customer_must_act: int = 0
    unknown: int = 0
    drift_flagged: int = 0


def dns_sweep(*, now: datetime | None = None, concurrency: int | None = None) -> SweepResult:
    """Check every own domain that is due (the beat sweeper, every minute)."""
    now = now or timezone.now()
    stop_claiming_at = time.monotonic() + SWEEP_CLAIM_SECONDS

    def claim(room: int) -> list[_Target]:
        if time.monotonic() > stop_claiming_at:
            return []
        return _claim(now=now, limit=room)

    return _run(claim, now=now, concurrency=concurrency or settings.DNS_CHECK_CONCURRENCY)


def calling_domains_check_now(
    calling_domains: Sequence[CallingDomain], *, now: datetime | None = None
) -> list[tuple[CallingDomain, dns.DomainCheck]]:
    """Check these own domains at once (staff's "check DNS now"), through the sweeper's path:
    the verdicts are recorded and may verify a domain."""
    now = now or timezone.now()
    waiting = list(dict.fromkeys(cd.pk for cd in calling_domains))
    checks: dict[int, dns.DomainCheck] = {}

    def claim(room: int) -> list[_Target]:
        batch, waiting[:] = waiting[:room], waiting[room:]
        return _claim(now=now, limit=room, only=batch) if batch else []

    _run(claim, now=now, concurrency=settings.DNS_CHECK_CONCURRENCY, collect=checks)
    return [(cd, checks[cd.pk]) for cd in calling_domains if cd.pk in checks]


def _checkable() -> Any:
    """Own domains in use by a tenant that is not offboarded (suspended ones are checked too)."""
    return CallingDomain.objects.in_use().own().exclude(tenant__status=TenantStatus.OFFBOARDED)


def _claim(*, now: datetime, limit: int, only: Sequence[int] | None = None) -> list[_Target]:
    """Lock up to `limit` due domains (skipping those another sweeper holds) and move their
    next check past this sweep, in one transaction."""
    with transaction.atomic():
        if only is None:
            domains = (
                _checkable()
                .select_for_update(skip_locked=True, of=("self",))
                .filter(next_check_at__lte=now)
                .order_by("next_check_at")  # the partial index's order: LIMIT stops early
            )
        else:
            domains = (
                _checkable().select_for_update(of=("self",)).filter(pk__in=only).order_by("pk")
            )
        rows = domains.values_list(
            "pk",
            "domain",
            "ownership_code",
            "tenant__gateway__sip_host",
            "tenant__gateway__hostname",
        )[:limit]
        targets = [_Target(pk, domain, code, sip or host) for pk, domain, code, sip, host in rows]
        if targets:
            CallingDomain.objects.filter(pk__in=[t.pk for t in targets]).update(
                next_check_at=now + CLAIM_LEASE
            )
    return targets


def _run(
    claim: Callable[[int], list[_Target]],
    *,
    now: datetime,
    concurrency: int,
    collect: dict[int, dns.DomainCheck] | None = None,
) -> SweepResult:
    """Keep the pool fed from `claim`, collect finished checks, write them in batches."""
    result = SweepResult()
    pool = _CheckPool(concurrency, dns_lookup.configured_nameservers())
    batch: list[tuple[_Target, dns.DomainCheck]] = []
    most = CLAIMED_POOLS * concurrency
    refill_at = most - max(1, int(most * REFILL_SHARE))
    claiming = True

    def refill() -> None:
        nonlocal claiming
        if claiming and pool.outstanding <= refill_at:
            claimed = claim(most - pool.outstanding)
            claiming = bool(claimed)
            pool.submit(claimed)

    try:
        refill()
        while pool.outstanding:
            batch.append(pool.next_finished())
            time.sleep(COLLECT_PAUSE)  # let a few more finish: one wake-up for many results
            batch.extend(pool.finished_so_far())
            refill()  # before writing, so the lookups go on meanwhile
            if len(batch) >= WRITE_BATCH:
                _write(batch, now=now, result=result, collect=collect)
                batch = []
    finally:
        pool.close()
    if batch:
        _write(batch, now=now, result=result, collect=collect)
    return result


class _CheckPool:
    """At most `size` threads checking claimed domains; results come back in a queue.

    A plain queue and threads rather than an executor: no future, lock or notification per
    domain, which the lookups would pay for in GIL time.
    """

    def __init__(self, size: int, nameservers: dns_lookup.Nameservers | None) -> None:
        self.size = size
        self.nameservers = nameservers
        self.todo: queue.SimpleQueue[_Target | None] = queue.SimpleQueue()
        self.finished: queue.SimpleQueue[tuple[_Target, dns.DomainCheck]] = queue.SimpleQueue()
        self.threads: list[threading.Thread] = []
        self.outstanding = 0  # submitted, not yet taken back as finished

    def submit(self, targets: list[_Target]) -> None:
        for target in targets:
            self.todo.put(target)
        self.outstanding += len(targets)
        while len(self.threads) < min(self.size, self.outstanding):
            thread = threading.Thread(
                target=self._work, name=f"dns-check-{len(self.threads)}", daemon=True
            )
            thread.start()
            self.threads.append(thread)

    def next_finished(self) -> tuple[_Target, dns.DomainCheck]:
        self.outstanding -= 1
        return self.finished.get()

    def finished_so_far(self) -> list[tuple[_Target, dns.DomainCheck]]:
        done = []
        while not self.finished.empty():
            done.append(self.finished.get())
        self.outstanding -= len(done)
        return done

    def close(self) -> None:
        """Stop the threads once they have checked what was submitted."""
        for _thread in self.threads:
            self.todo.put(None)
        for thread in self.threads:
            thread.join()

    def _work(self) -> None:
        while (target := self.todo.get()) is not None:
            self.finished.put((target, _check(target, self.nameservers)))


def _check(target: _Target, nameservers: dns_lookup.Nameservers | None) -> dns.DomainCheck:
    try:
        return dns.domain_check(
            domain=target.domain,
            sip_host=target.sip_host,
            ownership_code=target.ownership_code,
            nameservers=nameservers,
        )
    except Exception:  # a bug must not stop the sweep: log it, the domain stays unknown
        logger.exception("checking the DNS of %s failed", target.domain)
        # no records and so an unknown verdict: the writing thread waits for every result
        return dns.DomainCheck(target.domain, ())


# Writing verdicts -------------------------------------------------------------------------------


def _write(
    batch: list[tuple[_Target, dns.DomainCheck]],
    *,
    now: datetime,
    result: SweepResult,
    collect: dict[int, dns.DomainCheck] | None,
) -> None:
    with transaction.atomic():
        # Lock the rows and read their state now: staff may have renamed or retired a domain
        # while it was being checked, and then this verdict is about a name it no longer has.
        states = {
            row[0]: DomainState(*row)
            for row in CallingDomain.objects.select_for_update()
            .filter(pk__in=[target.pk for target, _check in batch])
            .filter(option=CallingDomainOption.OWN, retired_at__isnull=True)
            .order_by("pk")
            .values_list("pk", *STATE_FIELDS)
        }
        current = [
            (states[t.pk], check)
            for t, check in batch
            if t.pk in states and states[t.pk].domain == t.domain
        ]
        outcomes = [
            (state, check, dns_outcome(state, check.verdict, now)) for state, check in current
        ]
        _record_verdicts(current, now)
        _record_schedules(outcomes, now)
        notices.domains_verified_record(
            [state for state, _c, outcome in outcomes if outcome.verified], now
        )
        for state, check, outcome in outcomes:
            if outcome.flag_drift:
                notices.drift_flag(state, check, now)
            elif outcome.clear_drift:
                notices.drift_clear(state, now)
            if outcome.tell_not_verified:
                notices.not_verified_notify(state, check, now)
    for state, check, outcome in outcomes:
        result.checked += 1
        result.verified += outcome.verified
        result.drift_flagged += outcome.flag_drift
        result.customer_must_act += check.verdict == DomainVerdict.CUSTOMER_MUST_ACT
        result.unknown += check.verdict == DomainVerdict.UNKNOWN
        if collect is not None:
            collect[state.pk] = check


def _record_verdicts(current: list[tuple[DomainState, dns.DomainCheck]], now: datetime) -> None:
    """One row per domain and expected record, upserted; rows of records no longer expected
    (the settings, the gateway or the domain changed) go."""
    rows = [
        DnsCheck(
            calling_domain_id=state.pk,
            record_name=record.expected.name,
            record_type=record.expected.rdtype,
            expected_value=record.expected.value[:300],
            verdict=record.verdict,
            found=record.found,
            detail=record.detail[:500],
            checked_at=now,
        )
        for state, check in current
        for record in check.records
    ]
    if rows:
        DnsCheck.objects.bulk_create(
            rows,
            update_conflicts=True,
            unique_fields=["calling_domain", "record_name", "record_type"],
            update_fields=["expected_value", "verdict", "found", "detail", "checked_at"],
        )
    checked = [state.pk for state, check in current if check.records]
    if checked:
        DnsCheck.objects.filter(calling_domain_id__in=checked, checked_at__lt=now).delete()


def _record_schedules(
    outcomes: list[tuple[DomainState, dns.DomainCheck, Outcome]], now: datetime
) -> None:
    """One UPDATE per distinct schedule: a sweep shares one `now`, so a batch has a handful of
    them (verified; each backoff step), and this is far cheaper than a per-row CASE."""
    groups: dict[tuple[datetime, int, int, bool], list[int]] = {}
    for state, _check, outcome in outcomes:
        key = (
            outcome.next_check_at,
            outcome.dns_checks_unverified,
            outcome.dns_failures_in_a_row,
            outcome.verified,
        )
        groups.setdefault(key, []).append(state.pk)
    for (next_check_at, unverified, failures, verified), pks in groups.items():
        changes: dict[str, Any] = {
            "next_check_at": next_check_at,
            "dns_checks_unverified": unverified,
            "dns_failures_in_a_row": failures,
        }
        if verified:
            changes.update(verified_at=now, drift_flagged_at=None)
        CallingDomain.objects.filter(pk__in=pks).update(**changes)
