"""Migration 0007 on data from before gateway provisioning: gateways get a mode from their feed
keys, and tenants already active count as having their gateway configured (no second
confirmation, nobody stuck, time to ready unchanged). Run on PostgreSQL, back and forth."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.utils import timezone

BEFORE = [("onboarding", "0006_audit_action_choices")]
AFTER = [("onboarding", "0007_gateway_provisioning")]

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture(autouse=True)
def back_to_the_latest_migrations():
    yield
    migrate(MigrationExecutor(connection).loader.graph.leaf_nodes())


def migrate(target):
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(target)
    return executor.loader.project_state(target).apps


def test_gateways_get_their_mode_and_active_tenants_count_as_configured():
    old = migrate(BEFORE)
    Gateway = old.get_model("onboarding", "Gateway")
    GatewayApiKey = old.get_model("onboarding", "GatewayApiKey")
    Tenant = old.get_model("onboarding", "Tenant")
    SecurityToken = old.get_model("onboarding", "SecurityToken")
    AuditEvent = old.get_model("onboarding", "AuditEvent")
    now = timezone.now()
    pulling = Gateway.objects.create(name="Pulling", ip_address="192.0.2.1", hostname="a.test")
    revoked = Gateway.objects.create(name="Revoked", ip_address="192.0.2.2", hostname="b.test")
    GatewayApiKey.objects.create(gateway=pulling, key_id="k1", key_hash="h1")
    GatewayApiKey.objects.create(gateway=revoked, key_id="k2", key_hash="h2", revoked_at=now)

    def tenant(name, status, gateway):
        return Tenant.objects.create(
            name=name, status=status, main_contact_email=f"it@{name}.test", gateway=gateway
        )

    active = tenant("active", "active", revoked)
    fetched = tenant("fetched", "active", pulling)
    invited = tenant("invited", "invited", revoked)
    uploaded = now - timedelta(days=3)
    SecurityToken.objects.create(tenant=active, fingerprint="f1", uploaded_at=uploaded)
    SecurityToken.objects.create(
        tenant=fetched, fingerprint="f2", uploaded_at=uploaded, fetched_by_gateway_at=now
    )
    SecurityToken.objects.create(tenant=invited, fingerprint="f3", state="revoked")
    AuditEvent.objects.create(
        tenant=active, action="token_stored", actor_kind="customer", created_at=uploaded
    )

    new = migrate(AFTER)

    Gateway = new.get_model("onboarding", "Gateway")
    SecurityToken = new.get_model("onboarding", "SecurityToken")
    AuditEvent = new.get_model("onboarding", "AuditEvent")
    modes = dict(
        Gateway.objects.filter(name__in=["Pulling", "Revoked"]).values_list("name", "provisioning")
    )
    assert modes == {"Pulling": "feed", "Revoked": "manual"}
    has_it = dict(SecurityToken.objects.values_list("fingerprint", "gateway_has_token_at"))
    assert has_it["f1"] == uploaded  # counted as on the gateway since its upload
    assert has_it["f2"] == now  # a fetch keeps its own time
    assert has_it["f3"] is None  # not a current token: nothing to count
    [ready] = AuditEvent.objects.filter(action="gateway_has_token")
    assert (ready.tenant_id, ready.created_at) == (active.pk, uploaded)
    assert ready.detail["replacement"] is False
