"""The staff admin for tenants, driven through its own URLs against PostgreSQL."""

import pytest
from django.contrib.messages import get_messages
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from onboarding.models import AuditEvent, CallingDomain, Gateway, Tenant, TenantStatus
from onboarding.services import lifecycle, tenant_creation
from onboarding.services.audit import Actor
from onboarding.services.tenant_creation import CallingDomainSpec

pytestmark = pytest.mark.django_db

ADD_URL = reverse("admin:onboarding_tenant_add")
LIST_URL = reverse("admin:onboarding_tenant_changelist")


def tenant_form(name="Acme", domains=(), **overrides):
    """POST data for the tenant add form with its calling-domain inline."""
    data = {
        "name": name,
        "main_contact_email": "it@acme.test",
        "token_upload_contacts": "",
        "service_notification_contacts": "",
        "gateway": str(Gateway.objects.get(is_default=True).pk),
        "access_scope": "whole",
        "access_scope_units": "",
        "teams_interop_domains": "",
        "calling_domains-TOTAL_FORMS": str(len(domains)),
        "calling_domains-INITIAL_FORMS": "0",
        "calling_domains-MIN_NUM_FORMS": "1",
        "calling_domains-MAX_NUM_FORMS": "1000",
    }
    for index, domain in enumerate(domains):
        row = {"meeting_id_length": "long", "prefix": "", "domain": "", **domain}
        for key, value in row.items():
            if key == "sfb_additional_gateway":
                if value:
                    data[f"calling_domains-{index}-{key}"] = "on"
            else:
                data[f"calling_domains-{index}-{key}"] = value
    data.update(overrides)
    return data


def make_tenant(name, option="onpexip", domain="acme", length="long", prefix=""):
    spec = CallingDomainSpec(option=option, domain=domain, meeting_id_length=length, prefix=prefix)
    return tenant_creation.tenant_create(
        name=name,
        main_contact_email=f"it@{name.lower()}.test",
        calling_domains=[spec],
        actor=Actor.system("test"),
    ).tenant


def messages_of(response):
    return [str(m) for m in get_messages(response.wsgi_request)]


def test_staff_create_an_own_domain_tenant_that_waits_for_dns(staff_client):
    data = tenant_form(domains=[{"option": "own", "domain": "Video.Bücher.example."}])

    response = staff_client.post(ADD_URL, data)

    assert response.status_code == 302
    tenant = Tenant.objects.get(name="Acme")
    assert tenant.status == TenantStatus.DNS_PENDING
    assert tenant.calling_domains.get().domain == "video.xn--bcher-kva.example"
    actions = list(tenant.audit_events.order_by("id").values_list("action", "actor_label"))
    assert actions[0] == ("created", "staff")
    assert ("dns_pending", "staff") in actions


def test_a_shared_domain_tenant_gets_a_prefix_a_warning_and_a_badge(staff_client):
    data = tenant_form(domains=[{"option": "shared", "meeting_id_length": "short"}])

    response = staff_client.post(ADD_URL, data, follow=True)

    calling_domain = CallingDomain.objects.get(tenant__name="Acme")
    assert calling_domain.domain == "gmeet.pexip.me"
    assert 8000 <= int(calling_domain.prefix) <= 8999
    assert any("legacy option" in m for m in messages_of(response))
    listing = staff_client.get(LIST_URL).content.decode()
    assert "deprecated setting" in listing
    assert f"prefix {calling_domain.prefix}" in listing


def test_a_shared_domain_row_saved_with_the_form_defaults_gets_short_ids(staff_client):
    # the form's default length is long (recommended everywhere else); shared is short only
    data = tenant_form(domains=[{"option": "shared"}])

    response = staff_client.post(ADD_URL, data)

    assert response.status_code == 302
    calling_domain = CallingDomain.objects.get(tenant__name="Acme")
    assert (calling_domain.meeting_id_length, len(calling_domain.prefix)) == ("short", 4)


def test_a_live_shared_domain_still_cannot_move_to_long_ids(staff_client):
    from tests.live_support import edit_data

    tenant = invited_shared_tenant()

    response = staff_client.post(
        reverse("admin:onboarding_tenant_change", args=[tenant.pk]),
        edit_data(tenant, meeting_id_length="long", prefix=""),
        follow=True,
    )

    assert "short meeting IDs only" in response.content.decode()
    assert CallingDomain.objects.get(tenant=tenant).meeting_id_length == "short"


def invited_shared_tenant():
    from tests.upload_support import shared_domain_tenant

    return shared_domain_tenant("Globex")


def test_the_add_page_has_no_dns_or_ownership_code_column(staff_client):
    html = staff_client.get(ADD_URL).content.decode()

    assert "Ownership code" not in html
    assert "column-dns_state" not in html


def test_dns_and_ownership_code_show_only_for_own_domains(staff_client):
    shared = make_tenant("Sharedco", option="shared", domain="", length="short")
    own = make_tenant("Ownco", option="own", domain="video.ownco.test")

    shared_page = staff_client.get(reverse("admin:onboarding_tenant_change", args=[shared.pk]))
    own_page = staff_client.get(reverse("admin:onboarding_tenant_change", args=[own.pk]))

    assert "Ownership code" not in shared_page.content.decode()
    assert "not needed" not in shared_page.content.decode()
    code = CallingDomain.objects.get(tenant=own).ownership_code
    assert code in own_page.content.decode()
    assert "not verified yet" in own_page.content.decode()


def test_the_dns_section_shows_only_for_a_tenant_with_an_own_domain(staff_client):
    shared = make_tenant("Sharedco", option="shared", domain="", length="short")
    own = make_tenant("Ownco", option="own", domain="video.ownco.test")

    shared_page = staff_client.get(reverse("admin:onboarding_tenant_change", args=[shared.pk]))
    own_page = staff_client.get(reverse("admin:onboarding_tenant_change", args=[own.pk]))

    assert "field-dns_records" not in shared_page.content.decode()
    assert "field-dns_records" in own_page.content.decode()


def test_the_calling_domain_form_loads_the_shared_domain_default_script(staff_client):
    html = staff_client.get(ADD_URL).content.decode()

    assert "onboarding/calling_domain_defaults.js" in html


def test_short_ids_on_a_subdomain_are_saved_with_a_warning(staff_client):
    data = tenant_form(
        domains=[
            {"option": "onpexip", "domain": "acme", "meeting_id_length": "short", "prefix": "42"}
        ]
    )

    response = staff_client.post(ADD_URL, data, follow=True)

    assert CallingDomain.objects.get().prefix == "42"
    assert any("Short meeting IDs are deprecated" in m for m in messages_of(response))


@pytest.mark.parametrize(
    ("domain_row", "message"),
    [
        ({"option": "own", "domain": "192.0.2.1"}, "is an IP address"),
        ({"option": "own", "domain": "acme.onpexip.com"}, "belongs to the provider"),
        ({"option": "onpexip", "domain": "a.b"}, "exactly one label"),
        (
            {"option": "onpexip", "domain": "acme", "prefix": "12"},
            "Long meeting IDs take no prefix",
        ),
        (
            {"option": "shared", "meeting_id_length": "short", "sfb_additional_gateway": True},
            "leave the additional Skype for Business gateway off",
        ),
        ({"option": "own", "domain": "x" * 64 + ".example"}, "at most 63 characters"),
    ],
)
def test_rule_violations_show_on_the_form_and_save_nothing(staff_client, domain_row, message):
    response = staff_client.post(ADD_URL, tenant_form(domains=[domain_row]))

    assert response.status_code == 200
    assert message in response.content.decode()
    assert not Tenant.objects.exists()


def test_a_tenant_needs_a_calling_domain(staff_client):
    response = staff_client.post(ADD_URL, tenant_form(domains=[]))

    assert response.status_code == 200
    assert not Tenant.objects.exists()


def test_a_domain_of_another_tenant_is_refused_case_insensitively(staff_client):
    make_tenant("Other", option="own", domain="video.example.com")

    response = staff_client.post(
        ADD_URL, tenant_form(domains=[{"option": "own", "domain": "VIDEO.example.com"}])
    )

    assert response.status_code == 200
    assert "already a calling domain of tenant Other" in response.content.decode()
    assert Tenant.objects.count() == 1


def test_a_teams_interop_domain_cannot_be_a_calling_domain(staff_client):
    data = tenant_form(
        domains=[{"option": "own", "domain": "video.acme.test"}],
        teams_interop_domains="video.acme.test",
    )

    response = staff_client.post(ADD_URL, data)

    assert response.status_code == 200
    assert "Teams video interop domain" in response.content.decode()
    assert not Tenant.objects.exists()


def test_the_same_domain_twice_in_one_tenant_is_refused(staff_client):
    row = {"option": "onpexip", "domain": "acme"}
    response = staff_client.post(ADD_URL, tenant_form(domains=[row, row]))

    assert response.status_code == 200
    assert "is listed twice" in response.content.decode()


def test_tenant_names_are_unique_case_insensitively(staff_client):
    make_tenant("Acme")

    response = staff_client.post(
        ADD_URL, tenant_form(name="ACME", domains=[{"option": "onpexip", "domain": "acme2"}])
    )

    assert response.status_code == 200
    assert "already exists" in response.content.decode()


def test_header_injection_in_contacts_is_refused(staff_client):
    data = tenant_form(
        domains=[{"option": "onpexip", "domain": "acme"}],
        token_upload_contacts="a@acme.test\r\nBcc: victim@evil.test",
    )

    response = staff_client.post(ADD_URL, data)

    assert response.status_code == 200
    assert "Not an email address" in response.content.decode()


def test_contact_lists_are_saved_as_lists(staff_client):
    data = tenant_form(
        domains=[{"option": "onpexip", "domain": "acme"}],
        token_upload_contacts="a@acme.test, b@acme.test\nA@acme.test",
    )

    staff_client.post(ADD_URL, data)

    assert Tenant.objects.get().token_upload_contacts == ["a@acme.test", "b@acme.test"]


def test_the_list_shows_state_domains_gateway_and_days_in_state(staff_client):
    tenant = make_tenant("Acme")
    Tenant.objects.filter(pk=tenant.pk).update(
        status_changed_at=timezone.now() - timezone.timedelta(days=5)
    )

    page = staff_client.get(LIST_URL).content.decode()

    assert "acme.onpexip.com" in page
    assert "Draft" in page
    assert "Default gateway" in page
    assert '<td class="field-days_in_state">5</td>' in page


def test_the_list_filters_by_status_and_option_and_searches_contacts(staff_client):
    make_tenant("Acme")
    own = make_tenant("Globex", option="own", domain="video.globex.test")

    by_status = staff_client.get(LIST_URL, {"status__exact": "dns_pending"})
    by_option = staff_client.get(LIST_URL, {"calling_domains__option__exact": "own"})
    by_contact = staff_client.get(LIST_URL, {"q": "it@globex"})
    by_domain = staff_client.get(LIST_URL, {"q": "video.globex"})

    for response in (by_status, by_option, by_contact, by_domain):
        assert list(response.context["cl"].result_list) == [own]


def test_the_list_costs_the_same_queries_for_5_and_50_tenants(staff_client):
    def queries_for_list():
        with CaptureQueriesContext(connection) as captured:
            assert staff_client.get(LIST_URL).status_code == 200
        return len(captured)

    for number in range(5):
        make_tenant(f"T{number}", domain=f"t{number}")
    few = queries_for_list()
    for number in range(5, 50):
        make_tenant(f"T{number}", domain=f"t{number}")

    assert queries_for_list() == few


def test_enable_action_moves_a_draft_tenant_and_refuses_unverified_dns(staff_client):
    draft = make_tenant("Acme")
    waiting = make_tenant("Globex", option="own", domain="video.globex.test")

    response = staff_client.post(
        LIST_URL,
        {"action": "enable_tenants", "_selected_action": [draft.pk, waiting.pk]},
        follow=True,
    )

    draft.refresh_from_db()
    waiting.refresh_from_db()
    assert draft.status == TenantStatus.INVITED
    assert waiting.status == TenantStatus.DNS_PENDING
    assert any("DNS for video.globex.test is not verified" in m for m in messages_of(response))


def test_suspend_and_resume_actions_return_to_the_earlier_state(staff_client):
    tenant = make_tenant("Acme")
    lifecycle.tenant_enable(tenant=tenant, actor=Actor.system())

    staff_client.post(LIST_URL, {"action": "suspend_tenants", "_selected_action": [tenant.pk]})
    tenant.refresh_from_db()
    assert tenant.status == TenantStatus.SUSPENDED
    staff_client.post(LIST_URL, {"action": "resume_tenants", "_selected_action": [tenant.pk]})

    tenant.refresh_from_db()
    assert tenant.status == TenantStatus.INVITED
    assert list(
        AuditEvent.objects.filter(tenant=tenant, action__in=["suspended", "resumed"])
        .order_by("id")
        .values_list("action", "from_status", "to_status")
    ) == [("suspended", "invited", "suspended"), ("resumed", "suspended", "invited")]


def test_tenants_cannot_be_deleted(staff_client):
    tenant = make_tenant("Acme")

    delete_page = staff_client.get(reverse("admin:onboarding_tenant_delete", args=[tenant.pk]))
    listing = staff_client.get(LIST_URL).content.decode()

    assert delete_page.status_code == 403
    assert "delete_selected" not in listing
    assert Tenant.objects.filter(pk=tenant.pk).exists()


def test_the_tenant_page_shows_the_audit_trail_read_only(staff_client):
    tenant = make_tenant("Acme")
    lifecycle.tenant_enable(tenant=tenant, actor=Actor.system("scheduler"))

    page = staff_client.get(reverse("admin:onboarding_tenant_change", args=[tenant.pk]))

    html = page.content.decode()
    assert 'class="audit-trail"' in html
    assert "draft → invited" in html
    assert "scheduler" in html
    assert 'name="audit_trail"' not in html


def test_editing_a_tenant_keeps_its_prefix_and_records_the_change(staff_client):
    tenant = make_tenant("Acme", option="shared", domain="", length="short")
    calling_domain = tenant.calling_domains.get()
    data = tenant_form(name="Acme Corp", domains=[])
    data.update(
        {
            "calling_domains-TOTAL_FORMS": "1",
            "calling_domains-INITIAL_FORMS": "1",
            "calling_domains-0-id": str(calling_domain.pk),
            "calling_domains-0-tenant": str(tenant.pk),
            "calling_domains-0-option": "shared",
            "calling_domains-0-domain": "gmeet.pexip.me",
            "calling_domains-0-meeting_id_length": "short",
            "calling_domains-0-prefix": "1234",
            "emails-TOTAL_FORMS": "0",
            "emails-INITIAL_FORMS": "0",
        }
    )

    response = staff_client.post(reverse("admin:onboarding_tenant_change", args=[tenant.pk]), data)

    assert response.status_code == 200
    assert "never changes" in response.content.decode()
    data["calling_domains-0-prefix"] = calling_domain.prefix
    assert (
        staff_client.post(
            reverse("admin:onboarding_tenant_change", args=[tenant.pk]), data
        ).status_code
        == 302
    )
    tenant.refresh_from_db()
    assert tenant.name == "Acme Corp"
    assert tenant.audit_events.filter(action="changed").exists()


def test_staff_can_edit_gateways_but_not_delete_the_default(staff_client):
    default = Gateway.objects.get(is_default=True)
    response = staff_client.post(
        reverse("admin:onboarding_gateway_add"),
        {"name": "Second", "ip_address": "198.51.100.7", "hostname": "GW2.Provider.test."},
    )

    assert response.status_code == 302
    assert Gateway.objects.get(name="Second").hostname == "gw2.provider.test"
    assert (
        staff_client.get(reverse("admin:onboarding_gateway_delete", args=[default.pk])).status_code
        == 403
    )


def test_a_gateway_needs_an_ipv4_address(staff_client):
    response = staff_client.post(
        reverse("admin:onboarding_gateway_add"),
        {"name": "Bad", "ip_address": "2001:db8::1", "hostname": "gw.provider.test"},
    )

    assert response.status_code == 200
    assert not Gateway.objects.filter(name="Bad").exists()


def test_a_five_digit_prefix_is_refused_whole_not_cut_to_four():
    from onboarding.admin.live_changes import CallingDomainForm

    form = CallingDomainForm(
        data={
            "option": "onpexip",
            "domain": "acme",
            "meeting_id_length": "short",
            "prefix": "12345",
        }
    )

    assert 'maxlength="4"' not in str(form["prefix"])
    assert not form.is_valid()
    assert "at most 4 digits; 12345 has 5" in str(form.errors["prefix"])
