"""Moving a live tenant to another calling domain: added beside, switched when ready, the old one
retired by staff; a shared prefix is quarantined, never reallocated inside the quarantine."""

from datetime import timedelta

import pytest
from django.conf import settings
from django.utils import timezone

from onboarding.domain import calling_domains
from onboarding.mail import instructions
from onboarding.models import AuditEvent, CallingDomain, EmailKind, Gateway, OutboundEmail, Tenant
from onboarding.services import domain_moves, lifecycle, prefixes, tenant_creation
from onboarding.services.audit import TransitionRefused
from onboarding.services.lifecycle import Operation
from onboarding.services.tenant_creation import CallingDomainSpec
from tests.live_support import TEST, active_tenant, rendered, settings_changed_emails, tenant_in
from tests.upload_support import shared_domain_tenant

pytestmark = pytest.mark.django_db

ALL_STATES = ["draft", "dns_pending", "invited", "active", "suspended", "offboarded"]
ONPEXIP = CallingDomainSpec(option="onpexip", domain="globex")
OWN = CallingDomainSpec(option="own", domain="video.globex.test")


def start_move(tenant, spec=ONPEXIP):
    old = tenant.calling_domains.customer_facing().get()
    return old, domain_moves.domain_move_start(tenant=tenant, replaces=old, spec=spec, actor=TEST)


def test_the_operations_allowed_states():
    assert {"invited", "active"} == lifecycle.allowed_from(Operation.MOVE_DOMAIN)
    assert {"invited", "active"} == lifecycle.allowed_from(Operation.SWITCH_DOMAIN)
    assert {"invited", "active", "suspended"} == lifecycle.allowed_from(Operation.RETIRE_DOMAIN)


@pytest.mark.parametrize("status", ALL_STATES)
def test_a_move_starts_only_from_invited_or_active(status):
    tenant = tenant_in(status, name="Globex")
    old = tenant.calling_domains.order_by("pk").first()
    spec = CallingDomainSpec(option="onpexip", domain="globex-new")
    if status in lifecycle.allowed_from(Operation.MOVE_DOMAIN):
        domain_moves.domain_move_start(tenant=tenant, replaces=old, spec=spec, actor=TEST)
    else:
        with pytest.raises(TransitionRefused):
            domain_moves.domain_move_start(tenant=tenant, replaces=old, spec=spec, actor=TEST)


def test_the_new_domain_waits_beside_the_old_one_and_the_tenant_keeps_its_state():
    tenant = shared_domain_tenant()
    old, new = start_move(tenant)
    tenant.refresh_from_db()
    assert tenant.status == "invited"
    assert new.is_awaiting_switch and new.replaces == old
    assert [v.domain for v in instructions.tenant_values(tenant)] == ["gmeet.pexip.me"]
    assert settings_changed_emails(tenant) == []


def test_switching_tells_the_customer_the_new_values_and_the_old_domain_keeps_working():
    tenant = active_tenant("Globex", option="shared", domain="")
    old, new = start_move(tenant)
    domain_moves.domain_switch(calling_domain=new, actor=TEST)

    assert [v.domain for v in instructions.tenant_values(tenant)] == ["globex.onpexip.com"]
    old.refresh_from_db()
    assert old.retired_at is None and old.prefix  # still served, prefix still held
    text, html = rendered(settings_changed_emails(tenant)[0])
    assert f"Calling domains: gmeet.pexip.me (prefix {old.prefix}) -> globex.onpexip.com" in text
    assert (
        'Meeting ID length for globex.onpexip.com: (not used) -> choose "Use long meeting IDs"'
        in text
    )
    assert "globex.onpexip.com" in html and "1234567890123@globex.onpexip.com" in html
    assert AuditEvent.objects.filter(tenant=tenant, action="calling_domain_switched").exists()


def test_an_own_domain_is_verified_before_the_switch():
    tenant = active_tenant("Globex")
    _old, new = start_move(tenant, OWN)
    assert new.next_check_at is not None  # its DNS check is due at once
    assert OutboundEmail.objects.filter(tenant=tenant, kind=EmailKind.DNS_INSTRUCTIONS).exists()
    with pytest.raises(TransitionRefused, match="not ready yet"):
        domain_moves.domain_switch(calling_domain=new, actor=TEST)
    CallingDomain.objects.filter(pk=new.pk).update(verified_at=timezone.now())
    domain_moves.domain_switch(calling_domain=new, actor=TEST)
    assert tenant.calling_domains.customer_facing().get() == new


def test_an_unverified_move_target_does_not_hold_back_the_confirmation():
    tenant = tenant_in("invited", name="Globex")
    start_move(tenant, OWN)
    from onboarding.services import tokens

    assert tokens.own_domains_ready(tenant)


def test_a_domain_the_customer_uses_cannot_be_retired():
    tenant = active_tenant("Globex")
    with pytest.raises(TransitionRefused, match="uses now"):
        domain_moves.calling_domain_retire(calling_domain=tenant.calling_domains.get(), actor=TEST)


def test_retiring_the_replaced_shared_domain_quarantines_its_prefix():
    tenant = active_tenant("Globex", option="shared", domain="")
    old, new = start_move(tenant)
    domain_moves.domain_switch(calling_domain=new, actor=TEST)
    domain_moves.calling_domain_retire(calling_domain=old, actor=TEST)
    old.refresh_from_db()
    assert old.retired_at is not None and old.next_check_at is None
    assert old.prefix and old.retired_at > prefixes.quarantine_cutoff(timezone.now())
    assert prefixes.shared_prefixes_free() == calling_domains.SHARED_PREFIX_POOL_SIZE - 1


def test_an_abandoned_move_target_can_be_retired():
    tenant = active_tenant("Globex")
    _old, new = start_move(tenant, OWN)
    domain_moves.calling_domain_retire(calling_domain=new, actor=TEST)
    assert not CallingDomain.objects.awaiting_switch().exists()


# The quarantine ------------------------------------------------------------------------------


def fill_the_pool_except(free_prefix, retired_at):
    gateway = Gateway.objects.get(is_default=True)
    owner = Tenant.objects.create(name="Owner", main_contact_email="a@b.example", gateway=gateway)
    CallingDomain.objects.bulk_create(
        CallingDomain(
            tenant=owner,
            option="shared",
            domain="gmeet.pexip.me",
            meeting_id_length="short",
            prefix=str(number),
            retired_at=retired_at if str(number) == free_prefix else None,
        )
        for number in range(8000, 9000)
    )
    return CallingDomain.objects.get(prefix=free_prefix)


def create_shared(name, now):
    return tenant_creation.tenant_create(
        name=name,
        main_contact_email="it@example.com",
        calling_domains=[CallingDomainSpec(option="shared")],
        actor=TEST,
        now=now,
    ).tenant


def test_a_released_prefix_is_not_reallocated_inside_the_quarantine():
    released = timezone.now()
    fill_the_pool_except("8123", retired_at=released)
    inside = released + settings.PREFIX_QUARANTINE - timedelta(seconds=1)
    with pytest.raises(prefixes.PrefixPoolExhausted):
        create_shared("Newcomer", inside)
    assert not Tenant.objects.filter(name="Newcomer").exists()


def test_a_released_prefix_is_reused_once_the_quarantine_is_over():
    released = timezone.now()
    old = fill_the_pool_except("8123", retired_at=released)
    tenant = create_shared("Newcomer", released + settings.PREFIX_QUARANTINE)
    assert tenant.calling_domains.get().prefix == "8123"
    old.refresh_from_db()
    assert (old.prefix, old.released_prefix) == ("", "8123")


def test_never_used_prefixes_go_before_reusable_ones():
    tenant = active_tenant("Globex", option="shared", domain="")
    old = tenant.calling_domains.get()
    long_ago = timezone.now() - settings.PREFIX_QUARANTINE - timedelta(days=1)
    CallingDomain.objects.filter(pk=old.pk).update(retired_at=long_ago)
    for number in range(20):
        newcomer = create_shared(f"Newcomer {number}", timezone.now())
        assert newcomer.calling_domains.get().prefix != old.prefix
