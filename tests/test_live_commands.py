"""The management commands for live changes and offboarding: thin callers of changes.py and
offboarding.py that print what changed and fail with the reason."""

import pytest
from django.core.management import CommandError, call_command

from onboarding.models import CallingDomain, EmailKind, OutboundEmail, Tenant
from tests.live_support import active_tenant, rendered, settings_changed_emails

pytestmark = pytest.mark.django_db


def run(*args):
    from io import StringIO

    out = StringIO()
    call_command(*args, stdout=out)
    return out.getvalue()


def test_change_tenant_settings_prints_and_emails_old_and_new():
    tenant = active_tenant()
    out = run(
        "change_tenant_settings",
        "acme",
        "--domain",
        "acme.onpexip.com",
        "--meeting-id-length",
        "short",
        "--prefix",
        "9",
    )
    assert "Meeting ID length (acme.onpexip.com): Long -> Short" in out
    text, _html = rendered(settings_changed_emails(tenant)[0])
    assert "Meeting ID prefix for acme.onpexip.com: none -> 9" in text


def test_change_tenant_settings_refuses_long_ids_on_the_shared_domain():
    active_tenant("Globex", option="shared", domain="")
    with pytest.raises(CommandError, match="short meeting IDs only"):
        run(
            "change_tenant_settings",
            "globex",
            "--domain",
            "gmeet.pexip.me",
            "--meeting-id-length",
            "long",
        )


def test_change_gateway_tells_the_tenants():
    tenant = active_tenant()
    out = run("change_gateway", "Default gateway", "--hostname", "gw.provider.test")
    assert "1 tenant(s) told" in out
    text, _html = rendered(settings_changed_emails(tenant)[0])
    assert "Gateway hostname: gateway.example.com -> gw.provider.test" in text


def test_move_switch_and_retire_from_the_command_line():
    tenant = active_tenant("Globex", option="shared", domain="")
    run(
        "move_calling_domain",
        "globex",
        "--from",
        "gmeet.pexip.me",
        "--option",
        "onpexip",
        "--domain",
        "globex",
    )
    run("switch_calling_domain", "globex", "globex.onpexip.com")
    run("retire_calling_domain", "globex", "gmeet.pexip.me")
    old = CallingDomain.objects.get(tenant=tenant, option="shared")
    assert old.retired_at is not None and old.prefix


def test_offboard_and_reinstate_from_the_command_line():
    tenant = active_tenant()
    out = run("offboard_tenant", "acme")
    assert "offboarded" in out
    assert OutboundEmail.objects.filter(tenant=tenant, kind=EmailKind.SERVICE_ENDED).exists()
    run("reinstate_tenant", str(tenant.pk))
    assert Tenant.objects.filter(name="Acme", status="draft").exists()
    with pytest.raises(CommandError, match="only an offboarded tenant"):
        run("reinstate_tenant", str(Tenant.objects.get(status="draft").pk))


def test_erase_offboarded_contacts_reports_how_many():
    assert "0 tenant(s)" in run("erase_offboarded_contacts")
