"""Provisioning on Pexip Infinity: every trigger makes the Management Node (the double, real
HTTPS on loopback with this run's CA) hold exactly what the tenant should, and "ready" waits
for it. Jobs run in this process here (`run_due_jobs` stands in for the retry pass and a
worker); tests/test_infinity_worker.py runs them in a real Celery worker."""

from __future__ import annotations

import re
import threading
from datetime import timedelta

import pytest
from django.db import transaction
from django.utils import timezone

from onboarding.domain.calling_domains import CallingDomainOption
from onboarding.gateways import provisioning
from onboarding.gateways.infinity_sync import NodeObjects, same_reference
from onboarding.models import (
    AuditAction,
    AuditEvent,
    CallingDomain,
    EmailKind,
    Gateway,
    OutboundEmail,
    ProvisioningState,
    SecurityToken,
    Tenant,
    TenantProvisioning,
    UploadInvitation,
)
from onboarding.services import (
    changes,
    domain_moves,
    lifecycle,
    offboarding,
    provisioning_requests,
    tokens,
)
from onboarding.services.audit import Actor
from onboarding.services.changes import DomainSettings
from onboarding.services.tenant_creation import CallingDomainSpec
from tests.concurrency import holding_until_the_other_side_waits_or_ends, run_together
from tests.feed_support import active_tenant
from tests.provisioning_support import STAFF, made_by_hand, make_infinity, run_due_jobs

pytestmark = pytest.mark.django_db

TOKEN = "acme-Token_0123456789abcdef"
TOKENS = "gms_access_token"
RULES = "gateway_routing_rule"


@pytest.fixture
def node(infinity_node, settings, monkeypatch):
    """The default gateway provisioned through the double; REQUESTS_CA_BUNDLE points elsewhere,
    as on these machines, so the gateway's own CA bundle must win."""
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", "/etc/ssl/certs/ca-certificates.crt")
    settings.PROVISIONING_RETRY_SECONDS = [10, 20]
    make_infinity(infinity_node)
    return infinity_node


def emails(kind, tenant):
    return OutboundEmail.objects.filter(kind=kind, tenant=tenant)


def state_of(tenant) -> TenantProvisioning:
    return TenantProvisioning.objects.get(tenant=tenant)


def writes(node) -> list[tuple[str, str]]:
    return [(r.method, r.path) for r in node.log if r.method != "GET"]


def in_sync(name: str = "Acme", token: str = TOKEN, **spec: str):
    tenant = active_tenant(name, token=token, **spec)
    run_due_jobs()
    assert state_of(tenant).state == ProvisioningState.IN_SYNC
    return tenant


def dial(rule: dict, dial_string: str) -> str | None:
    """What the node would send to Google Meet for this dial string, or None: no match."""
    if not re.search(rule["match_string"], dial_string):
        return None
    return re.sub(rule["match_string"], rule["replace_string"], dial_string)


# The first upload ---------------------------------------------------------------------------


def test_an_upload_puts_the_token_and_a_rule_on_the_node_and_only_then_confirms(node):
    tenant = active_tenant("Acme", token=TOKEN)
    assert not emails(EmailKind.CONFIRMATION, tenant).exists()
    assert SecurityToken.objects.get(tenant=tenant).gateway_has_token_at is None

    [outcome] = run_due_jobs()

    assert outcome.state == ProvisioningState.IN_SYNC
    [token] = node.objects(TOKENS)
    assert token["name"] == f"meet-portal-{tenant.pk}" and "token" not in token
    assert node.token_matches(token["resource_uri"], TOKEN)
    [rule] = node.objects(RULES)
    domain = CallingDomain.objects.get(tenant=tenant)
    assert rule["tag"] == f"meet-portal-{tenant.pk}-{domain.pk}"
    assert (rule["called_device_type"], rule["outgoing_protocol"]) == ("gms_conference", "gms")
    assert rule["treat_as_trusted"] is True and rule["enable"] is True
    assert rule["priority"] == 50
    assert same_reference(rule["gms_access_token"], token["resource_uri"])
    assert dial(rule, "1234567890123@acme.onpexip.com") == "1234567890123"
    assert dial(rule, "1234567890123@globex.onpexip.com") is None
    assert SecurityToken.objects.get(tenant=tenant).gateway_has_token_at is not None
    assert emails(EmailKind.CONFIRMATION, tenant).count() == 1
    assert AuditEvent.objects.filter(tenant=tenant, action=AuditAction.GATEWAY_HAS_TOKEN).exists()


def test_a_second_run_reads_and_changes_nothing(node):
    tenant = in_sync()
    before = len(writes(node))

    provisioning.tenant_provision(tenant.pk)

    assert len(writes(node)) == before
    assert emails(EmailKind.CONFIRMATION, tenant).count() == 1


def test_a_shared_domain_rule_takes_its_own_prefix_and_refuses_another(node):
    tenant = in_sync("Globex", option="shared", domain="", meeting_id_length="short")
    prefix = CallingDomain.objects.get(tenant=tenant).prefix
    other = str(int(prefix) + 1)

    [rule] = node.objects(RULES)

    assert dial(rule, f"{prefix}1234@gmeet.pexip.me") == "1234"
    assert dial(rule, f"sip:{prefix}1234@GMEET.pexip.me") == "1234"
    assert dial(rule, f"{other}1234@gmeet.pexip.me") is None
    assert dial(rule, f"{prefix}1234@gmeet.pexip.me.evil.test") is None


# Every trigger ------------------------------------------------------------------------------


def test_suspend_disables_the_rules_and_resume_enables_them_the_token_stays(node):
    tenant = in_sync()

    lifecycle.tenant_suspend(tenant=tenant, actor=STAFF)
    run_due_jobs()
    [rule] = node.objects(RULES)
    assert rule["enable"] is False and len(node.objects(TOKENS)) == 1

    lifecycle.tenant_resume(tenant=tenant, actor=STAFF)
    run_due_jobs()
    [rule] = node.objects(RULES)
    assert rule["enable"] is True
    assert emails(EmailKind.CONFIRMATION, tenant).count() == 1  # never a second one


def test_a_tenant_suspended_before_its_gateway_had_the_token_is_confirmed_after_resume(node):
    tenant = active_tenant("Acme", token=TOKEN)
    lifecycle.tenant_suspend(tenant=tenant, actor=STAFF)

    run_due_jobs()
    assert [r["enable"] for r in node.objects(RULES)] == [False]
    assert not emails(EmailKind.CONFIRMATION, tenant).exists()  # paused: nothing is ready

    lifecycle.tenant_resume(tenant=tenant, actor=STAFF)
    run_due_jobs()

    assert [r["enable"] for r in node.objects(RULES)] == [True]
    assert emails(EmailKind.CONFIRMATION, tenant).count() == 1


def test_revoking_the_token_removes_the_rules_first_then_the_token(node):
    tenant = in_sync()
    node.log.clear()

    tokens.token_revoke(tenant=tenant, actor=STAFF)
    run_due_jobs()

    assert node.objects(TOKENS) == [] and node.objects(RULES) == []
    deletes = [path for method, path in writes(node) if method == "DELETE"]
    assert [RULES in deletes[0], TOKENS in deletes[1]] == [True, True]
    assert AuditEvent.objects.filter(
        tenant=tenant, action=AuditAction.GATEWAY_OBJECTS_REMOVED
    ).exists()


def test_offboarding_removes_everything_and_reinstating_starts_empty(node):
    tenant = in_sync()

    offboarding.tenant_offboard(tenant=tenant, actor=STAFF)
    run_due_jobs()
    assert node.objects(TOKENS) == [] and node.objects(RULES) == []

    fresh = offboarding.tenant_reinstate(tenant=tenant, actor=STAFF).tenant
    run_due_jobs()
    assert node.objects(TOKENS) == []  # nothing until the new tenant uploads its token
    assert fresh.pk != tenant.pk


def test_a_replaced_token_is_sent_to_the_node_before_token_replaced_goes_out(node):
    tenant = in_sync()
    [token] = node.objects(TOKENS)
    link = UploadInvitation.objects.create(
        tenant=tenant, nonce_hash="x", expires_at=timezone.now() + timedelta(days=1)
    )

    tokens.token_store(invitation=link, token="second-Token_9876543210", actor=Actor.customer())
    assert not emails(EmailKind.TOKEN_REPLACED, tenant).exists()
    run_due_jobs()

    assert node.token_matches(token["resource_uri"], "second-Token_9876543210")
    assert [t["id"] for t in node.objects(TOKENS)] == [token["id"]]  # the same object
    assert emails(EmailKind.TOKEN_REPLACED, tenant).count() == 1
    assert emails(EmailKind.CONFIRMATION, tenant).count() == 1


def test_a_settings_change_moves_the_rule_to_the_new_meeting_ids(node):
    tenant = in_sync()
    domain = CallingDomain.objects.get(tenant=tenant)

    changes.tenant_settings_change(
        tenant=tenant,
        actor=STAFF,
        domains={domain.pk: DomainSettings(meeting_id_length="short", prefix="77")},
    )
    run_due_jobs()

    [rule] = node.objects(RULES)
    assert dial(rule, "771234@acme.onpexip.com") == "1234"
    assert dial(rule, "1234567890123@acme.onpexip.com") is None


def test_an_own_domain_gets_its_rule_once_dns_verifies_it(node, dns_server):
    from onboarding.dns import sweep
    from onboarding.services import tenant_creation
    from tests.test_dns_status_page import publish_all

    tenant = in_sync()
    own = CallingDomainSpec(option="own", domain="video.acme.test").build(tenant)
    tenant_creation.calling_domain_save(own)
    run_due_jobs()
    assert len(node.objects(RULES)) == 1  # not before DNS verified it

    publish_all(dns_server, CallingDomain.objects.get(pk=own.pk))
    sweep.dns_sweep()
    run_due_jobs()

    rules = {rule["tag"]: rule for rule in node.objects(RULES)}
    own_rule = rules[f"meet-portal-{tenant.pk}-{own.pk}"]
    assert dial(own_rule, "1234567890123@video.acme.test") == "1234567890123"


def test_a_domain_move_switch_and_retirement_follow_on_the_node(node):
    tenant = in_sync()
    old = CallingDomain.objects.get(tenant=tenant)

    new = domain_moves.domain_move_start(
        tenant=tenant,
        replaces=old,
        spec=CallingDomainSpec(option=CallingDomainOption.ONPEXIP, domain="acme-video"),
        actor=STAFF,
    )
    run_due_jobs()
    assert {r["tag"] for r in node.objects(RULES)} == {f"meet-portal-{tenant.pk}-{old.pk}"}

    domain_moves.domain_switch(calling_domain=new, actor=STAFF)
    run_due_jobs()
    tags = {r["tag"] for r in node.objects(RULES)}
    assert f"meet-portal-{tenant.pk}-{new.pk}" in tags

    domain_moves.calling_domain_retire(
        calling_domain=CallingDomain.objects.get(pk=old.pk), actor=STAFF
    )
    run_due_jobs()
    assert {r["tag"] for r in node.objects(RULES)} == {f"meet-portal-{tenant.pk}-{new.pk}"}


def test_a_gateway_move_takes_the_objects_off_the_old_node(node):
    tenant = in_sync()
    manual = Gateway.objects.create(
        name="Manual", ip_address="192.0.2.20", hostname="m.example.com"
    )

    changes.tenant_settings_change(tenant=tenant, actor=STAFF, fields={"gateway": manual})
    run_due_jobs()

    assert node.objects(TOKENS) == [] and node.objects(RULES) == []
    row = state_of(tenant)
    assert row.state == ProvisioningState.AWAITING_STAFF and row.node_gateway is None
    assert "Configured on the gateway" in row.detail


@pytest.fixture
def second_node():
    """Another gateway's Management Node (its own double, its own password)."""
    from tests.infinity_double import InfinityDouble

    other = InfinityDouble().start()
    yield other
    other.stop()


def test_a_move_between_two_infinity_gateways_sends_the_token_to_the_new_node_and_clears_the_old(
    node, second_node
):
    tenant = in_sync()
    other = make_infinity(
        second_node,
        Gateway.objects.create(name="Second", ip_address="192.0.2.30", hostname="g2.example.com"),
    )

    changes.tenant_settings_change(tenant=tenant, actor=STAFF, fields={"gateway": other})
    run_due_jobs()

    assert node.objects(TOKENS) == [] and node.objects(RULES) == []
    [token] = second_node.objects(TOKENS)
    assert token["name"] == f"meet-portal-{tenant.pk}"
    assert second_node.token_matches(token["id"], TOKEN)
    [rule] = second_node.objects(RULES)
    assert rule["gms_access_token"] == token["resource_uri"]
    assert dial(rule, "1234567890123@acme.onpexip.com") == "1234567890123"
    row = state_of(tenant)
    assert row.state == ProvisioningState.IN_SYNC and row.node_gateway == other
    assert emails(EmailKind.CONFIRMATION, tenant).count() == 1  # ready once, not again


def test_a_change_of_the_gateways_credentials_provisions_every_tenant_again(node):
    first, second = in_sync("Acme"), in_sync("Globex")
    TenantProvisioning.objects.update(next_attempt_at=None)

    changes.gateway_change(
        gateway=Gateway.objects.get(is_default=True),
        actor=STAFF,
        fields={"management_password": node.password},
    )

    due = TenantProvisioning.objects.filter(next_attempt_at__isnull=False)
    assert set(due.values_list("tenant_id", flat=True)) == {first.pk, second.pk}
    assert AuditEvent.objects.filter(action=AuditAction.GATEWAY_PROVISIONING_CHANGED).exists()


# Failures -------------------------------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_a_job_finishing_while_staff_change_the_tenant_waits_for_them_and_does_not_deadlock(node):
    """Staff's changes lock the tenant, then ask for a job on its provisioning row; the job's
    last transaction takes the tenant's lock before that row, so it waits instead."""
    tenant = active_tenant("Acme", token=TOKEN)
    staff_hold_the_tenant, job_done = threading.Event(), threading.Event()

    def staff_change() -> None:
        with transaction.atomic():
            Tenant.objects.select_for_update().get(pk=tenant.pk)
            staff_hold_the_tenant.set()
            holding_until_the_other_side_waits_or_ends(job_done)
            provisioning_requests.provisioning_request(tenant.pk)

    def job() -> object:
        staff_hold_the_tenant.wait(10)
        try:
            return provisioning.tenant_provision(tenant.pk)
        finally:
            job_done.set()

    staff, outcome = run_together(staff_change, job)

    assert staff is None and not isinstance(outcome, Exception)
    assert SecurityToken.objects.get(tenant=tenant).gateway_has_token_at is not None
    assert emails(EmailKind.CONFIRMATION, tenant).count() == 1


def test_a_busy_node_is_retried_with_backoff_and_converges_when_it_is_back(node):
    tenant = active_tenant("Acme", token=TOKEN)
    now = timezone.now()
    node.fail_next(1, status=503)

    run_due_jobs(now)
    row = state_of(tenant)
    assert (row.state, row.attempts) == (ProvisioningState.PENDING, 1)
    assert row.next_attempt_at == now + timedelta(seconds=10)
    assert "Trying again" in row.detail
    assert not emails(EmailKind.CONFIRMATION, tenant).exists()

    node.throttle_next(1)
    assert run_due_jobs(now + timedelta(seconds=5)) == []  # not due yet
    run_due_jobs(now + timedelta(seconds=11))
    row = state_of(tenant)
    assert row.attempts == 2 and row.next_attempt_at == now + timedelta(seconds=31)

    node.drop_next(1)
    run_due_jobs(now + timedelta(seconds=32))
    assert state_of(tenant).next_attempt_at == now + timedelta(seconds=52)  # the last wait repeats

    run_due_jobs(now + timedelta(seconds=53))
    assert state_of(tenant).state == ProvisioningState.IN_SYNC
    assert len(node.objects(TOKENS)) == 1 and len(node.objects(RULES)) == 1
    assert emails(EmailKind.CONFIRMATION, tenant).count() == 1


def test_wrong_credentials_stop_the_gateway_tell_staff_once_and_resume_on_a_change(node):
    gateway = Gateway.objects.get(is_default=True)
    changes.gateway_change(gateway=gateway, actor=STAFF, fields={"management_password": "wrong"})
    first = active_tenant("Acme", token=TOKEN)
    second = active_tenant("Globex", token="globex-Token_0123456789")

    run_due_jobs()

    gateway.refresh_from_db()
    assert gateway.provisioning_stopped_at is not None
    assert "refused the portal's username or password" in gateway.provisioning_stop_reason
    assert OutboundEmail.objects.filter(kind=EmailKind.GATEWAY_PROBLEM).count() == 1
    assert len(node.requests()) == 1  # the second job did not try a stopped gateway
    assert state_of(second).state == ProvisioningState.FAILED

    changes.gateway_change(
        gateway=gateway, actor=STAFF, fields={"management_password": node.password}
    )
    run_due_jobs()

    gateway.refresh_from_db()
    assert gateway.provisioning_stopped_at is None
    assert {state_of(first).state, state_of(second).state} == {ProvisioningState.IN_SYNC}
    assert OutboundEmail.objects.filter(kind=EmailKind.GATEWAY_PROBLEM).count() == 1


def test_a_full_licence_fails_the_tenant_with_the_nodes_message_until_something_changes(node):
    from onboarding.gateways import provisioning_sweep

    node.licence_full(tokens=0)
    tenant = active_tenant("Acme", token=TOKEN)

    run_due_jobs()
    row = state_of(tenant)
    assert row.state == ProvisioningState.FAILED and "licence allows 0" in row.detail
    assert row.next_attempt_at is None
    [alert] = OutboundEmail.objects.filter(kind=EmailKind.GATEWAY_PROBLEM)
    assert alert.tenant == tenant
    posts = len(node.requests("POST"))

    provisioning_sweep.gateways_sweep()
    assert len(node.requests("POST")) == posts  # not retried by the sweep
    assert provisioning_sweep.provisioning_retry_pass() == 0

    node.licence_limit = None
    lifecycle.tenant_suspend(tenant=tenant, actor=STAFF)  # a change: tried again
    run_due_jobs()
    assert state_of(tenant).state == ProvisioningState.IN_SYNC
    assert OutboundEmail.objects.filter(kind=EmailKind.GATEWAY_PROBLEM).count() == 1


def test_a_404_on_a_change_is_drift_and_the_object_is_made_again(node):
    tenant = in_sync()
    [rule] = node.objects(RULES)
    [token] = node.objects(TOKENS)
    stale = NodeObjects(tokens=[token], rules=[{**rule, "enable": False}])
    node.delete_by_hand(RULES, rule["id"])

    provisioning.tenant_provision(tenant.pk, snapshot=stale)

    [again] = node.objects(RULES)
    assert again["tag"] == rule["tag"] and again["id"] != rule["id"]
    assert state_of(tenant).state == ProvisioningState.IN_SYNC


# Drift ------------------------------------------------------------------------------------------


def test_the_sweep_repairs_objects_edited_or_deleted_by_hand_and_records_it(node):
    from onboarding.gateways import provisioning_sweep

    acme, globex = in_sync("Acme"), in_sync("Globex")
    acme_rule = next(
        r for r in node.objects(RULES) if r["tag"].startswith(f"meet-portal-{acme.pk}-")
    )
    globex_rule = next(
        r for r in node.objects(RULES) if r["tag"].startswith(f"meet-portal-{globex.pk}-")
    )
    node.edit_by_hand(RULES, acme_rule["id"], match_string=".*", priority=1)
    node.delete_by_hand(RULES, globex_rule["id"])

    result = provisioning_sweep.gateways_sweep()

    assert result.repaired == 2
    rules = {r["tag"]: r for r in node.objects(RULES)}
    assert rules[acme_rule["tag"]]["match_string"] == acme_rule["match_string"]
    assert rules[acme_rule["tag"]]["priority"] == 50
    assert globex_rule["tag"] in rules
    for tenant in (acme, globex):
        [event] = AuditEvent.objects.filter(
            tenant=tenant, action=AuditAction.GATEWAY_DRIFT_REPAIRED
        )
        assert event.detail["changes"]
        assert state_of(tenant).drift_repaired_at is not None
    assert provisioning_sweep.gateways_sweep().repaired == 0  # nothing left to repair


def test_the_sweep_reads_the_lists_page_by_page(node):
    from onboarding.gateways import provisioning_sweep

    for n in range(5):
        in_sync(f"Tenant{n}")
    node.max_limit = 2
    node.log.clear()

    result = provisioning_sweep.gateways_sweep()

    assert result.tenants_checked == 5 and result.repaired == 0
    offsets = [r.query for r in node.requests("GET", TOKENS)]
    assert len(offsets) == 3 and any("offset=4" in q for q in offsets)


def test_the_sweep_leaves_no_tenant_to_the_cyclic_garbage_collector(node):
    """Each chunk's rows must be freed as the sweep moves on: rows in reference cycles wait for
    a full collection, and a sweep of 10,000 tenants then holds them all at once."""
    import gc

    from onboarding.gateways import provisioning_sweep

    for n in range(3):
        in_sync(f"Tenant{n}")
    gc.collect()
    gc.disable()
    gc.set_debug(gc.DEBUG_SAVEALL)
    try:
        result = provisioning_sweep.gateways_sweep()
        gc.collect()
        left_to_the_collector = [
            type(o).__name__
            for o in gc.garbage
            if isinstance(o, Tenant | CallingDomain | SecurityToken | TenantProvisioning)
        ]
    finally:
        gc.set_debug(0)
        gc.garbage.clear()
        gc.enable()

    assert result.tenants_checked == 3
    assert left_to_the_collector == []


def test_objects_the_portal_did_not_create_are_never_changed(node):
    from onboarding.gateways import provisioning_sweep

    staff_token, _rule = made_by_hand(
        node,
        token_name="made-by-staff",
        token_value="their-own-token",
        rule_name="made by staff",
        tag="staff-rule",
        priority=10,
    )
    before = [o for o in node.snapshot()[RULES] if o["tag"] == "staff-rule"]
    tenant = in_sync()

    lifecycle.tenant_suspend(tenant=tenant, actor=STAFF)
    run_due_jobs()
    provisioning_sweep.gateways_sweep()
    offboarding.tenant_offboard(tenant=tenant, actor=STAFF)
    run_due_jobs()

    assert [o for o in node.snapshot()[RULES] if o["tag"] == "staff-rule"] == before
    assert [t["name"] for t in node.objects(TOKENS)] == ["made-by-staff"]
    assert node.token_matches(staff_token, "their-own-token")


# Staff's view ----------------------------------------------------------------------------------


def test_test_connection_reports_what_the_node_holds_or_what_went_wrong(node):
    from onboarding.gateways import nodes

    in_sync()
    gateway = Gateway.objects.get(is_default=True)

    ok, text = nodes.connection_test(gateway)
    assert ok and "1 Google Meet access tokens (1 managed by the portal)" in text

    node.fail_next(1, status=401)
    ok, text = nodes.connection_test(gateway)
    assert not ok and "refused the portal's username or password" in text
    assert Gateway.objects.get(pk=gateway.pk).provisioning_stopped_at is None  # a test only


def test_adopting_hand_made_objects_puts_them_under_the_portal(node):
    from onboarding.gateways import adoption

    tenant = active_tenant("Acme", token=TOKEN)
    TenantProvisioning.objects.update(next_attempt_at=None)  # as if staff still did it by hand
    hand_token, hand_rule = made_by_hand(
        node, token_name="acme-by-hand", token_value="old-value-by-hand", rule_name="Acme by hand"
    )

    plan = adoption.adoption_plan(tenant)
    assert plan.token["resource_uri"] == hand_token
    assert [r["resource_uri"] for r, _wanted in plan.rules] == [hand_rule]
    assert writes(node) == []  # a plan changes nothing

    adoption.objects_adopt(tenant=tenant, plan=plan, actor=STAFF)
    run_due_jobs()

    [token] = node.objects(TOKENS)
    [rule] = node.objects(RULES)
    assert token["resource_uri"] == hand_token and token["name"] == f"meet-portal-{tenant.pk}"
    assert node.token_matches(hand_token, TOKEN)
    assert rule["resource_uri"] == hand_rule and rule["priority"] == 50
    assert AuditEvent.objects.filter(
        tenant=tenant, action=AuditAction.GATEWAY_OBJECTS_ADOPTED
    ).exists()
    assert emails(EmailKind.CONFIRMATION, tenant).count() == 1


def test_the_retry_pass_queues_ended_backoffs_at_once_and_lost_requests_after_a_while(node):
    from onboarding.gateways import provisioning_sweep

    requested = active_tenant("Acme", token=TOKEN)
    failing = active_tenant("Globex", token="globex-Token_0123456789")
    TenantProvisioning.objects.filter(tenant=failing).update(
        attempts=1, next_attempt_at=timezone.now() + timedelta(seconds=10)
    )
    now = timezone.now()

    assert provisioning_sweep.provisioning_retry_pass(now=now) == 0  # both just queued
    assert provisioning_sweep.provisioning_retry_pass(now=now + timedelta(seconds=11)) == 1
    assert provisioning_sweep.provisioning_retry_pass(now=now + timedelta(minutes=3)) == 2
    assert state_of(requested).attempts == 0


def test_jobs_one_after_another_share_one_connection_until_the_settings_change(node):
    first, second = active_tenant("Acme", token=TOKEN), active_tenant("Globex", token=TOKEN)
    node.connections = 0

    provisioning.tenant_provision(first.pk)
    provisioning.tenant_provision(second.pk)
    assert node.connections == 1

    changes.gateway_change(
        gateway=Gateway.objects.get(is_default=True),
        actor=STAFF,
        fields={"management_password": node.password},
    )
    provisioning.tenant_provision(first.pk)
    assert node.connections == 2  # new credentials, new client
