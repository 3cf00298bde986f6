"""The DNS sweep task on a real Celery worker subprocess, real Redis, PostgreSQL and the test
DNS server: the worker asks the DNS server on loopback, as production asks the internet's."""

import pytest

from onboarding.models import CallingDomain, DnsCheck, Heartbeat
from onboarding.services import tenant_creation
from onboarding.services.audit import Actor
from onboarding.services.tenant_creation import CallingDomainSpec
from tests.services import wait_until

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.services]


def test_the_sweep_task_on_a_worker_verifies_a_domain_that_is_due(celery_workers, dns_server):
    from onboarding.tasks import sweep_dns

    tenant = tenant_creation.tenant_create(
        name="Acme",
        main_contact_email="it@acme.test",
        calling_domains=[CallingDomainSpec(option="own", domain="video.acme.test")],
        actor=Actor.system("test"),
    ).tenant
    domain = CallingDomain.objects.get(tenant=tenant)
    dns_server.add(*(r.zone_line for r in domain.expected_records()))
    celery_workers(DNS_NAMESERVERS="127.0.0.1", DNS_PORT=str(dns_server.port))

    sweep_dns.delay()

    wait_until(lambda: is_verified(domain), timeout=60, what="the domain verified by the worker")
    assert DnsCheck.objects.filter(calling_domain=domain, verdict="ok").count() == 4
    # the heartbeat is written after the sweep's last batch, a moment after the verdicts
    wait_until(
        lambda: Heartbeat.objects.filter(name="dns_sweeper").exists(),
        timeout=30,
        what="the DNS sweeper's heartbeat",
    )
    assert dns_server.query_count("_sips._tcp.video.acme.test", "SRV") == 1


def is_verified(calling_domain):
    calling_domain.refresh_from_db()
    return calling_domain.verified_at is not None
