"""Writing many rows at once (onboarding/batch_sql.py): the upsert both ways, and the array
filter that replaces one placeholder per value."""

from datetime import UTC, datetime, timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from onboarding import batch_sql
from onboarding.batch_sql import AnyOf
from onboarding.models import CallingDomain, DnsCheck, OutboundEmail, Tenant
from onboarding.services import tenant_creation
from onboarding.services.audit import Actor
from onboarding.services.tenant_creation import CallingDomainSpec

pytestmark = pytest.mark.django_db

NOW = datetime(2030, 1, 2, 12, 0, tzinfo=UTC)


def tenants(*names):
    return [
        tenant_creation.tenant_create(
            name=name,
            main_contact_email=f"it@{name.lower()}.test",
            calling_domains=[CallingDomainSpec(option="own", domain=f"video.{name.lower()}.test")],
            actor=Actor.system("test"),
            now=NOW,
        ).tenant
        for name in names
    ]


@pytest.mark.parametrize("insert", [batch_sql._insert_postgresql, batch_sql._insert_orm])
def test_both_ways_of_writing_rows_insert_then_rewrite_the_row(insert):
    [tenant] = tenants("Acme")
    row = {
        "calling_domain_id": tenant.calling_domains.get().pk,
        "record_name": "_sip._tcp.video.acme.test.",
        "record_type": "SRV",
        "expected_value": "x",
        "verdict": "missing",
        "found": [],
    }
    later = {**row, "verdict": "ok", "found": ["10 10 5060 gw."]}
    unique, update = ["calling_domain_id", "record_name", "record_type"], ["verdict", "found"]
    later_at = NOW + timedelta(hours=1)

    insert(DnsCheck, [row], {"checked_at": NOW, "detail": ""}, unique, update)
    insert(
        DnsCheck, [later], {"checked_at": later_at, "detail": ""}, unique, [*update, "checked_at"]
    )

    [check] = DnsCheck.objects.all()
    assert (check.verdict, check.found, check.checked_at) == ("ok", ["10 10 5060 gw."], later_at)


def test_any_of_finds_exactly_the_rows_listed_with_one_parameter():
    acme, _globex, initech = tenants("Acme", "Globex", "Initech")

    with CaptureQueriesContext(connection) as queries:
        found = set(Tenant.objects.filter(AnyOf("pk", [acme.pk, initech.pk])))

    assert found == {acme, initech}
    assert "= ANY(" in queries[0]["sql"]


def test_any_of_an_empty_list_finds_nothing_and_updates_nothing():
    tenants("Acme")

    assert not Tenant.objects.filter(AnyOf("pk", []))
    assert CallingDomain.objects.filter(AnyOf("pk", [])).update(next_check_at=NOW) == 0


def test_any_of_elsewhere_is_a_plain_in_list():
    query = Tenant.objects.filter(AnyOf("pk", [3, 5])).query
    compiler = query.get_compiler(connection=connection)

    sql, params = query.where.children[0].as_sql(compiler, connection)

    assert sql.endswith("IN (%s, %s)")
    assert params == [3, 5]


def test_an_insert_unless_present_refuses_a_model_with_database_computed_fields(monkeypatch):
    field = OutboundEmail._meta.get_field("subject")
    monkeypatch.setattr(field, "has_db_default", lambda: True)

    with pytest.raises(TypeError, match="database-computed"):
        batch_sql.insert_unless_present(
            OutboundEmail(idempotency_key="k", subject="s"), "idempotency_key"
        )
    assert not OutboundEmail.objects.exists()
