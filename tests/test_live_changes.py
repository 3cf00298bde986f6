"""Changing an invited or active tenant's settings, through changes.py, against PostgreSQL."""

from datetime import timedelta

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from onboarding.mail import instructions
from onboarding.models import AuditEvent, CallingDomain, Gateway, SecurityToken, TenantStatus
from onboarding.services import changes, lifecycle
from onboarding.services.audit import TransitionRefused
from onboarding.services.changes import DomainSettings
from onboarding.services.lifecycle import Operation
from tests.live_support import (
    TEST,
    active_tenant,
    draft_tenant,
    rendered,
    settings_changed_emails,
    tenant_in,
)
from tests.upload_support import invited_tenant, shared_domain_tenant

pytestmark = pytest.mark.django_db

ALL_STATES = [s.value for s in TenantStatus]


def only_domain(tenant):
    return tenant.calling_domains.customer_facing().get()


def test_settings_change_is_allowed_from_invited_and_active_only():
    assert {"invited", "active"} == lifecycle.allowed_from(Operation.CHANGE_SETTINGS)


@pytest.mark.parametrize("status", ALL_STATES)
def test_settings_change_is_refused_outside_its_states(status):
    tenant = tenant_in(status)
    request = {"access_scope": "selected", "access_scope_units": ["/Sales"]}
    if status in lifecycle.allowed_from(Operation.CHANGE_SETTINGS):
        changes.tenant_settings_change(tenant=tenant, actor=TEST, fields=request)
        assert tenant.access_scope == "selected"
    else:
        with pytest.raises(TransitionRefused, match="only when it is active, invited"):
            changes.tenant_settings_change(tenant=tenant, actor=TEST, fields=request)
        tenant.refresh_from_db()
        assert tenant.access_scope == "whole"


def test_moving_to_long_ids_clears_the_prefix_and_tells_the_customer_old_and_new():
    tenant = active_tenant(meeting_id_length="short", prefix="42")
    domain = only_domain(tenant)
    token = SecurityToken.objects.get(tenant=tenant)

    result = changes.tenant_settings_change(
        tenant=tenant, actor=TEST, domains={domain.pk: DomainSettings(meeting_id_length="long")}
    )

    domain.refresh_from_db()
    assert (domain.meeting_id_length, domain.prefix) == ("long", "")
    [email] = settings_changed_emails(tenant)
    assert email.recipients == ["admin@acme.test"]
    text, html = rendered(email)
    assert (
        'Meeting ID length for acme.onpexip.com: "Use short meeting IDs" -> '
        'choose "Use long meeting IDs"' in text
    )
    assert "Meeting ID prefix for acme.onpexip.com: 42 -> none" in text
    assert '<td>"Use short meeting IDs"</td><td>choose "Use long meeting IDs"</td>' in html
    assert "do not create a new one" in text
    assert {(c.what, c.old, c.new) for c in result.customer_changes} == {
        ("Meeting ID length", "Short", "Long"),
        ("Meeting ID prefix", "42", "none"),
        ("Calling domains", "acme.onpexip.com (prefix 42)", "acme.onpexip.com"),
    }
    assert SecurityToken.objects.get(tenant=tenant) == token  # the token is kept
    assert tenant.status == "active"


def test_the_change_is_audited_with_old_and_new_values():
    tenant = invited_tenant()
    domain = only_domain(tenant)
    changes.tenant_settings_change(
        tenant=tenant,
        actor=TEST,
        domains={domain.pk: DomainSettings(meeting_id_length="short", prefix="7")},
    )
    event = AuditEvent.objects.get(tenant=tenant, action="settings_changed")
    assert {
        "what": "Meeting ID length",
        "where": "acme.onpexip.com",
        "old": "Long",
        "new": "Short",
    } in event.detail["changes"]
    assert {
        "what": "Meeting ID prefix",
        "where": "acme.onpexip.com",
        "old": "none",
        "new": "7",
    } in event.detail["changes"]


def test_short_ids_on_an_own_subdomain_are_saved_with_the_deprecation_warning():
    tenant = invited_tenant()
    result = changes.tenant_settings_change(
        tenant=tenant,
        actor=TEST,
        domains={only_domain(tenant).pk: DomainSettings(meeting_id_length="short")},
    )
    assert [w.code for w in result.warnings] == ["short-meeting-ids"]
    assert only_domain(tenant).meeting_id_length == "short"


def test_the_shared_domain_cannot_move_to_long_ids_without_leaving_it():
    tenant = shared_domain_tenant()
    domain = only_domain(tenant)
    with pytest.raises(ValidationError, match=r"move the tenant to an onpexip\.com subdomain"):
        changes.tenant_settings_change(
            tenant=tenant, actor=TEST, domains={domain.pk: DomainSettings(meeting_id_length="long")}
        )
    domain.refresh_from_db()
    assert domain.meeting_id_length == "short" and domain.prefix
    assert settings_changed_emails(tenant) == []


def test_an_invalid_change_changes_nothing_and_sends_nothing():
    tenant = invited_tenant()
    gateway = Gateway.objects.create(name="B", ip_address="192.0.2.20", hostname="b.example.com")
    with pytest.raises(ValidationError):
        changes.tenant_settings_change(
            tenant=tenant,
            actor=TEST,
            fields={"gateway": gateway, "access_scope": "selected", "access_scope_units": []},
        )
    tenant.refresh_from_db()
    assert tenant.gateway.is_default and tenant.access_scope == "whole"
    assert settings_changed_emails(tenant) == []
    assert not AuditEvent.objects.filter(tenant=tenant, action="settings_changed").exists()


def test_a_new_gateway_tells_the_customer_the_new_ip_and_hostname():
    tenant = active_tenant()
    gateway = Gateway.objects.create(
        name="Europe", ip_address="192.0.2.30", hostname="eu.gateway.example.com"
    )
    changes.tenant_settings_change(tenant=tenant, actor=TEST, fields={"gateway": gateway})
    text, html = rendered(settings_changed_emails(tenant)[0])
    assert "Gateway IP address: 192.0.2.10 -> 192.0.2.30" in text
    assert "Gateway hostname: gateway.example.com -> eu.gateway.example.com" in text
    assert "<code>192.0.2.10</code></td><td><code>192.0.2.30</code>" in html


def test_sfb_and_access_scope_changes_are_listed_with_the_ou_advice():
    tenant = invited_tenant()
    changes.tenant_settings_change(
        tenant=tenant,
        actor=TEST,
        fields={"access_scope": "selected", "access_scope_units": ["/Engineering"]},
        domains={only_domain(tenant).pk: DomainSettings(sfb_additional_gateway=True)},
    )
    text, html = rendered(settings_changed_emails(tenant)[0])
    assert "Access: whole organisation -> only /Engineering" in text
    assert (
        "Additional gateway for Skype for Business users for acme.onpexip.com: not ticked -> "
        "ticked, hostname pexip.me" in text
    )
    assert "Set them up first, before you change anything else" in html


def test_contact_changes_are_audited_but_need_no_email():
    tenant = invited_tenant()
    result = changes.tenant_settings_change(
        tenant=tenant, actor=TEST, fields={"token_upload_contacts": ["new@acme.test"]}
    )
    assert [c.what for c in result.changes] == ["Token-upload contacts"]
    assert result.customer_changes == []
    assert settings_changed_emails(tenant) == []
    assert AuditEvent.objects.get(tenant=tenant, action="settings_changed").detail["changes"] == [
        {
            "what": "Token-upload contacts",
            "where": "",
            "old": "admin@acme.test",
            "new": "new@acme.test",
        }
    ]


def test_an_own_domain_gets_a_dns_recheck_when_its_srv_target_changes():
    tenant = draft_tenant(option="own", domain="video.acme.test")
    domain = only_domain(tenant)
    now = timezone.now()
    CallingDomain.objects.filter(pk=domain.pk).update(
        verified_at=now, next_check_at=now + timedelta(days=1)
    )
    tenant.status = "invited"
    tenant.save(update_fields=["status"])
    gateway = Gateway.objects.create(
        name="Europe", ip_address="192.0.2.30", hostname="eu.gateway.example.com"
    )
    later = now + timedelta(minutes=5)
    changes.tenant_settings_change(
        tenant=tenant, actor=TEST, fields={"gateway": gateway}, now=later
    )
    domain.refresh_from_db()
    assert domain.next_check_at == later
    text, _html = rendered(settings_changed_emails(tenant)[0])
    assert (
        "SRV records point at for video.acme.test: gateway.example.com -> eu.gateway.example.com"
        in text
    )
    assert "must now point at eu.gateway.example.com instead of gateway.example.com" in text


def test_a_live_tenants_calling_domain_keeps_its_option_in_place():
    tenant = shared_domain_tenant()
    domain = only_domain(tenant)
    prefix = domain.prefix
    domain.option, domain.domain, domain.meeting_id_length, domain.prefix = (
        "onpexip",
        "globex",
        "long",
        "",
    )
    with pytest.raises(ValidationError, match="move the tenant to another calling domain"):
        domain.full_clean()
    assert CallingDomain.objects.get(pk=domain.pk).prefix == prefix


# Gateways --------------------------------------------------------------------------------------


def test_editing_a_gateway_tells_every_tenant_it_serves_and_rechecks_their_dns():
    invited = invited_tenant("Initech")
    active = active_tenant("Acme")
    draft = draft_tenant("Hooli")
    gateway = Gateway.objects.get(is_default=True)
    now = timezone.now()

    told = changes.gateway_change(
        gateway=gateway, actor=TEST, fields={"ip_address": "192.0.2.55"}, now=now
    )

    assert set(told) == {invited.pk, active.pk}
    for tenant in (invited, active):
        text, _html = rendered(settings_changed_emails(tenant)[0])
        assert "Gateway IP address: 192.0.2.10 -> 192.0.2.55" in text
    assert settings_changed_emails(draft) == []
    event = AuditEvent.objects.get(tenant=None, action="gateway_changed")
    assert event.detail["changes"] == [
        {"what": "ip_address", "old": "192.0.2.10", "new": "192.0.2.55"}
    ]


def test_a_gateway_host_edit_schedules_the_own_domains_check_now():
    tenant = draft_tenant(option="own", domain="video.acme.test")
    domain = only_domain(tenant)
    CallingDomain.objects.filter(pk=domain.pk).update(next_check_at=None)
    now = timezone.now()
    changes.gateway_change(
        gateway=Gateway.objects.get(is_default=True),
        actor=TEST,
        fields={"sip_host": "sip.example.com"},
        now=now,
    )
    domain.refresh_from_db()
    assert domain.next_check_at == now


def test_instructions_show_the_values_after_the_change():
    tenant = invited_tenant()
    changes.tenant_settings_change(
        tenant=tenant,
        actor=TEST,
        domains={only_domain(tenant).pk: DomainSettings(meeting_id_length="short", prefix="5")},
    )
    [values] = instructions.tenant_values(tenant)
    assert (values.meeting_id_length, values.prefix) == ("Short", "5")
