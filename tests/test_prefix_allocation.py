"""Shared-domain prefixes: race-free from 8000-8999, never changed, a clear error when used up."""

import threading

import pytest
from django.core.exceptions import ValidationError
from django.db import connection

from onboarding.domain import calling_domains
from onboarding.models import CallingDomain, Gateway, Tenant
from onboarding.services import prefixes, tenant_creation
from onboarding.services.audit import Actor
from onboarding.services.prefixes import PrefixPoolExhausted
from onboarding.services.tenant_creation import CallingDomainSpec

pytestmark = pytest.mark.django_db(transaction=True)

SHARED = CallingDomainSpec(option="shared")
CONCURRENT_CREATES = 50


def create_shared(name):
    return tenant_creation.tenant_create(
        name=name,
        main_contact_email="it@example.com",
        calling_domains=[SHARED],
        actor=Actor.system(),
    ).tenant


def shared_prefixes():
    return list(CallingDomain.objects.filter(option="shared").values_list("prefix", flat=True))


def fill_the_pool():
    gateway = Gateway.objects.get(is_default=True)
    owners = [
        Tenant.objects.create(name=f"Owner {n}", main_contact_email="a@b.example", gateway=gateway)
        for n in range(4)
    ]
    CallingDomain.objects.bulk_create(
        CallingDomain(
            tenant=owners[number % 4],
            option="shared",
            domain="gmeet.pexip.me",
            meeting_id_length="short",
            prefix=str(number),
        )
        for number in range(8000, 9000)
    )


def test_concurrent_creations_get_distinct_prefixes_from_the_pool():
    barrier = threading.Barrier(CONCURRENT_CREATES)
    failures = []

    def create(number):
        try:
            barrier.wait()
            create_shared(f"Tenant {number:02d}")
        except Exception as exc:  # any failure at all is the finding
            failures.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=create, args=(n,)) for n in range(CONCURRENT_CREATES)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    prefixes = shared_prefixes()
    assert failures == []
    assert Tenant.objects.count() == CONCURRENT_CREATES
    assert len(set(prefixes)) == CONCURRENT_CREATES
    assert all(8000 <= int(prefix) <= 8999 for prefix in prefixes)


def test_a_prefix_taken_between_reading_and_inserting_is_picked_again(monkeypatch):
    tenant = create_shared("Holder")
    choose = prefixes.secrets.choice
    picks = []

    def choose_one_that_is_taken_meanwhile(free):
        prefix = choose(free)
        if not picks:  # the first pick: another tenant takes it before our INSERT
            CallingDomain.objects.create(
                tenant=tenant, option="shared", meeting_id_length="short", prefix=prefix
            )
        picks.append(prefix)
        return prefix

    monkeypatch.setattr(prefixes.secrets, "choice", choose_one_that_is_taken_meanwhile)

    created = create_shared("Acme")

    assert len(picks) == 2
    assert created.calling_domains.get().prefix == picks[1] != picks[0]


def test_an_exhausted_pool_is_a_clear_error_and_creates_nothing():
    fill_the_pool()
    tenants_before = Tenant.objects.count()

    with pytest.raises(PrefixPoolExhausted) as caught:
        create_shared("One too many")

    assert "All 1,000 shared-domain prefixes (8000-8999) are allocated" in caught.value.message
    assert "Put this tenant on an onpexip.com subdomain or its own domain" in caught.value.message
    assert Tenant.objects.count() == tenants_before
    assert len(shared_prefixes()) == calling_domains.SHARED_PREFIX_POOL_SIZE


def test_the_count_of_free_prefixes_shrinks_as_they_are_allocated():
    create_shared("Acme")

    assert prefixes.shared_prefixes_free() == 999


@pytest.mark.parametrize("change", ["another shared prefix", "blank"])
def test_an_allocated_prefix_never_changes(change):
    calling_domain = create_shared("Acme").calling_domains.get()
    allocated = calling_domain.prefix
    another = "8000" if allocated != "8000" else "8001"
    calling_domain.prefix = another if change == "another shared prefix" else ""

    with pytest.raises(ValidationError) as caught:
        calling_domain.full_clean()

    assert f"never changes once allocated; it stays {allocated}" in " ".join(
        caught.value.message_dict["prefix"]
    )


def test_a_calling_domain_moved_to_the_shared_domain_is_allocated_a_prefix():
    tenant = tenant_creation.tenant_create(
        name="Acme",
        main_contact_email="it@example.com",
        calling_domains=[
            CallingDomainSpec(
                option="onpexip", domain="acme", meeting_id_length="short", prefix="12"
            )
        ],
        actor=Actor.system(),
    ).tenant
    calling_domain = tenant.calling_domains.get()
    calling_domain.option, calling_domain.domain, calling_domain.prefix = "shared", "", ""

    calling_domain.full_clean()
    tenant_creation.calling_domain_save(calling_domain)

    assert CallingDomain.objects.get(pk=calling_domain.pk).prefix in (
        calling_domains.shared_prefix_candidates()
    )
