"""Audit: staff changes to tenants, calling domains and gateways are kept with who, when, old and
new values (django-simple-history), merged with the lifecycle events into one timeline on the
tenant page, and exported as CSV at a permission-checked admin URL."""

from __future__ import annotations

import csv
import io

import pytest
from django.apps import apps
from django.contrib.auth.models import Permission
from django.urls import reverse

from onboarding.models import Gateway, Tenant
from onboarding.selectors import timeline
from onboarding.services import lifecycle
from onboarding.services.audit import Actor
from tests.conftest import otp_verified_login
from tests.test_admin_tenants import make_tenant, tenant_form

pytestmark = pytest.mark.django_db


def edit_tenant(client, tenant, **changes):
    calling_domain = tenant.calling_domains.get()
    data = tenant_form(name=tenant.name, domains=[])
    data.update(
        {
            "main_contact_email": tenant.main_contact_email,
            "calling_domains-TOTAL_FORMS": "1",
            "calling_domains-INITIAL_FORMS": "1",
            "calling_domains-0-id": str(calling_domain.pk),
            "calling_domains-0-tenant": str(tenant.pk),
            "calling_domains-0-option": calling_domain.option,
            "calling_domains-0-domain": calling_domain.domain.split(".")[0],
            "calling_domains-0-meeting_id_length": calling_domain.meeting_id_length,
            "calling_domains-0-prefix": calling_domain.prefix,
            "emails-TOTAL_FORMS": "0",
            "emails-INITIAL_FORMS": "0",
        }
    )
    data.update(changes)
    response = client.post(reverse("admin:onboarding_tenant_change", args=[tenant.pk]), data)
    assert response.status_code == 302, response.content.decode()[:2000]
    return response


def csv_rows(response):
    return list(csv.DictReader(io.StringIO(response.content.decode())))


def test_a_staff_edit_is_kept_with_who_and_old_and_new_values(staff_client):
    tenant = make_tenant("Acme")

    edit_tenant(staff_client, tenant, name="Acme Corp", main_contact_email="boss@acme.test")

    record = Tenant.history.filter(id=tenant.pk).latest("history_date")
    assert record.history_user.username == "staff"
    [entry] = [e for e in timeline.tenant_timeline(tenant) if e.what == "changed"]
    assert entry.who == "staff"
    assert {str(c) for c in entry.changes} == {
        "name: Acme -> Acme Corp",
        "main contact email: it@acme.test -> boss@acme.test",
    }


def test_a_calling_domain_edit_is_kept(staff_client):
    tenant = make_tenant("Acme")

    edit_tenant(staff_client, tenant, **{"calling_domains-0-domain": "acme-video"})

    changes = [
        str(change)
        for entry in timeline.tenant_timeline(tenant)
        if entry.subject.startswith("calling domain")
        for change in entry.changes
    ]
    assert "domain: acme.onpexip.com -> acme-video.onpexip.com" in changes


def test_the_tenant_page_merges_changes_and_lifecycle_events_newest_first(staff_client):
    tenant = make_tenant("Acme")
    edit_tenant(staff_client, tenant, name="Acme Corp")
    lifecycle.tenant_enable(tenant=Tenant.objects.get(pk=tenant.pk), actor=Actor.system("sched"))

    html = staff_client.get(reverse("admin:onboarding_tenant_change", args=[tenant.pk])).content
    html = html.decode()

    enabled = html.index("draft → invited")
    renamed = html.index("name: Acme → Acme Corp")
    created = html.rindex("created")
    assert enabled < renamed < created
    assert "timeline-export" in html


def test_the_csv_export_holds_the_whole_timeline_newest_first(staff_client):
    tenant = make_tenant("Acme")
    edit_tenant(staff_client, tenant, name="Acme Corp")
    lifecycle.tenant_enable(tenant=Tenant.objects.get(pk=tenant.pk), actor=Actor.system("sched"))

    response = staff_client.get(reverse("admin:onboarding_tenant_timeline_csv", args=[tenant.pk]))

    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    assert "attachment" in response["Content-Disposition"]
    rows = csv_rows(response)
    assert list(rows[0]) == timeline.CSV_COLUMNS
    assert rows[0]["kind"] == "event"
    assert "status: draft -> invited" in rows[0]["changes"]
    assert any(r["who"] == "staff" and "Acme -> Acme Corp" in r["changes"] for r in rows)
    assert [r["when_utc"] for r in rows] == sorted((r["when_utc"] for r in rows), reverse=True)


def test_the_csv_export_neutralises_spreadsheet_formulas(staff_client):
    tenant = make_tenant("Acme")
    edit_tenant(staff_client, tenant, name="=HYPERLINK(1)")

    response = staff_client.get(reverse("admin:onboarding_tenant_timeline_csv", args=[tenant.pk]))
    rows = csv_rows(response)

    assert response.status_code == 200
    assert any("HYPERLINK(1)" in row["changes"] for row in rows)  # the cell is there...
    assert all(not value.startswith("=") for row in rows for value in row.values())  # ...defused


def test_the_csv_export_needs_the_export_permission(client, django_user_model):
    tenant = make_tenant("Acme")
    user = django_user_model.objects.create_user("viewer", password="x", is_staff=True)
    user.user_permissions.add(Permission.objects.get(codename="view_tenant"))
    otp_verified_login(client, user)
    url = reverse("admin:onboarding_tenant_timeline_csv", args=[tenant.pk])

    refused = client.get(url)
    user.user_permissions.add(Permission.objects.get(codename="export_timeline"))
    allowed = client.get(url)

    assert refused.status_code == 403
    assert allowed.status_code == 200


def test_a_gateway_change_is_kept_with_its_history_page(staff_client):
    gateway = Gateway.objects.get(is_default=True)

    staff_client.post(
        reverse("admin:onboarding_gateway_change", args=[gateway.pk]),
        {"name": gateway.name, "ip_address": "198.51.100.20", "hostname": gateway.hostname},
    )

    record = gateway.history.latest("history_date")
    delta = record.diff_against(record.prev_record)
    assert [(c.field, c.old, c.new) for c in delta.changes] == [
        ("ip_address", "192.0.2.10", "198.51.100.20")
    ]
    assert record.history_user.username == "staff"
    history_page = staff_client.get(reverse("admin:onboarding_gateway_history", args=[gateway.pk]))
    assert history_page.status_code == 200
    assert "198.51.100.20" in history_page.content.decode()


def test_no_history_model_keeps_a_secret():
    history_models = [
        m for m in apps.get_app_config("onboarding").get_models() if "Historical" in m.__name__
    ]

    fields = {f.name for model in history_models for f in model._meta.get_fields()}

    assert {m.__name__ for m in history_models} == {
        "HistoricalTenant",
        "HistoricalCallingDomain",
        "HistoricalGateway",
    }
    secret_words = ("ciphertext", "secret", "nonce", "key_hash", "password")
    assert [f for f in fields if f == "token" or any(word in f for word in secret_words)] == []
    assert "next_check_at" not in fields  # scheduler bookkeeping is not a staff change
