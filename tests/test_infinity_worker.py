"""Provisioning in real processes: a Celery worker (with its beat) on its own Redis, PostgreSQL,
the SMTP sink and the Management Node double over HTTPS. Uploads go through HTTP; nothing here
runs a job in the test's own process except where two jobs must race."""

from __future__ import annotations

import json
import logging
import secrets
import threading

import pytest
from celery.signals import before_task_publish
from django.db import connections
from django.test import Client

from onboarding.gateways import provisioning
from onboarding.models import (
    EmailKind,
    OutboundEmail,
    ProvisioningState,
    SecurityToken,
    Tenant,
    TenantProvisioning,
    TenantStatus,
)
from onboarding.services import offboarding
from tests.provisioning_support import STAFF, make_infinity
from tests.services import wait_until
from tests.upload_support import invited_tenant, link_path, prefix_field

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.services]

TOKENS = "gms_access_token"
RULES = "gateway_routing_rule"


@pytest.fixture
def node(infinity_node, monkeypatch):
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", "/etc/ssl/certs/ca-certificates.crt")
    make_infinity(infinity_node)
    return infinity_node


@pytest.fixture
def worker(celery_workers):
    """Its beat runs the retry pass every second and waits a second between attempts."""
    return celery_workers(
        beat=True,
        SWEEP_INTERVAL_SECONDS="1",
        PROVISIONING_RETRY_SECONDS="1",
        REQUESTS_CA_BUNDLE="/etc/ssl/certs/ca-certificates.crt",
    )


@pytest.fixture
def published():
    """Every task message this process publishes (body and headers)."""
    messages: list[str] = []

    def record(body=None, headers=None, **_kwargs):
        messages.append(f"{body!r} {headers!r}")

    before_task_publish.connect(record, weak=False)
    yield messages
    before_task_publish.disconnect(record)


def upload(tenant: Tenant, token: str) -> int:
    return Client().post(link_path(tenant), {"token": token, "trusted": "on"}).status_code


def state(tenant: Tenant) -> str | None:
    row = TenantProvisioning.objects.filter(tenant=tenant).first()
    return row.state if row else None


def test_an_upload_through_http_reaches_the_node_then_the_confirmation_goes_out(
    node, worker, smtp_sink, published, caplog
):
    caplog.set_level(logging.DEBUG)
    token = f"Zq{secrets.token_urlsafe(24)}"
    tenant = invited_tenant("Acme")

    assert upload(tenant, token) == 302

    wait_until(
        lambda: OutboundEmail.objects.filter(tenant=tenant, kind=EmailKind.CONFIRMATION).exists(),
        timeout=60,
        what="the confirmation, once the node has the token",
    )
    [node_token] = node.objects(TOKENS)
    assert node.token_matches(node_token["resource_uri"], token)
    assert len(node.objects(RULES)) == 1
    assert state(tenant) == ProvisioningState.IN_SYNC
    # the token went only in the bodies of requests to the node
    assert [r.method for r in node.log if r.token_in_body] == ["POST"]
    assert all(token not in f"{r.path}?{r.query}" for r in node.log)
    assert published and all(token not in message for message in published)
    assert token not in worker.output()
    assert all(token not in record.getMessage() for record in caplog.records)
    outbox_rows = json.dumps(list(OutboundEmail.objects.values()), default=str)
    assert token not in outbox_rows
    assert all(token not in message.as_string() for message in smtp_sink.messages)


def test_a_node_that_is_down_then_back_is_caught_up_by_the_retry_pass(node, worker):
    node.fail_next(4, status=503)
    tenant = invited_tenant("Acme")

    assert upload(tenant, "acme-Token_0123456789") == 302

    wait_until(
        lambda: (
            TenantProvisioning.objects.filter(tenant=tenant, attempts__gte=1).exists()
            or state(tenant) == ProvisioningState.IN_SYNC
        ),
        timeout=60,
        what="a first failed attempt",
    )
    wait_until(
        lambda: state(tenant) == ProvisioningState.IN_SYNC,
        timeout=90,
        what="the node to be caught up once it answers again",
    )
    assert [r.status for r in node.log[:4]] == [503] * 4
    assert len(node.objects(TOKENS)) == 1 and len(node.objects(RULES)) == 1
    assert SecurityToken.objects.get(tenant=tenant).gateway_has_token_at is not None


def test_an_upload_racing_an_offboarding_leaves_nothing_on_the_node(node, worker):
    tenant = invited_tenant("Acme")
    link = link_path(tenant)
    barrier = threading.Barrier(2)
    results: dict[str, object] = {}

    def do_upload():
        try:
            barrier.wait(timeout=10)
            results["upload"] = Client().post(link, {"token": "raced-Token_0123", "trusted": "on"})
        finally:
            connections.close_all()

    def do_offboard():
        try:
            barrier.wait(timeout=10)
            results["offboard"] = offboarding.tenant_offboard(
                tenant=Tenant.objects.get(pk=tenant.pk), actor=STAFF
            )
        finally:
            connections.close_all()

    threads = [threading.Thread(target=do_upload), threading.Thread(target=do_offboard)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)

    assert Tenant.objects.get(pk=tenant.pk).status == TenantStatus.OFFBOARDED
    wait_until(
        lambda: (
            state(tenant) in (None, ProvisioningState.IN_SYNC)
            and not TenantProvisioning.objects.filter(
                tenant=tenant, lease_until__isnull=False
            ).exists()
        ),
        timeout=60,
        what="every job of the tenant to finish",
    )
    # whichever came first, the node holds nothing for an offboarded tenant
    wait_until(
        lambda: node.objects(TOKENS) == [] and node.objects(RULES) == [],
        timeout=60,
        what="the node to hold nothing for the offboarded tenant",
    )
    assert not OutboundEmail.objects.filter(tenant=tenant, kind=EmailKind.CONFIRMATION).exists()


def test_two_jobs_racing_for_one_tenant_leave_one_set_of_objects(node):
    tenant = invited_tenant("Acme")
    assert upload(tenant, "acme-Token_0123456789") == 302
    node.slow(0.2, count=4)  # long enough for the second job to arrive mid-way
    barrier = threading.Barrier(2)

    def job():
        try:
            barrier.wait(timeout=10)
            provisioning.tenant_provision(tenant.pk)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=job) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)

    assert len(node.objects(TOKENS)) == 1 and len(node.objects(RULES)) == 1
    row = TenantProvisioning.objects.get(tenant=tenant)
    assert row.state == ProvisioningState.IN_SYNC and row.lease_until is None


def test_each_trigger_reaches_the_node_through_the_worker(node, worker):
    from onboarding.models import CallingDomain, Gateway
    from onboarding.services import changes, lifecycle, tokens
    from onboarding.services.changes import DomainSettings

    def rules():
        return node.objects(RULES)

    def settle(condition, what):
        wait_until(condition, timeout=60, what=what)
        wait_until(
            lambda: not TenantProvisioning.objects.filter(lease_until__isnull=False).exists(),
            timeout=60,
            what="the job to let go of the tenant",
        )

    tenant = invited_tenant("Acme")
    assert upload(tenant, "acme-Token_0123456789") == 302
    settle(lambda: [r["enable"] for r in rules()] == [True], "the upload's rule")

    lifecycle.tenant_suspend(tenant=tenant, actor=STAFF)
    settle(lambda: [r["enable"] for r in rules()] == [False], "the suspension")

    lifecycle.tenant_resume(tenant=Tenant.objects.get(pk=tenant.pk), actor=STAFF)
    settle(lambda: [r["enable"] for r in rules()] == [True], "the resume")

    domain = CallingDomain.objects.get(tenant=tenant)
    changes.tenant_settings_change(
        tenant=Tenant.objects.get(pk=tenant.pk),
        actor=STAFF,
        domains={domain.pk: DomainSettings(meeting_id_length="short", prefix="77")},
    )
    settle(lambda: "77([0-9]" in rules()[0]["match_string"], "the settings change")

    node.delete_by_hand(RULES, rules()[0]["id"])
    changes.gateway_change(
        gateway=Gateway.objects.get(is_default=True),
        actor=STAFF,
        fields={"management_password": node.password},
    )
    settle(lambda: len(rules()) == 1, "the credentials change (every tenant again)")

    tokens.token_revoke(tenant=Tenant.objects.get(pk=tenant.pk), actor=STAFF)
    settle(lambda: node.objects(TOKENS) == [] and rules() == [], "the revocation")

    field_name, prefix = prefix_field(tenant)  # short IDs now: the form asks for the prefix
    second = {"token": "acme-Second_0123456789", "trusted": "on", field_name: prefix}
    assert Client().post(link_path(tenant), second).status_code == 302
    settle(lambda: len(node.objects(TOKENS)) == 1 and len(rules()) == 1, "the new token")

    offboarding.tenant_offboard(tenant=Tenant.objects.get(pk=tenant.pk), actor=STAFF)
    settle(lambda: node.objects(TOKENS) == [] and rules() == [], "the offboarding")
