"""The management commands: seed_demo and the tenant transitions staff run from a shell."""

import os
import subprocess
import sys
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection

from onboarding.domain.calling_domains import CallingDomainOption
from onboarding.models import (
    AuditEvent,
    CallingDomain,
    EmailKind,
    OutboundEmail,
    Tenant,
    TenantStatus,
)
from onboarding.services import audit, tenant_creation
from onboarding.services.tenant_creation import CallingDomainSpec

REPO_ROOT = Path(__file__).resolve().parent.parent

pytestmark = pytest.mark.django_db


def run(command: str, *args: str) -> str:
    out = StringIO()
    call_command(command, *args, stdout=out, stderr=StringIO())
    return out.getvalue()


def make_tenant(
    name: str = "Acme", option: str = CallingDomainOption.ONPEXIP, domain: str = "acme"
):
    return tenant_creation.tenant_create(
        name=name,
        main_contact_email="it@acme.example.com",
        calling_domains=[CallingDomainSpec(option=option, domain=domain)],
        actor=audit.Actor.system("test"),
    ).tenant


def status_of(tenant: Tenant) -> str:
    tenant.refresh_from_db()
    return tenant.status


# seed_demo -----------------------------------------------------------------------------------


def test_seed_demo_creates_one_tenant_per_calling_domain_option():
    run("seed_demo")

    domains = CallingDomain.objects.select_related("tenant")
    assert sorted(d.option for d in domains) == sorted(CallingDomainOption.values)
    by_option = {d.option: d for d in domains}
    assert by_option["shared"].domain == "gmeet.pexip.me"
    assert by_option["shared"].meeting_id_length == "short"
    assert 8000 <= int(by_option["shared"].prefix) <= 8999
    assert by_option["onpexip"].domain.endswith(".onpexip.com")
    assert by_option["onpexip"].meeting_id_length == "long"
    assert by_option["own"].domain == "video.example.com"
    assert by_option["own"].tenant.status == TenantStatus.DNS_PENDING


def test_seed_demo_enables_the_onpexip_tenant_so_the_demo_has_an_initial_email():
    run("seed_demo")

    acme = Tenant.objects.get(name="Demo Acme")
    assert acme.status == TenantStatus.INVITED
    assert OutboundEmail.objects.filter(tenant=acme, kind=EmailKind.INITIAL).count() == 1


def test_seed_demo_records_the_system_as_creator():
    run("seed_demo")

    created = AuditEvent.objects.filter(action="created")
    assert created.count() == 3
    assert set(created.values_list("actor_label", flat=True)) == {"seed_demo"}


def test_seed_demo_run_twice_creates_nothing_new():
    first = run("seed_demo")
    second = run("seed_demo")

    assert Tenant.objects.count() == 3
    assert CallingDomain.objects.count() == 3
    assert first.count("Created:") == 3
    assert second.count("Exists:") == 3
    assert "Created:" not in second


def test_seed_demo_leaves_a_tenant_alone_whose_name_differs_only_in_case():
    make_tenant(name="demo acme", domain="someone-else")

    run("seed_demo")

    assert Tenant.objects.filter(name__iexact="demo acme").count() == 1


# enable / suspend / resume ---------------------------------------------------------------------


def test_enable_tenant_by_id_invites_it():
    tenant = make_tenant()

    output = run("enable_tenant", str(tenant.pk))

    assert status_of(tenant) == TenantStatus.INVITED
    assert "Acme" in output and "invited" in output


def test_enable_tenant_by_name_ignores_case():
    tenant = make_tenant(name="Acme Widgets")

    run("enable_tenant", "acme WIDGETS")

    assert status_of(tenant) == TenantStatus.INVITED


def test_enable_tenant_records_the_command_as_actor():
    tenant = make_tenant()

    run("enable_tenant", str(tenant.pk))

    event = AuditEvent.objects.get(tenant=tenant, action="enabled")
    assert event.actor_kind == "system"
    assert event.actor_label == "manage.py enable_tenant"


def test_suspend_then_resume_returns_the_tenant_to_its_earlier_state():
    tenant = make_tenant()
    run("enable_tenant", "Acme")

    assert "suspended" in run("suspend_tenant", "Acme")
    assert status_of(tenant) == TenantStatus.SUSPENDED
    assert "invited" in run("resume_tenant", str(tenant.pk))
    assert status_of(tenant) == TenantStatus.INVITED


def test_a_number_that_is_no_id_is_tried_as_a_name():
    tenant = make_tenant(name="2024")

    assert tenant.pk != 2024

    run("enable_tenant", "2024")

    assert status_of(tenant) == TenantStatus.INVITED


def test_an_offboarded_tenant_is_not_found_by_name():
    tenant = make_tenant()
    Tenant.objects.filter(pk=tenant.pk).update(status=TenantStatus.OFFBOARDED)

    with pytest.raises(CommandError, match="No tenant has the id or name 'Acme'"):
        run("enable_tenant", "Acme")


def test_enabling_an_own_domain_tenant_with_unverified_dns_is_refused():
    tenant = make_tenant(option=CallingDomainOption.OWN, domain="video.acme.example")

    with pytest.raises(CommandError, match=r"DNS for video\.acme\.example is not verified"):
        run("enable_tenant", str(tenant.pk))
    assert status_of(tenant) == TenantStatus.DNS_PENDING


def test_resuming_a_tenant_that_is_not_suspended_is_refused():
    make_tenant()

    with pytest.raises(CommandError, match="possible only from: suspended"):
        run("resume_tenant", "Acme")


def test_an_unknown_tenant_is_refused():
    with pytest.raises(CommandError, match="No tenant has the id or name 'Nobody'"):
        run("suspend_tenant", "Nobody")


@pytest.mark.django_db(transaction=True)
def test_a_refused_transition_exits_non_zero_with_the_message():
    tenant = make_tenant(option=CallingDomainOption.OWN, domain="video.acme.example")
    db = connection.settings_dict
    environment = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "tests.settings",
        "DATABASE_URL": (
            f"postgres://{db['USER']}:{db['PASSWORD']}@{db['HOST']}:{db['PORT']}/{db['NAME']}"
        ),
    }

    result = subprocess.run(
        [sys.executable, "manage.py", "enable_tenant", str(tenant.pk)],
        cwd=REPO_ROOT,
        env=environment,
        capture_output=True,
        text=True,
        timeout=60,
    )

    assert result.returncode != 0
    assert "cannot be enabled yet: DNS for video.acme.example is not verified" in result.stderr


@pytest.mark.django_db(transaction=True)
def test_issue_upload_link_builds_its_link_on_the_port_make_run_serves():
    """`PORT=8765 make run`, then `PORT=8765 manage.py issue_upload_link` in another shell: the
    printed (and emailed) link goes to 8765, not to the default 8000."""
    tenant = make_tenant()
    call_command("enable_tenant", str(tenant.pk), stdout=StringIO())
    db = connection.settings_dict
    environment = {
        **{k: v for k, v in os.environ.items() if k != "PORTAL_BASE_URL"},
        "DJANGO_SETTINGS_MODULE": "portal.settings",
        "PORT": "8765",
        "DATABASE_URL": (
            f"postgres://{db['USER']}:{db['PASSWORD']}@{db['HOST']}:{db['PORT']}/{db['NAME']}"
        ),
    }

    result = subprocess.run(
        [sys.executable, "manage.py", "issue_upload_link", str(tenant.pk)],
        cwd=REPO_ROOT,
        env=environment,
        capture_output=True,
        text=True,
        timeout=60,
    )

    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("http://127.0.0.1:8765/upload/")
