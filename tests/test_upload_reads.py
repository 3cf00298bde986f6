"""The reads behind the upload page and the upload (the ORM's querysets): which calling domains a
customer sees at each stage of a domain move, with the tenant and gateway loaded alongside, and
no state left in the database session."""

import pytest
from django.core import signing
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from onboarding.models import CallingDomain, EmailKind, OutboundEmail, Tenant, UploadInvitation
from onboarding.services import domain_moves, invitations
from onboarding.services.invitations import LinkOutcome
from onboarding.services.tenant_creation import CallingDomainSpec
from tests.live_support import TEST, active_tenant, rendered
from tests.upload_support import gateway_confirms, invited_tenant, link_path

pytestmark = pytest.mark.django_db


def field_values(instance):
    """Every stored field, as the ORM loads it (JSON lists, aware datetimes, IP strings)."""
    return {field.attname: getattr(instance, field.attname) for field in instance._meta.fields}


def signed(tenant):
    return link_path(tenant).split("/")[2]


def shown(link):
    """The calling domains the upload page lists for a link."""
    return [d.domain for d in invitations.invitation_check(link).calling_domains]


def move(tenant, replaces, domain):
    spec = CallingDomainSpec(option="onpexip", domain=domain)
    return domain_moves.domain_move_start(tenant=tenant, replaces=replaces, spec=spec, actor=TEST)


def test_the_page_shows_the_customer_facing_domains_at_each_stage_of_a_domain_move():
    tenant = active_tenant("Globex", option="shared", domain="")
    [shared] = tenant.calling_domains.all()
    link = signed(tenant)
    assert shown(link) == [shared.domain]

    switched = move(tenant, shared, "globex")  # a move target waits for its switch
    assert shown(link) == [shared.domain]

    domain_moves.domain_switch(calling_domain=switched, actor=TEST)  # the old side stops
    assert shown(link) == ["globex.onpexip.com"]

    abandoned = move(tenant, switched, "globex-abandoned")
    domain_moves.calling_domain_retire(calling_domain=abandoned, actor=TEST)  # retired
    waiting = move(tenant, switched, "globex-next")
    CallingDomain.objects.filter(pk=waiting.pk).update(verified_at=timezone.now())
    assert shown(link) == ["globex.onpexip.com"]
    assert shown(link) == [d.domain for d in CallingDomain.objects.customer_facing()]


def test_the_link_check_loads_tenant_gateway_and_domains_as_the_orm_does_in_two_queries():
    tenant = invited_tenant("Acme")
    CallingDomain.objects.create(
        tenant=tenant, option="own", domain="video.acme.test", verified_at=timezone.now()
    )
    Tenant.objects.filter(pk=tenant.pk).update(
        access_scope="selected", access_scope_units=["Sales", "Support"]
    )
    link = signed(tenant)
    expected = UploadInvitation.objects.select_related("tenant__gateway").latest("id")

    with CaptureQueriesContext(connection) as queries:
        check = invitations.invitation_check(link)
        found, domains = check.invitation, check.calling_domains
        loaded = (found.tenant.gateway, [d.tenant.gateway for d in domains])

    assert len(queries) == 2  # the invitation with tenant and gateway, then the domains
    assert check.outcome == LinkOutcome.VALID
    assert field_values(found) == field_values(expected)
    assert field_values(found.tenant) == field_values(expected.tenant)
    assert found.tenant.access_scope_units == ["Sales", "Support"]
    assert field_values(loaded[0]) == field_values(expected.tenant.gateway)
    assert [d.domain for d in domains] == ["acme.onpexip.com", "video.acme.test"]
    assert all(d.tenant is found.tenant for d in domains)


def test_a_signed_link_to_an_unknown_invitation_is_not_found():
    link = signing.TimestampSigner(salt=invitations.UPLOAD_SALT).sign_object(
        {"i": 987654321, "n": "x"}
    )

    check = invitations.invitation_check(link)

    assert (check.outcome, check.invitation, check.calling_domains) == (
        LinkOutcome.NOT_FOUND,
        None,
        [],
    )


def test_a_link_whose_tenant_has_no_customer_facing_domain_still_reads():
    tenant = invited_tenant("Initech")
    link = signed(tenant)
    CallingDomain.objects.filter(tenant=tenant).update(retired_at=timezone.now())

    check = invitations.invitation_check(link)

    assert check.outcome == LinkOutcome.VALID and check.tenant.pk == tenant.pk
    assert check.calling_domains == []


@pytest.mark.django_db(transaction=True)
def test_the_reads_leave_nothing_in_the_session_and_work_on_a_new_connection():
    """Behind a transaction pooler each query may land on another server session."""
    link = signed(invited_tenant("Acme"))

    def prepared_statements():
        with connection.cursor() as cursor:
            cursor.execute("SELECT count(*) FROM pg_prepared_statements")
            return cursor.fetchone()[0]

    assert shown(link) == ["acme.onpexip.com"]
    assert prepared_statements() == 0
    connection.close()
    assert shown(link) == ["acme.onpexip.com"]
    assert prepared_statements() == 0


def test_each_read_keeps_to_its_own_tenant_on_a_shared_gateway(client):
    first = invited_tenant("Acme")
    second = invited_tenant("Globex")
    if second.pk == second.gateway_id:  # keys that differ, so swapped keys would show
        second = invited_tenant("Initech")
    assert first.gateway_id == second.gateway_id
    second_domain = f"{second.name.lower()}.onpexip.com"
    first_link, second_link = signed(first), signed(second)

    assert shown(first_link) == ["acme.onpexip.com"]
    assert shown(second_link) == [second_domain]
    upload = client.post(f"/upload/{second_link}/", {"token": "a-valid-token", "trusted": "on"})
    gateway_confirms(second)

    assert upload.status_code == 302
    confirmation = OutboundEmail.objects.get(tenant=second, kind=EmailKind.CONFIRMATION)
    text, _html = rendered(confirmation)
    assert second_domain in text and "acme.onpexip.com" not in text
