"""The tenant's life (architecture.md): creation, enable, suspend, resume and their rules."""

import threading
from datetime import UTC, datetime

import pytest
from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import connection, transaction

from onboarding.models import AuditEvent, CallingDomain, Gateway, Tenant, TenantStatus
from onboarding.services import lifecycle, tenant_creation
from onboarding.services.audit import Actor, TransitionRefused
from onboarding.services.tenant_creation import CallingDomainSpec
from tests.live_support import active_tenant
from tests.upload_support import invited_tenant

pytestmark = pytest.mark.django_db

SHARED = CallingDomainSpec(option="shared")
ONPEXIP = CallingDomainSpec(option="onpexip", domain="acme")
OWN = CallingDomainSpec(option="own", domain="video.acme.example")
NOON = datetime(2030, 1, 2, 12, 0, tzinfo=UTC)
LATER = datetime(2030, 1, 3, 9, 30, tzinfo=UTC)
SYSTEM = Actor.system()


def create(name="Acme", domains=(ONPEXIP,), **kwargs):
    kwargs.setdefault("main_contact_email", "it@acme.example")
    return tenant_creation.tenant_create(
        name=name, calling_domains=list(domains), actor=SYSTEM, **kwargs
    ).tenant


def set_status(tenant, status):
    Tenant.objects.filter(pk=tenant.pk).update(status=status)
    tenant.refresh_from_db()
    return tenant


def verify_own_domains(tenant):
    CallingDomain.objects.filter(tenant=tenant, option="own").update(verified_at=NOON)


def actions(tenant):
    return list(
        AuditEvent.objects.filter(tenant=tenant).order_by("id").values_list("action", flat=True)
    )


def refusal(transition, tenant):
    with pytest.raises(TransitionRefused) as caught:
        transition(tenant=tenant, actor=SYSTEM)
    return caught.value.message


def creation_error(**kwargs):
    with pytest.raises(ValidationError) as caught:
        create(**kwargs)
    return " ".join(caught.value.messages)


# The default gateway ----------------------------------------------------------------------------


def test_the_default_gateway_exists_with_the_configured_values():
    gateway = Gateway.objects.get(is_default=True)

    assert gateway.name == settings.DEFAULT_GATEWAY_NAME
    assert gateway.ip_address == settings.DEFAULT_GATEWAY_IP
    assert gateway.hostname == settings.DEFAULT_GATEWAY_HOSTNAME
    assert gateway.effective_sip_host == (
        settings.DEFAULT_GATEWAY_SIP_HOST or settings.DEFAULT_GATEWAY_HOSTNAME
    )


def test_a_new_tenant_is_assigned_the_default_gateway():
    assert create().gateway == Gateway.objects.get(is_default=True)


# Creation ----------------------------------------------------------------------------------------


@pytest.mark.parametrize("spec", [SHARED, ONPEXIP], ids=["shared", "onpexip"])
def test_a_tenant_without_an_own_domain_starts_as_draft(spec):
    tenant = create(domains=[spec])

    assert tenant.status == TenantStatus.DRAFT
    assert actions(tenant) == ["created"]


def test_an_own_domain_tenant_is_dns_pending_from_creation():
    tenant = create(domains=[OWN])

    assert Tenant.objects.get(pk=tenant.pk).status == TenantStatus.DNS_PENDING
    assert actions(tenant) == ["created", "dns_pending"]


def test_one_own_domain_among_others_makes_the_tenant_dns_pending():
    tenant = create(domains=[ONPEXIP, OWN])

    assert tenant.status == TenantStatus.DNS_PENDING


def test_creation_without_a_calling_domain_is_refused():
    assert "at least one calling domain" in creation_error(domains=[])
    assert not Tenant.objects.exists()


def test_creation_returns_the_warnings_of_deprecated_choices():
    created = tenant_creation.tenant_create(
        name="Acme", main_contact_email="it@acme.example", calling_domains=[SHARED], actor=SYSTEM
    )

    assert [warning.code for warning in created.warnings] == ["legacy-shared-domain"]


# Enable -------------------------------------------------------------------------------------------


def test_enabling_a_draft_tenant_invites_it_and_records_who_did_it(staff_user):
    tenant = create()

    lifecycle.tenant_enable(tenant=tenant, actor=Actor.staff(staff_user, "198.51.100.7"), now=NOON)

    event = AuditEvent.objects.get(tenant=tenant, action="enabled")
    assert Tenant.objects.get(pk=tenant.pk).status == TenantStatus.INVITED
    assert (event.actor_kind, event.actor_user, event.actor_label) == ("staff", staff_user, "staff")
    assert (event.from_status, event.to_status) == ("draft", "invited")
    assert (event.ip_address, event.created_at) == ("198.51.100.7", NOON)


def test_enabling_is_refused_while_an_own_domain_is_unverified():
    tenant = create(domains=[OWN])

    message = refusal(lifecycle.tenant_enable, tenant)

    assert "DNS for video.acme.example is not verified" in message
    assert Tenant.objects.get(pk=tenant.pk).status == TenantStatus.DNS_PENDING
    assert "enabled" not in actions(tenant)


def test_enabling_is_allowed_once_every_own_domain_is_verified():
    tenant = create(domains=[OWN])
    verify_own_domains(tenant)

    lifecycle.tenant_enable(tenant=tenant, actor=SYSTEM)

    assert Tenant.objects.get(pk=tenant.pk).status == TenantStatus.INVITED


def test_enabling_a_tenant_without_calling_domains_is_refused():
    gateway = Gateway.objects.get(is_default=True)
    tenant = Tenant.objects.create(name="Empty", main_contact_email="a@b.example", gateway=gateway)

    assert "Empty has no calling domain yet. Add one" in refusal(lifecycle.tenant_enable, tenant)


def test_enabling_a_tenant_whose_only_domain_is_retired_is_refused():
    tenant = create()
    CallingDomain.objects.filter(tenant=tenant).update(retired_at=NOON)

    assert "has no calling domain yet" in refusal(lifecycle.tenant_enable, tenant)


def test_a_second_enable_is_refused_with_a_clear_message():
    tenant = create()
    lifecycle.tenant_enable(tenant=tenant, actor=SYSTEM)

    message = refusal(lifecycle.tenant_enable, tenant)

    assert message.startswith("Acme is invited, so it cannot be enabled")
    assert actions(tenant).count("enabled") == 1


@pytest.mark.django_db(transaction=True)
def test_two_racing_enables_let_exactly_one_win():
    tenant = create()
    barrier = threading.Barrier(2)
    outcomes = []

    def enable():
        try:
            barrier.wait()
            lifecycle.tenant_enable(tenant=Tenant.objects.get(pk=tenant.pk), actor=SYSTEM)
            outcomes.append("enabled")
        except TransitionRefused:
            outcomes.append("refused")
        finally:
            connection.close()

    threads = [threading.Thread(target=enable) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert sorted(outcomes) == ["enabled", "refused"]
    assert AuditEvent.objects.filter(tenant=tenant, action="enabled").count() == 1


# Suspend and resume -------------------------------------------------------------------------------

SUSPENDABLE = [TenantStatus.DNS_PENDING, TenantStatus.INVITED, TenantStatus.ACTIVE]


@pytest.mark.parametrize("state", SUSPENDABLE)
def test_a_tenant_can_be_suspended_from(state):
    tenant = set_status(create(), state)

    lifecycle.tenant_suspend(tenant=tenant, actor=SYSTEM)

    tenant.refresh_from_db()
    assert (tenant.status, tenant.status_before_suspension) == (TenantStatus.SUSPENDED, state)


@pytest.mark.parametrize("state", SUSPENDABLE)
def test_resume_returns_to_the_state_the_tenant_left(state):
    tenant = set_status(create(), state)
    lifecycle.tenant_suspend(tenant=tenant, actor=SYSTEM)

    lifecycle.tenant_resume(tenant=tenant, actor=SYSTEM)

    tenant.refresh_from_db()
    assert (tenant.status, tenant.status_before_suspension) == (state, "")
    assert actions(tenant)[-2:] == ["suspended", "resumed"]


@pytest.mark.parametrize("state", [TenantStatus.DRAFT, TenantStatus.OFFBOARDED])
def test_a_tenant_cannot_be_suspended_from(state):
    tenant = set_status(create(), state)

    message = refusal(lifecycle.tenant_suspend, tenant)

    assert f"is {state.label.lower()}, so it cannot be suspended" in message
    assert "possible only from: active, dns pending, invited" in message


def test_only_a_suspended_tenant_can_be_resumed():
    tenant = create()

    assert "so it cannot be resumed; that is possible only from: suspended" in refusal(
        lifecycle.tenant_resume, tenant
    )


def test_a_suspended_tenant_cannot_be_enabled():
    tenant = set_status(create(), TenantStatus.INVITED)
    lifecycle.tenant_suspend(tenant=tenant, actor=SYSTEM)

    assert "is suspended, so it cannot be enabled" in refusal(lifecycle.tenant_enable, tenant)


# The clock ---------------------------------------------------------------------------------------


def test_creation_is_stamped_with_the_given_time():
    tenant = create(domains=[OWN], now=NOON)

    tenant.refresh_from_db()
    assert (tenant.created_at, tenant.status_changed_at) == (NOON, NOON)
    assert set(AuditEvent.objects.filter(tenant=tenant).values_list("created_at", flat=True)) == {
        NOON
    }


@pytest.mark.parametrize(
    ("start", "transition"),
    [
        (TenantStatus.DRAFT, lifecycle.tenant_enable),
        (TenantStatus.INVITED, lifecycle.tenant_suspend),
        (TenantStatus.SUSPENDED, lifecycle.tenant_resume),
    ],
    ids=["enable", "suspend", "resume"],
)
def test_each_transition_is_stamped_with_the_given_time(start, transition):
    tenant = set_status(create(now=NOON), start)

    transition(tenant=tenant, actor=SYSTEM, now=LATER)

    assert tenant.status_changed_at == LATER
    assert Tenant.objects.get(pk=tenant.pk).status_changed_at == LATER
    assert AuditEvent.objects.filter(tenant=tenant).latest("id").created_at == LATER


# The status as staff read it ----------------------------------------------------------------------


def test_an_unverified_own_domain_shows_as_dns_pending():
    assert lifecycle.status_label(create(domains=[OWN])) == "DNS pending"


def test_a_verified_tenant_awaiting_enable_says_so():
    tenant = create(domains=[OWN])
    verify_own_domains(tenant)

    assert lifecycle.status_label(tenant) == "DNS verified, awaiting enable"


def test_other_states_show_their_label():
    assert lifecycle.status_label(create()) == "Draft"


# Tenant names -------------------------------------------------------------------------------------


def test_tenant_names_are_unique_case_insensitively():
    create(name="Acme")
    namesake = Tenant(
        name="ACME", main_contact_email="b@b.example", gateway=Gateway.objects.get(is_default=True)
    )

    with pytest.raises(ValidationError) as caught:
        namesake.full_clean()

    assert "already exists" in " ".join(caught.value.messages)


def test_creating_a_namesake_tenant_is_refused_and_creates_nothing():
    create(name="Acme")

    assert "already exists" in creation_error(name=" acme ", domains=[SHARED])
    assert Tenant.objects.count() == 1


def test_the_name_of_an_offboarded_tenant_can_be_reused():
    set_status(create(name="Acme"), TenantStatus.OFFBOARDED)

    assert create(name="ACME", domains=[SHARED]).name == "ACME"


# Calling domains across tenants ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("first", "second"),
    [
        (OWN, CallingDomainSpec(option="own", domain="VIDEO.Acme.example.")),
        (ONPEXIP, CallingDomainSpec(option="onpexip", domain="ACME.onpexip.com")),
    ],
    ids=["own", "onpexip"],
)
def test_a_calling_domain_belongs_to_one_tenant(first, second):
    create(name="First", domains=[first])

    assert "already" in creation_error(name="Second", domains=[second])
    assert not Tenant.objects.filter(name="Second").exists()


def test_every_shared_domain_tenant_uses_the_same_name():
    first, second = create(name="First", domains=[SHARED]), create(name="Second", domains=[SHARED])

    domains = CallingDomain.objects.filter(tenant__in=[first, second])
    assert set(domains.values_list("domain", flat=True)) == {"gmeet.pexip.me"}
    assert len(set(domains.values_list("prefix", flat=True))) == 2


def test_a_retired_calling_domain_can_be_taken_by_another_tenant():
    first = create(name="First", domains=[OWN])
    CallingDomain.objects.filter(tenant=first).update(retired_at=NOON)

    second = create(name="Second", domains=[OWN])

    assert second.calling_domains.get().domain == "video.acme.example"


def test_a_teams_interop_domain_cannot_be_a_calling_domain():
    message = creation_error(teams_interop_domains=["Acme.onpexip.com."])

    assert "acme.onpexip.com is recorded as a Teams video interop domain" in message
    assert not Tenant.objects.exists()


def test_a_tenant_lists_each_calling_domain_once():
    domains = [OWN, CallingDomainSpec(option="own", domain="VIDEO.acme.example")]

    assert "video.acme.example is listed twice" in creation_error(domains=domains)
    assert not Tenant.objects.exists()


# Contacts -----------------------------------------------------------------------------------------


def test_both_contact_lists_default_to_the_main_contact():
    tenant = create()

    assert tenant.token_upload_recipients == ["it@acme.example"]
    assert tenant.service_notification_recipients == ["it@acme.example"]


def test_explicit_contact_lists_replace_the_main_contact():
    tenant = create(
        token_upload_contacts=["admin@acme.example"],
        service_notification_contacts=["noc@acme.example", "ops@acme.example"],
    )

    assert tenant.token_upload_recipients == ["admin@acme.example"]
    assert tenant.service_notification_recipients == ["noc@acme.example", "ops@acme.example"]


@pytest.mark.parametrize(
    "address",
    [
        "a@b.com\r\nBcc: x@y.com",
        "a@b.com\nBcc: x@y.com",
        "a@b.com, x@y.com",
        "a@b.com; x@y.com",
        "Eve <x@y.com>",
        "not-an-address",
    ],
)
@pytest.mark.parametrize("field", ["token_upload_contacts", "service_notification_contacts"])
def test_a_contact_list_holds_plain_addresses_only(field, address):
    with pytest.raises(ValidationError) as caught:
        create(**{field: ["ok@acme.example", address]})

    assert field in caught.value.message_dict
    assert not Tenant.objects.exists()


def test_resuming_pauses_the_reminder_clock_for_the_time_suspended():
    from datetime import timedelta

    from django.utils import timezone

    start = timezone.now() - timedelta(days=10)
    tenant = tenant_creation.tenant_create(
        name="Paused",
        main_contact_email="it@paused.test",
        calling_domains=[CallingDomainSpec(option="onpexip", domain="paused")],
        actor=Actor.system(),
        now=start,
    ).tenant
    lifecycle.tenant_enable(tenant=tenant, actor=Actor.system(), now=start)
    lifecycle.tenant_suspend(tenant=tenant, actor=Actor.system(), now=start + timedelta(days=1))

    lifecycle.tenant_resume(tenant=tenant, actor=Actor.system(), now=start + timedelta(days=9))

    tenant.refresh_from_db()
    assert tenant.invited_at == start + timedelta(days=8)


def test_a_resumed_tenant_whose_dns_verified_meanwhile_is_enabled_when_chosen():
    tenant = tenant_creation.tenant_create(
        name="Auto",
        main_contact_email="it@auto.test",
        calling_domains=[CallingDomainSpec(option="own", domain="video.auto.test")],
        enable_when_dns_verified=True,
        actor=Actor.system(),
    ).tenant
    lifecycle.tenant_suspend(tenant=tenant, actor=Actor.system())
    tenant.calling_domains.update(verified_at=tenant.created_at)

    lifecycle.tenant_resume(tenant=tenant, actor=Actor.system())

    tenant.refresh_from_db()
    assert tenant.status == TenantStatus.INVITED


@pytest.mark.django_db(transaction=True)
def test_an_activation_that_trusts_the_callers_lock_refuses_to_run_without_one():
    tenant = invited_tenant("Umbrella")

    with pytest.raises(RuntimeError, match="row lock"):
        lifecycle.tenant_activate(tenant=tenant, actor=Actor.system("test"), locked=True)

    with transaction.atomic():
        locked = Tenant.objects.select_for_update().get(pk=tenant.pk)
        lifecycle.tenant_activate(tenant=locked, actor=Actor.system("test"), locked=True)
    assert Tenant.objects.get(pk=tenant.pk).status == "active"


@pytest.mark.django_db(transaction=True)
def test_an_activation_from_a_state_that_does_not_allow_it_is_refused_and_changes_nothing():
    tenant = active_tenant("Hooli")
    events = AuditEvent.objects.filter(tenant=tenant).count()

    with pytest.raises(TransitionRefused), transaction.atomic():
        locked = Tenant.objects.select_for_update().get(pk=tenant.pk)
        lifecycle.tenant_activate(tenant=locked, actor=Actor.system("test"), locked=True)

    assert Tenant.objects.get(pk=tenant.pk).status == "active"
    assert AuditEvent.objects.filter(tenant=tenant).count() == events
    # without the caller's lock it locks and reads for itself, in a savepoint
    with pytest.raises(TransitionRefused):
        lifecycle.tenant_activate(tenant=tenant, actor=Actor.system("test"))
