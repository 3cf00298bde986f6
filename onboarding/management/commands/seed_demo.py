"""Demo tenants for a first look at the portal: one per calling-domain option. The onpexip.com
one is enabled at once, so its initial email (with an upload link) is the demo's first email.

Idempotent: a tenant whose name is already taken (any case, not offboarded) is left alone, so
running it again creates nothing new.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand
from django.db import IntegrityError

from onboarding.domain.calling_domains import CallingDomainOption
from onboarding.management.tenant_lookup import tenant_by_name
from onboarding.services import audit, lifecycle, tenant_creation
from onboarding.services.tenant_creation import CallingDomainSpec


@dataclass(frozen=True)
class DemoTenant:
    name: str
    main_contact_email: str
    calling_domain: CallingDomainSpec
    # enabled at once, so a newcomer finds its initial email (and upload link) after `make run`
    enabled: bool = False


DEMO_TENANTS = [
    DemoTenant(
        "Demo Shared Domain Ltd",
        "it@shared-demo.example.com",
        CallingDomainSpec(option=CallingDomainOption.SHARED),
    ),
    DemoTenant(
        "Demo Acme",
        "it@acme-demo.example.com",
        CallingDomainSpec(option=CallingDomainOption.ONPEXIP, domain="demo-acme"),
        enabled=True,
    ),
    DemoTenant(
        "Demo Own Domain Inc",
        "it@example.com",
        CallingDomainSpec(option=CallingDomainOption.OWN, domain="video.example.com"),
    ),
]


class Command(BaseCommand):
    help = "Create demo tenants (shared, onpexip.com and own domain); skip those that exist."

    def handle(self, *args: Any, **options: Any) -> None:
        actor = audit.Actor.system("seed_demo")
        for demo in DEMO_TENANTS:
            existing = tenant_by_name(demo.name)
            if existing is not None:
                self.stdout.write(f"Exists:  {existing.name} (id {existing.pk}), left as it is.")
                continue
            try:
                created = tenant_creation.tenant_create(
                    name=demo.name,
                    main_contact_email=demo.main_contact_email,
                    calling_domains=[demo.calling_domain],
                    actor=actor,
                )
            except (ValidationError, IntegrityError) as exc:
                messages = exc.messages if isinstance(exc, ValidationError) else [str(exc)]
                self.stderr.write(f"Skipped: {demo.name}: {' '.join(messages)}")
                continue
            tenant = created.tenant
            if demo.enabled:
                tenant = lifecycle.tenant_enable(tenant=tenant, actor=actor)
            domain = tenant.calling_domains.get()
            self.stdout.write(
                f"Created: {tenant.name} (id {tenant.pk}), {domain}, "
                f"{lifecycle.status_label(tenant).lower()}."
            )
