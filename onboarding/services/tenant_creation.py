"""Creating tenants and saving their calling domains, validated by every rule.

Validation runs before the insert, so another staff member can save the same tenant name or
calling domain in between; the database's unique constraint then refuses ours. That loser gets
the same `ValidationError` validation would have given (as a `UniqueConflict`), never a 500.

`tenant_create_from` is the one creation path: `tenant_create` (commands, reinstating, tests)
and the admin's add form both end there.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Model
from django.utils import timezone

from onboarding.domain import calling_domains
from onboarding.domain.calling_domains import AccessScope, CallingDomainOption, RuleWarning
from onboarding.models import AuditAction, CallingDomain, Gateway, Tenant
from onboarding.services.audit import Actor, audit_record
from onboarding.services.lifecycle import tenant_domains_changed
from onboarding.services.prefixes import (
    PrefixPoolExhausted,
    shared_prefix_allocate,
    shared_prefixes_free,
)


class UniqueConflict(ValidationError):
    """Another transaction saved the same tenant name or calling domain after ours validated.

    A ValidationError like any other (same field, same words); its own class lets the admin tell
    "validate again" apart from errors that would only repeat.
    """


# The unique constraints a concurrent save can trip after validation passed, and the field each
# guards; the model words the error with the method its clean() uses.
_UNIQUE_CONFLICTS = {
    "tenant_name_unique_unless_offboarded": "name",
    "calling_domain_one_owner": "domain",
}


@dataclass
class CallingDomainSpec:
    option: str
    domain: str = ""
    meeting_id_length: str = ""
    prefix: str = ""
    sfb_additional_gateway: bool = False

    def build(self, tenant: Tenant) -> CallingDomain:
        return CallingDomain(
            tenant=tenant,
            option=self.option,
            domain=self.domain,
            meeting_id_length=self.meeting_id_length
            or calling_domains.default_meeting_id_length(self.option),
            prefix=self.prefix,
            sfb_additional_gateway=self.sfb_additional_gateway,
        )


@dataclass
class CreatedTenant:
    tenant: Tenant
    warnings: list[RuleWarning] = field(default_factory=list)


def tenant_create(
    *,
    name: str,
    main_contact_email: str,
    calling_domains: Sequence[CallingDomainSpec],
    actor: Actor,
    gateway: Gateway | None = None,
    token_upload_contacts: Iterable[str] = (),
    service_notification_contacts: Iterable[str] = (),
    access_scope: str = AccessScope.WHOLE_ORGANISATION,
    access_scope_units: Iterable[str] = (),
    teams_interop_domains: Iterable[str] = (),
    enable_when_dns_verified: bool = False,
    now: datetime | None = None,
) -> CreatedTenant:
    """Create a tenant with its calling domains, validated by every rule, in one transaction."""
    tenant = Tenant(
        name=name,
        main_contact_email=main_contact_email,
        gateway=gateway or Gateway.objects.get(is_default=True),
        token_upload_contacts=list(token_upload_contacts),
        service_notification_contacts=list(service_notification_contacts),
        access_scope=access_scope,
        access_scope_units=list(access_scope_units),
        teams_interop_domains=list(teams_interop_domains),
        enable_when_dns_verified=enable_when_dns_verified,
    )
    domains = [spec.build(tenant) for spec in calling_domains]
    return tenant_create_from(tenant=tenant, domains=domains, actor=actor, now=now)


def tenant_create_from(
    *, tenant: Tenant, domains: Sequence[CallingDomain], actor: Actor, now: datetime | None = None
) -> CreatedTenant:
    """The one creation path: an unsaved tenant and its unsaved calling domains (built by
    `tenant_create`, or by the admin's forms), validated by every rule and saved in one
    transaction with the audit event, prefixes, and the DNS instructions of own domains."""
    now = now or timezone.now()
    tenant.created_at = tenant.status_changed_at = now
    tenant.full_clean()
    warnings = tenant_domains_validate(tenant, domains, now=now)

    with transaction.atomic():
        tenant_save(tenant)
        audit_record(
            tenant=tenant, action=AuditAction.CREATED, actor=actor, now=now, to_status=tenant.status
        )
        for calling_domain in domains:
            calling_domain.tenant = tenant
            calling_domain_save(calling_domain, now=now)
        tenant_domains_changed(tenant, actor=actor, now=now)
    return CreatedTenant(tenant, warnings)


def tenant_domains_validate(
    tenant: Tenant, domains: Sequence[CallingDomain], *, now: datetime | None = None
) -> list[RuleWarning]:
    """Validate each calling domain, then the rules across them; return the warnings."""
    tenant_domains_check(tenant, domains)
    warnings: list[RuleWarning] = []
    for calling_domain in domains:
        calling_domain.full_clean(exclude=["tenant"])
        warnings.extend(calling_domain.rule_warnings)
    tenant_domains_check_across(tenant, domains, now=now)
    return _unique(warnings)


def tenant_domains_check(tenant: Tenant, domains: Sequence[CallingDomain]) -> None:
    """A tenant has at least one calling domain."""
    if not domains:
        raise ValidationError("A tenant needs at least one calling domain.")


def tenant_domains_check_across(
    tenant: Tenant, domains: Sequence[CallingDomain], *, now: datetime | None = None
) -> None:
    """The rules that span a tenant's calling domains, each domain valid on its own: no domain
    twice, none that is also its Teams interop domain, and a free shared prefix for each new
    shared-domain calling domain. The admin's calling-domain formset asks the same."""
    names = [d.domain for d in domains]
    calling_domains.check_no_repeated_domains(names)
    calling_domains.check_teams_clash(
        calling_domains=names, teams_domains=tenant.teams_interop_domains or []
    )
    new_shared = sum(1 for d in domains if d.option == CallingDomainOption.SHARED and not d.prefix)
    if new_shared and shared_prefixes_free(now=now) < new_shared:
        raise PrefixPoolExhausted()


def _unique(warnings: Iterable[RuleWarning]) -> list[RuleWarning]:
    return list(dict.fromkeys(warnings))


def tenant_save(tenant: Tenant) -> None:
    """Save a validated tenant; a namesake saved since validation raises the name's error."""
    with _unique_conflicts_as_validation_errors(tenant):
        tenant.save()


def calling_domain_save(calling_domain: CallingDomain, *, now: datetime | None = None) -> None:
    """Save a validated calling domain, allocating a shared-domain prefix when it needs one.

    Another tenant that took the same domain since validation raises the domain's error.
    """
    if calling_domain.pk is None and now is not None:
        calling_domain.created_at = now
    if calling_domain.needs_dns:
        _dns_wait_if_new(calling_domain, now or timezone.now())
    needs_prefix = calling_domain.option == CallingDomainOption.SHARED and not calling_domain.prefix
    if needs_prefix:
        shared_prefix_allocate(calling_domain, now=now)
    else:
        with _unique_conflicts_as_validation_errors(calling_domain):
            calling_domain.save()


def _dns_wait_if_new(calling_domain: CallingDomain, now: datetime) -> None:
    """A new own domain (or one whose name changed) waits for DNS; its first check is due now."""
    if calling_domain.pk is not None:
        before = (
            CallingDomain.objects.filter(pk=calling_domain.pk)
            .values_list("option", "domain")
            .first()
        )
        if before == (calling_domain.option, calling_domain.domain):
            return
    calling_domain.verified_at = None
    calling_domain.next_check_at = calling_domain.dns_pending_since = now
    calling_domain.dns_checks_unverified = calling_domain.dns_failures_in_a_row = 0
    calling_domain.drift_flagged_at = calling_domain.not_verified_notified_at = None


@contextmanager
def _unique_conflicts_as_validation_errors(instance: Tenant | CallingDomain) -> Iterator[None]:
    """Turn a lost race for a unique name into the error validation gives for it.

    The savepoint keeps the surrounding transaction usable, so the error's wording can read the
    winner's row (committed: PostgreSQL reports the violation only once the winner commits).
    """
    try:
        with transaction.atomic():
            yield
    except IntegrityError as exc:
        constraint = _violated_constraint(exc)
        if constraint not in _UNIQUE_CONFLICTS:
            raise
        field_name = _UNIQUE_CONFLICTS[constraint]
        message = _clash_message(instance) or _violation_message(instance, constraint)
        raise UniqueConflict({field_name: [message]}) from exc


def _violated_constraint(exc: IntegrityError) -> str:
    diagnostics = getattr(exc.__cause__, "diag", None)
    name = getattr(diagnostics, "constraint_name", None)
    if name:
        return name
    # SQLite has no diagnostics; it names the unique index in its message
    return next((known for known in _UNIQUE_CONFLICTS if f"'{known}'" in str(exc)), "")


def _clash_message(instance: Tenant | CallingDomain) -> str | None:
    if isinstance(instance, Tenant):
        return instance.name_clash_message()
    return instance.domain_clash_message()


def _violation_message(instance: Model, constraint: str) -> str:
    """The constraint's own words, for when the winner's row is not visible to us."""
    [unique] = [c for c in instance._meta.constraints if c.name == constraint]
    return str(unique.violation_error_message)
