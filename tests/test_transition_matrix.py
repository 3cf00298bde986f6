"""Every operation on a tenant, from every state: allowed (and the state it leaves the tenant
in) or refused (with the exact words staff or the customer read).

One table pins today's behaviour, so moving the state rules into one place can prove it changed
nothing. Each starting state is reached through the services, as staff and customers reach it;
each operation is called through its public service function.
"""

from __future__ import annotations

from collections.abc import Callable

import pytest

from onboarding.dns import sweep
from onboarding.models import CallingDomain, EmailKind, OutboundEmail, Tenant, TenantStatus
from onboarding.services import (
    changes,
    domain_moves,
    invitations,
    lifecycle,
    offboarding,
    resend,
    tenant_creation,
    tokens,
)
from onboarding.services.audit import Actor, TransitionRefused
from onboarding.services.tenant_creation import CallingDomainSpec

pytestmark = pytest.mark.django_db

TEST = Actor.system("test")
CUSTOMER = Actor.customer("198.51.100.7")
TOKEN = "matrix-token-7f3a"
NAME = "Acme"
OWN = CallingDomainSpec(option="own", domain="video.acme.test")
MOVE_TARGET = CallingDomainSpec(option="onpexip", domain="acme-new")
STATES = [s.value for s in TenantStatus]
# Not a TenantStatus: dns_pending before its own domain verified (enable has a precondition).
DNS_UNVERIFIED = "dns_pending, DNS not verified"


# Starting states, through the services --------------------------------------------------------


def build(state: str, dns_server, *, move_under_way: bool = False) -> Tenant:
    """A tenant named Acme in `state`. Every state but draft has an own domain (a draft tenant
    cannot: an own domain makes it DNS pending), verified through a real DNS check. With
    `move_under_way`, tenants that were ever invited also have a ready move target (onpexip)."""
    if state == TenantStatus.DRAFT:
        return _create(CallingDomainSpec(option="onpexip", domain="acme"))
    tenant = _create(OWN)
    if state == DNS_UNVERIFIED:
        return tenant
    own = list(CallingDomain.objects.own().filter(tenant=tenant))
    for calling_domain in own:
        for record in calling_domain.expected_records():
            dns_server.add(record.zone_line)
    sweep.calling_domains_check_now(own)
    if state == TenantStatus.DNS_PENDING:
        return _fresh(tenant)
    lifecycle.tenant_enable(tenant=tenant, actor=TEST)
    if state == TenantStatus.INVITED:
        if move_under_way:
            _start_move(tenant)
        return _fresh(tenant)
    issued = invitations.invitation_issue(tenant=tenant)
    tokens.token_store(invitation=issued.invitation, token=TOKEN, actor=CUSTOMER)
    if move_under_way:
        _start_move(tenant)
    if state == TenantStatus.SUSPENDED:
        lifecycle.tenant_suspend(tenant=tenant, actor=TEST)
    if state == TenantStatus.OFFBOARDED:
        offboarding.tenant_offboard(tenant=tenant, actor=TEST)
    return _fresh(tenant)


def _create(spec: CallingDomainSpec) -> Tenant:
    return tenant_creation.tenant_create(
        name=NAME,
        main_contact_email="it@acme.test",
        token_upload_contacts=["admin@acme.test"],
        service_notification_contacts=["noc@acme.test"],
        calling_domains=[spec],
        actor=TEST,
    ).tenant


def _fresh(tenant: Tenant) -> Tenant:
    tenant.refresh_from_db()
    return tenant


def _start_move(tenant: Tenant) -> None:
    old = tenant.calling_domains.customer_facing().get()
    domain_moves.domain_move_start(tenant=tenant, replaces=old, spec=MOVE_TARGET, actor=TEST)


def _first_domain(tenant: Tenant) -> CallingDomain:
    return tenant.calling_domains.order_by("pk").first()


def _move_target(tenant: Tenant) -> CallingDomain:
    """The move target when a move is under way, else the domain the tenant has."""
    return tenant.calling_domains.filter(replaces__isnull=False).first() or _first_domain(tenant)


# Operations: each returns what it did (the state the tenant is left in, and any detail) -------


def enable(tenant: Tenant) -> str:
    lifecycle.tenant_enable(tenant=tenant, actor=TEST)
    return _state(tenant)


def suspend(tenant: Tenant) -> str:
    lifecycle.tenant_suspend(tenant=tenant, actor=TEST)
    return _state(tenant)


def resume(tenant: Tenant) -> str:
    lifecycle.tenant_resume(tenant=tenant, actor=TEST)
    return _state(tenant)


def revoke_token(tenant: Tenant) -> str:
    tokens.token_revoke(tenant=tenant, actor=TEST)
    return _state(tenant)


def upload(tenant: Tenant) -> str:
    """The customer stores a token through a fresh link (the upload page's POST)."""
    issued = invitations.invitation_issue(tenant=tenant)
    stored = tokens.token_store(invitation=issued.invitation, token=TOKEN + "-2", actor=CUSTOMER)
    return _state(tenant) + (", the token replaced" if stored.replaced else "")


def change_settings(tenant: Tenant) -> str:
    changes.tenant_settings_change(
        tenant=tenant, actor=TEST, fields={"main_contact_email": "new-it@acme.test"}
    )
    return _state(tenant)


def move(tenant: Tenant) -> str:
    domain_moves.domain_move_start(
        tenant=tenant, replaces=_first_domain(tenant), spec=MOVE_TARGET, actor=TEST
    )
    return _state(tenant)


def switch(tenant: Tenant) -> str:
    domain_moves.domain_switch(calling_domain=_move_target(tenant), actor=TEST)
    return _state(tenant)


def retire(tenant: Tenant) -> str:
    """Retire the move target (an abandoned move), or the tenant's domain when there is none."""
    domain_moves.calling_domain_retire(calling_domain=_move_target(tenant), actor=TEST)
    return _state(tenant)


def offboard(tenant: Tenant) -> str:
    offboarding.tenant_offboard(tenant=tenant, actor=TEST)
    return _state(tenant)


def reinstate(tenant: Tenant) -> str:
    created = offboarding.tenant_reinstate(tenant=tenant, actor=TEST)
    return f"{_state(tenant)}, a new tenant in {created.tenant.status}"


def issue_link(tenant: Tenant) -> str:
    """Staff issue a new upload link (the admin action and `manage.py issue_upload_link`)."""
    tokens.upload_link_reissue(tenant=tenant, actor=TEST)
    return _state(tenant)


def check_dns_now(tenant: Tenant) -> str:
    """Staff's "check DNS now" on every own domain the tenant ever had (retired ones too, so the
    service's own filter decides)."""
    checked = sweep.calling_domains_check_now(
        list(CallingDomain.objects.own().filter(tenant=tenant))
    )
    return f"{_state(tenant)}, {len(checked)} own domain(s) checked"


def send_initial_again(tenant: Tenant) -> str:
    """Staff's "send again" on the tenant's initial email (it carries an upload link).

    A tenant never enabled has no initial email; the row is recorded by hand for it, since the
    check under test is the tenant's state when staff press the button.
    """
    row = OutboundEmail.objects.filter(tenant=tenant, kind=EmailKind.INITIAL).first()
    if row is None:
        row = OutboundEmail.objects.create(
            tenant=tenant,
            kind=EmailKind.INITIAL,
            idempotency_key=f"initial:{tenant.pk}:by-hand",
            recipients=tenant.token_upload_recipients,
            subject="(recorded by the test)",
        )
    again = resend.email_send_again(row)
    return f"{_state(tenant)}, a new {again.kind} email"


def _state(tenant: Tenant) -> str:
    return "→ " + Tenant.objects.get(pk=tenant.pk).status


OPERATIONS: dict[str, Callable[[Tenant], str]] = {
    "enable": enable,
    "suspend": suspend,
    "resume": resume,
    "revoke token": revoke_token,
    "upload": upload,
    "change settings": change_settings,
    "move calling domain": move,
    "switch calling domain": switch,
    "retire calling domain": retire,
    "offboard": offboard,
    "reinstate": reinstate,
    "issue upload link": issue_link,
    "check DNS now": check_dns_now,
    "send initial email again": send_initial_again,
}
# These act on a move under way, so the states that can have one are built with one.
NEED_A_MOVE = {"switch calling domain", "retire calling domain"}


# The table -------------------------------------------------------------------------------------

TABLE: dict[tuple[str, str], str] = {
    # Operation.ENABLE, then a precondition: every own domain verified
    ("enable", "draft"): "→ invited",
    ("enable", "dns_pending"): "→ invited",
    ("enable", "invited"): (
        "TransitionRefused: Acme is invited, so it cannot be enabled; that is possible only from:"
        " dns pending, draft."
    ),
    ("enable", "active"): (
        "TransitionRefused: Acme is active, so it cannot be enabled; that is possible only from: "
        "dns pending, draft."
    ),
    ("enable", "suspended"): (
        "TransitionRefused: Acme is suspended, so it cannot be enabled; that is possible only "
        "from: dns pending, draft."
    ),
    ("enable", "offboarded"): (
        "TransitionRefused: Acme is offboarded, so it cannot be enabled; that is possible only "
        "from: dns pending, draft."
    ),
    ("enable", DNS_UNVERIFIED): (
        "TransitionRefused: Acme cannot be enabled yet: DNS for video.acme.test is not verified. "
        "Enable it once the records check out, or tick 'enable automatically once DNS verifies'."
    ),
    # Operation.SUSPEND
    ("suspend", "draft"): (
        "TransitionRefused: Acme is draft, so it cannot be suspended; that is possible only from:"
        " active, dns pending, invited."
    ),
    ("suspend", "dns_pending"): "→ suspended",
    ("suspend", "invited"): "→ suspended",
    ("suspend", "active"): "→ suspended",
    ("suspend", "suspended"): (
        "TransitionRefused: Acme is suspended, so it cannot be suspended; that is possible only "
        "from: active, dns pending, invited."
    ),
    ("suspend", "offboarded"): (
        "TransitionRefused: Acme is offboarded, so it cannot be suspended; that is possible only "
        "from: active, dns pending, invited."
    ),
    # Operation.RESUME; back to the state it left (here: active)
    ("resume", "draft"): (
        "TransitionRefused: Acme is draft, so it cannot be resumed; that is possible only from: "
        "suspended."
    ),
    ("resume", "dns_pending"): (
        "TransitionRefused: Acme is dns pending, so it cannot be resumed; that is possible only "
        "from: suspended."
    ),
    ("resume", "invited"): (
        "TransitionRefused: Acme is invited, so it cannot be resumed; that is possible only from:"
        " suspended."
    ),
    ("resume", "active"): (
        "TransitionRefused: Acme is active, so it cannot be resumed; that is possible only from: "
        "suspended."
    ),
    ("resume", "suspended"): "→ active",
    ("resume", "offboarded"): (
        "TransitionRefused: Acme is offboarded, so it cannot be resumed; that is possible only "
        "from: suspended."
    ),
    # Operation.REVOKE_TOKEN, through tokens.token_revoke
    ("revoke token", "draft"): (
        "TransitionRefused: Acme is draft, so it cannot be revoked; that is possible only from: "
        "active."
    ),
    ("revoke token", "dns_pending"): (
        "TransitionRefused: Acme is dns pending, so it cannot be revoked; that is possible only "
        "from: active."
    ),
    ("revoke token", "invited"): (
        "TransitionRefused: Acme is invited, so it cannot be revoked; that is possible only from:"
        " active."
    ),
    ("revoke token", "active"): "→ invited",
    ("revoke token", "suspended"): (
        "TransitionRefused: Acme is suspended, so it cannot be revoked; that is possible only "
        "from: active."
    ),
    ("revoke token", "offboarded"): (
        "TransitionRefused: Acme is offboarded, so it cannot be revoked; that is possible only "
        "from: active."
    ),
    # Operation.UPLOAD_TOKEN
    ("upload", "draft"): "TransitionRefused: Acme is not accepting a token right now.",
    ("upload", "dns_pending"): "TransitionRefused: Acme is not accepting a token right now.",
    ("upload", "invited"): "→ active",
    ("upload", "active"): "→ active, the token replaced",
    ("upload", "suspended"): "TransitionRefused: Acme is not accepting a token right now.",
    ("upload", "offboarded"): "TransitionRefused: Acme is not accepting a token right now.",
    # Operation.CHANGE_SETTINGS
    ("change settings", "draft"): (
        "TransitionRefused: Acme is draft, so it cannot have its settings changed; that is "
        "possible only when it is active, invited."
    ),
    ("change settings", "dns_pending"): (
        "TransitionRefused: Acme is dns pending, so it cannot have its settings changed; that is "
        "possible only when it is active, invited."
    ),
    ("change settings", "invited"): "→ invited",
    ("change settings", "active"): "→ active",
    ("change settings", "suspended"): (
        "TransitionRefused: Acme is suspended, so it cannot have its settings changed; that is "
        "possible only when it is active, invited."
    ),
    ("change settings", "offboarded"): (
        "TransitionRefused: Acme is offboarded, so it cannot have its settings changed; that is "
        "possible only when it is active, invited."
    ),
    # Operation.MOVE_DOMAIN
    ("move calling domain", "draft"): (
        "TransitionRefused: Acme is draft, so it cannot move to another calling domain; that is "
        "possible only when it is active, invited."
    ),
    ("move calling domain", "dns_pending"): (
        "TransitionRefused: Acme is dns pending, so it cannot move to another calling domain; "
        "that is possible only when it is active, invited."
    ),
    ("move calling domain", "invited"): "→ invited",
    ("move calling domain", "active"): "→ active",
    ("move calling domain", "suspended"): (
        "TransitionRefused: Acme is suspended, so it cannot move to another calling domain; that "
        "is possible only when it is active, invited."
    ),
    ("move calling domain", "offboarded"): (
        "TransitionRefused: Acme is offboarded, so it cannot move to another calling domain; that"
        " is possible only when it is active, invited."
    ),
    # Operation.SWITCH_DOMAIN
    ("switch calling domain", "draft"): (
        "TransitionRefused: Acme is draft, so it cannot switch calling domains; that is possible "
        "only when it is active, invited."
    ),
    ("switch calling domain", "dns_pending"): (
        "TransitionRefused: Acme is dns pending, so it cannot switch calling domains; that is "
        "possible only when it is active, invited."
    ),
    ("switch calling domain", "invited"): "→ invited",
    ("switch calling domain", "active"): "→ active",
    ("switch calling domain", "suspended"): (
        "TransitionRefused: Acme is suspended, so it cannot switch calling domains; that is "
        "possible only when it is active, invited."
    ),
    ("switch calling domain", "offboarded"): (
        "TransitionRefused: Acme is offboarded, so it cannot switch calling domains; that is "
        "possible only when it is active, invited."
    ),
    # Operation.RETIRE_DOMAIN
    ("retire calling domain", "draft"): (
        "TransitionRefused: Acme is draft, so it cannot retire a calling domain; that is possible"
        " only when it is active, invited, suspended."
    ),
    ("retire calling domain", "dns_pending"): (
        "TransitionRefused: Acme is dns pending, so it cannot retire a calling domain; that is "
        "possible only when it is active, invited, suspended."
    ),
    ("retire calling domain", "invited"): "→ invited",
    ("retire calling domain", "active"): "→ active",
    ("retire calling domain", "suspended"): "→ suspended",
    ("retire calling domain", "offboarded"): (
        "TransitionRefused: Acme is offboarded, so it cannot retire a calling domain; that is "
        "possible only when it is active, invited, suspended."
    ),
    # Operation.OFFBOARD
    ("offboard", "draft"): "→ offboarded",
    ("offboard", "dns_pending"): "→ offboarded",
    ("offboard", "invited"): "→ offboarded",
    ("offboard", "active"): "→ offboarded",
    ("offboard", "suspended"): "→ offboarded",
    ("offboard", "offboarded"): (
        "TransitionRefused: Acme is offboarded, so it cannot be offboarded; that is possible only"
        " from: active, dns pending, draft, invited, suspended."
    ),
    # Operation.REINSTATE
    ("reinstate", "draft"): (
        "TransitionRefused: Acme is draft: only an offboarded tenant can be reinstated."
    ),
    ("reinstate", "dns_pending"): (
        "TransitionRefused: Acme is dns pending: only an offboarded tenant can be reinstated."
    ),
    ("reinstate", "invited"): (
        "TransitionRefused: Acme is invited: only an offboarded tenant can be reinstated."
    ),
    ("reinstate", "active"): (
        "TransitionRefused: Acme is active: only an offboarded tenant can be reinstated."
    ),
    ("reinstate", "suspended"): (
        "TransitionRefused: Acme is suspended: only an offboarded tenant can be reinstated."
    ),
    ("reinstate", "offboarded"): "→ offboarded, a new tenant in dns_pending",
    # Operation.ISSUE_UPLOAD_LINK
    ("issue upload link", "draft"): (
        "TransitionRefused: Acme is draft; upload links are issued only to invited or active "
        "tenants."
    ),
    ("issue upload link", "dns_pending"): (
        "TransitionRefused: Acme is dns pending; upload links are issued only to invited or "
        "active tenants."
    ),
    ("issue upload link", "invited"): "→ invited",
    ("issue upload link", "active"): "→ active",
    ("issue upload link", "suspended"): (
        "TransitionRefused: Acme is suspended; upload links are issued only to invited or active "
        "tenants."
    ),
    ("issue upload link", "offboarded"): (
        "TransitionRefused: Acme is offboarded; upload links are issued only to invited or active"
        " tenants."
    ),
    # sweep._checkable: not offboarded (its domains are retired too); no state refuses
    ("check DNS now", "draft"): "→ draft, 0 own domain(s) checked",
    ("check DNS now", "dns_pending"): "→ dns_pending, 1 own domain(s) checked",
    ("check DNS now", "invited"): "→ invited, 1 own domain(s) checked",
    ("check DNS now", "active"): "→ active, 1 own domain(s) checked",
    ("check DNS now", "suspended"): "→ suspended, 1 own domain(s) checked",
    ("check DNS now", "offboarded"): "→ offboarded, 0 own domain(s) checked",
    # resend: Operation.ISSUE_UPLOAD_LINK (invited or active), a ValueError, not a refusal
    ("send initial email again", "draft"): "ValueError: Acme is draft: no upload link is sent.",
    ("send initial email again", "dns_pending"): (
        "ValueError: Acme is dns pending: no upload link is sent."
    ),
    ("send initial email again", "invited"): "→ invited, a new initial email",
    ("send initial email again", "active"): "→ active, a new initial email",
    ("send initial email again", "suspended"): (
        "ValueError: Acme is suspended: no upload link is sent."
    ),
    ("send initial email again", "offboarded"): (
        "ValueError: Acme is offboarded: no upload link is sent."
    ),
}


@pytest.mark.parametrize(
    ("operation", "state", "expected"),
    [(op, state, expected) for (op, state), expected in TABLE.items()],
    ids=[f"{op} from {state}" for op, state in TABLE],
)
def test_an_operation_from_a_state_is_allowed_or_refused_as_the_table_says(
    operation, state, expected, dns_server
):
    tenant = build(state, dns_server, move_under_way=operation in NEED_A_MOVE)
    try:
        outcome = OPERATIONS[operation](tenant)
    except (TransitionRefused, ValueError) as refusal:
        outcome = f"{type(refusal).__name__}: {refusal}"
        assert Tenant.objects.get(pk=tenant.pk).status == tenant.status  # refused: unchanged
    assert outcome == expected


def test_the_table_has_every_operation_from_every_state():
    every = {(op, state) for op in OPERATIONS for state in STATES}
    assert every <= set(TABLE)
    assert set(TABLE) - every == {("enable", DNS_UNVERIFIED)}
