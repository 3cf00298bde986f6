"""The upload page's one-statement reads return exactly what the ORM's querysets return."""

import pytest
from django.db import DatabaseError, connection, transaction
from django.utils import timezone

from onboarding import upload_reads
from onboarding.models import CallingDomain, Tenant, UploadInvitation
from onboarding.services import domain_moves
from onboarding.services.tenant_creation import CallingDomainSpec
from tests.live_support import TEST, active_tenant
from tests.upload_support import invited_tenant, link_path

pytestmark = pytest.mark.django_db


def field_values(instance):
    """Every stored field, as the ORM loads it (JSON lists, aware datetimes, IP strings)."""
    return {field.attname: getattr(instance, field.attname) for field in instance._meta.fields}


def orm_customer_facing(tenant):
    return list(CallingDomain.objects.customer_facing().filter(tenant=tenant))


def tenant_in_every_move_stage():
    """An active tenant whose domains cover each case customer_facing() decides: a finished
    switch (old side still in use, new side), a move target waiting for its switch, a retired
    domain, and a plain one."""
    tenant = active_tenant("Globex", option="shared", domain="")
    [shared] = orm_customer_facing(tenant)

    def move(replaces, domain):
        spec = CallingDomainSpec(option="onpexip", domain=domain)
        return domain_moves.domain_move_start(
            tenant=tenant, replaces=replaces, spec=spec, actor=TEST
        )

    switched = move(shared, "globex")
    domain_moves.domain_switch(calling_domain=switched, actor=TEST)
    abandoned = move(switched, "globex-abandoned")
    domain_moves.calling_domain_retire(calling_domain=abandoned, actor=TEST)
    waiting = move(switched, "globex-next")
    CallingDomain.objects.filter(pk=waiting.pk).update(verified_at=timezone.now())
    return Tenant.objects.get(pk=tenant.pk), {"shared": shared, "switched": switched}


def test_the_domains_read_matches_customer_facing_in_every_move_stage():
    tenant, domains = tenant_in_every_move_stage()
    expected = orm_customer_facing(tenant)

    found = upload_reads.customer_facing_domains(tenant)

    assert [d.pk for d in expected] == [domains["switched"].pk]  # the case is the one meant
    assert [field_values(d) for d in found] == [field_values(d) for d in expected]
    assert all(d.tenant is tenant for d in found)
    assert field_values(tenant.gateway) == field_values(tenant.gateway.__class__.objects.get())


def test_the_invitation_read_brings_the_tenant_gateway_and_domains_as_the_orm_loads_them():
    tenant = invited_tenant("Acme")
    CallingDomain.objects.create(
        tenant=tenant, option="own", domain="video.acme.test", verified_at=timezone.now()
    )
    Tenant.objects.filter(pk=tenant.pk).update(
        access_scope="selected", access_scope_units=["Sales", "Support"]
    )
    link_path(tenant)
    invitation = UploadInvitation.objects.select_related("tenant__gateway").latest("id")

    found, domains = upload_reads.invitation_with_domains(invitation.pk)

    assert field_values(found) == field_values(invitation)
    assert field_values(found.tenant) == field_values(invitation.tenant)
    assert found.tenant.access_scope_units == ["Sales", "Support"]  # JSON, not its text
    assert field_values(found.tenant.gateway) == field_values(invitation.tenant.gateway)
    assert [field_values(d) for d in domains] == [
        field_values(d) for d in orm_customer_facing(tenant)
    ]
    assert [d.domain for d in domains] == ["acme.onpexip.com", "video.acme.test"]


def test_an_unknown_invitation_reads_as_none():
    assert upload_reads.invitation_with_domains(987654321) == (None, [])


def test_an_invitation_whose_tenant_has_no_customer_facing_domain_still_reads():
    tenant = invited_tenant("Initech")
    link_path(tenant)
    CallingDomain.objects.filter(tenant=tenant).update(retired_at=timezone.now())
    invitation = UploadInvitation.objects.latest("id")

    found, domains = upload_reads.invitation_with_domains(invitation.pk)

    assert found.pk == invitation.pk and found.tenant.pk == tenant.pk
    assert domains == []


@pytest.mark.django_db(transaction=True)
def test_on_postgresql_each_connection_prepares_the_read_once_and_a_new_one_again():
    tenant = invited_tenant("Acme")
    link_path(tenant)
    invitation = UploadInvitation.objects.latest("id")

    def prepared_reads():
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT count(*) FROM pg_prepared_statements "
                "WHERE name LIKE 'onboarding_upload_invitation_%%'"
            )
            return cursor.fetchone()[0]

    first, _ = upload_reads.invitation_with_domains(invitation.pk)
    again, _ = upload_reads.invitation_with_domains(invitation.pk)
    assert prepared_reads() == 1
    connection.close()  # the next query opens a new session, which has no prepared statements
    after_reconnect, domains = upload_reads.invitation_with_domains(invitation.pk)

    assert first.pk == again.pk == after_reconnect.pk == invitation.pk
    assert [d.domain for d in domains] == ["acme.onpexip.com"]
    assert prepared_reads() == 1


@pytest.mark.django_db(transaction=True)
def test_a_prepared_read_the_session_lost_is_prepared_anew():
    """As after a DEALLOCATE, or a migration that changed a column the statement returns."""
    tenant = invited_tenant("Acme")
    link_path(tenant)
    invitation = UploadInvitation.objects.latest("id")
    upload_reads.invitation_with_domains(invitation.pk)

    def lose_it():
        with connection.cursor() as cursor:
            cursor.execute("DEALLOCATE ALL")

    lose_it()
    found, _ = upload_reads.invitation_with_domains(invitation.pk)  # outside a transaction
    assert found.pk == invitation.pk

    lose_it()
    with pytest.raises(DatabaseError), transaction.atomic():  # inside one: that one fails
        upload_reads.invitation_with_domains(invitation.pk)
    with transaction.atomic():  # the next prepares it anew
        found, _ = upload_reads.invitation_with_domains(invitation.pk)
    assert found.pk == invitation.pk


def test_each_read_keeps_to_its_own_tenant_on_a_shared_gateway():
    first = invited_tenant("Acme")
    second = invited_tenant("Globex")
    if second.pk == second.gateway_id:  # keys that differ, so swapped keys would show
        second = invited_tenant("Initech")
    assert first.gateway_id == second.gateway_id
    second_domain = f"{second.name.lower()}.onpexip.com"
    link_path(first)
    first_invitation = UploadInvitation.objects.latest("id")
    link_path(second)
    second_invitation = UploadInvitation.objects.latest("id")

    _, first_domains = upload_reads.invitation_with_domains(first_invitation.pk)
    _, second_domains = upload_reads.invitation_with_domains(second_invitation.pk)
    second_again = upload_reads.customer_facing_domains(Tenant.objects.get(pk=second.pk))

    assert [d.domain for d in first_domains] == ["acme.onpexip.com"]
    assert [d.domain for d in second_domains] == [second_domain]
    assert [d.domain for d in second_again] == [second_domain]
