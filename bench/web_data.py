"""The rows bench/web.py serves: tenants for the admin list, upload links, a staff session.

Bulk rows are written with bulk_create (10,000 tenants through the full lifecycle would take
minutes); they hold what lifecycle would have written for the columns the pages read. The
tenant whose upload page is measured, and every upload link, go through the real code.
"""

from __future__ import annotations

from datetime import timedelta
from urllib.parse import urlsplit

from django.conf import settings
from django.db import transaction
from django.test import Client
from django.utils import timezone

from onboarding.domain import calling_domains
from onboarding.models import CallingDomain, Gateway, Tenant, TenantStatus, UploadInvitation
from onboarding.services import invitations, lifecycle, tenant_creation
from onboarding.services.audit import Actor
from onboarding.services.tenant_creation import CallingDomainSpec

S = TenantStatus
# A spread like a real list's: most tenants on onpexip.com, some on their own domain, a few
# on the shared domain (which takes one of the 1,000 prefixes each), in every state.
STATUS_CYCLE = [
    S.ACTIVE,
    S.ACTIVE,
    S.ACTIVE,
    S.INVITED,
    S.INVITED,
    S.DNS_PENDING,
    S.SUSPENDED,
    S.DRAFT,
    S.ACTIVE,
    S.OFFBOARDED,
]
BULK_BATCH = 2000


def tenant_count() -> int:
    return Tenant.objects.count()


def tenants_add(count: int, *, label: str) -> None:
    """Add `count` tenants with one or two calling domains each, in bulk."""
    gateway = Gateway.objects.get(is_default=True)
    now = timezone.now()
    used_prefixes = set(
        CallingDomain.objects.filter(option=calling_domains.CallingDomainOption.SHARED).values_list(
            "prefix", flat=True
        )
    )
    free_prefixes = iter(
        str(p)
        for p in range(calling_domains.SHARED_PREFIX_FIRST, calling_domains.SHARED_PREFIX_LAST + 1)
        if str(p) not in used_prefixes
    )
    with transaction.atomic():
        for first in range(0, count, BULK_BATCH):
            numbers = range(first, min(first + BULK_BATCH, count))
            tenants = Tenant.objects.bulk_create(
                [_tenant(f"{label}-{n}", n, gateway, now) for n in numbers]
            )
            domains = []
            for n, tenant in zip(numbers, tenants, strict=True):
                domains.extend(_calling_domains(tenant, n, free_prefixes, now))
            CallingDomain.objects.bulk_create(domains)


def _tenant(name: str, n: int, gateway: Gateway, now) -> Tenant:
    status = STATUS_CYCLE[n % len(STATUS_CYCLE)]
    return Tenant(
        name=name,
        status=status,
        status_changed_at=now - timedelta(days=n % 30),
        status_before_suspension=S.ACTIVE if status == S.SUSPENDED else "",
        main_contact_email=f"it@{name}.test",
        token_upload_contacts=[f"admin@{name}.test"],
        service_notification_contacts=[f"noc@{name}.test"],
        gateway=gateway,
        invited_at=now if status in (S.INVITED, S.ACTIVE) else None,
        created_at=now - timedelta(days=n % 90),
    )


def _calling_domains(tenant: Tenant, n: int, free_prefixes, now) -> list[CallingDomain]:
    retired = now if tenant.status == S.OFFBOARDED else None
    kind = n % 10
    if kind in (1, 6):  # own domain, verified unless the tenant still waits for DNS
        verified = None if tenant.status == S.DNS_PENDING else now
        domains = [
            CallingDomain(
                tenant=tenant,
                option=calling_domains.CallingDomainOption.OWN,
                domain=f"video.{tenant.name}.test",
                verified_at=verified,
                next_check_at=now + timedelta(hours=1),
                drift_flagged_at=now if n % 50 == 1 else None,
                retired_at=retired,
            )
        ]
    else:
        domains = [
            CallingDomain(
                tenant=tenant,
                option=calling_domains.CallingDomainOption.ONPEXIP,
                domain=tenant.name,
                retired_at=retired,
            )
        ]
    prefix = next(free_prefixes, None) if kind == 3 else None
    if prefix is not None:  # a second, legacy calling domain on the shared domain
        domains.append(
            CallingDomain(
                tenant=tenant,
                option=calling_domains.CallingDomainOption.SHARED,
                domain="",
                meeting_id_length=calling_domains.MeetingIdLength.SHORT,
                prefix=prefix,
                retired_at=retired,
            )
        )
    return domains


def upload_tenant() -> str:
    """An invited onpexip.com tenant made as staff make one; the path of its upload link."""
    tenant = tenant_creation.tenant_create(
        name="Bench upload",
        main_contact_email="it@bench-upload.test",
        calling_domains=[CallingDomainSpec(option="onpexip", domain="bench-upload")],
        actor=Actor.system("bench"),
    ).tenant
    lifecycle.tenant_enable(tenant=tenant, actor=Actor.system("bench"))
    return urlsplit(invitations.invitation_issue(tenant=tenant).url).path


def upload_links(count: int, *, label: str) -> list[str]:
    """`count` fresh upload links (paths), one per new invited tenant: issuing a link revokes
    the tenant's earlier ones, and each POST consumes its link."""
    gateway = Gateway.objects.get(is_default=True)
    now = timezone.now()
    with transaction.atomic():
        tenants = Tenant.objects.bulk_create(
            [
                Tenant(
                    name=f"{label}-{n}",
                    status=S.INVITED,
                    invited_at=now,
                    main_contact_email=f"it@{label}-{n}.test",
                    token_upload_contacts=[f"admin@{label}-{n}.test"],
                    service_notification_contacts=[f"noc@{label}-{n}.test"],
                    gateway=gateway,
                )
                for n in range(count)
            ],
            batch_size=BULK_BATCH,
        )
        CallingDomain.objects.bulk_create(
            [
                CallingDomain(
                    tenant=t, option=calling_domains.CallingDomainOption.ONPEXIP, domain=t.name
                )
                for t in tenants
            ],
            batch_size=BULK_BATCH,
        )
        links = [
            urlsplit(invitations.invitation_issue(tenant=t, issued_by="bench").url).path
            for t in tenants
        ]
    return links


def uploads_since(invitation_ids_above: int) -> int:
    return UploadInvitation.objects.filter(
        pk__gt=invitation_ids_above, used_at__isnull=False
    ).count()


def newest_invitation_id() -> int:
    return UploadInvitation.objects.order_by("-pk").values_list("pk", flat=True).first() or 0


def staff_session_cookie() -> tuple[str, str]:
    """(cookie name, value) of a logged-in superuser's session, made through Django's own login.

    The one place that knows what a staff session holds: when the admin asks for more (a second
    factor's device in the session), add it here.
    """
    from django.contrib.auth import get_user_model

    user_model = get_user_model()
    user = user_model.objects.filter(username="bench-staff").first()
    if user is None:
        user = user_model.objects.create_superuser("bench-staff", "staff@provider.test", None)
    from tests.conftest import otp_verified_login

    client = otp_verified_login(Client(), user)
    return settings.SESSION_COOKIE_NAME, client.cookies[settings.SESSION_COOKIE_NAME].value
