"""The exact SQL queries of the pages bench/web.py measures, pinned so none is added silently.

When a change needs another query, raise the number here on purpose (the failure lists every
query); when it saves one, lower it.
"""

from __future__ import annotations

import pytest

from onboarding.models import CallingDomain, SecurityToken
from onboarding.services import tenant_creation
from onboarding.services.audit import Actor
from onboarding.services.tenant_creation import CallingDomainSpec
from tests.upload_support import invited_tenant, link_path

ADMIN_LIST = "/admin/onboarding/tenant/"

# the invitation with its tenant and gateway, then the tenant's customer-facing calling domains
# (at most 4: the page is opened a few times per customer, clarity wins over a statement saved)
UPLOAD_PAGE_QUERIES = 2
# the two reads above; then in one transaction: lock the tenant, consume the link, retire any
# current token, store the new one, the activation (conditional update, audit event: the upload
# holds the tenant's lock already), the customer-facing calling domains, the gateway (does it
# pull the feed?) and its usable API key, the email (inserted unless its idempotency key is
# recorded, then read); BEGIN, COMMIT (at most 16)
UPLOAD_POST_QUERIES = 15
# session, user, the session's second-factor device, gateways for the filter, one count, the
# page of tenants, their calling domains
ADMIN_LIST_QUERIES = 7

pytestmark = pytest.mark.django_db


def test_the_upload_page_costs_its_pinned_queries(client, django_assert_num_queries):
    path = link_path(invited_tenant())

    with django_assert_num_queries(UPLOAD_PAGE_QUERIES):
        response = client.get(path)

    assert response.status_code == 200
    assert b"Upload the token" in response.content


def test_an_upload_costs_its_pinned_queries(client, django_assert_num_queries):
    tenant = invited_tenant()
    path = link_path(tenant)

    with django_assert_num_queries(UPLOAD_POST_QUERIES):
        response = client.post(path, {"token": "a-valid-token", "trusted": "on"})

    assert response.status_code == 302
    assert SecurityToken.objects.filter(tenant=tenant).count() == 1


def tenants_of_every_kind(count: int, start: int = 0) -> None:
    """Tenants on onpexip.com, on an own domain and on the shared domain, in turn."""
    for number in range(start, start + count):
        spec = [
            CallingDomainSpec(option="onpexip", domain=f"t{number}"),
            CallingDomainSpec(option="own", domain=f"video.t{number}.test"),
            CallingDomainSpec(option="shared"),
        ][number % 3]
        tenant_creation.tenant_create(
            name=f"T{number}",
            main_contact_email=f"it@t{number}.test",
            calling_domains=[spec],
            actor=Actor.system("test"),
        )


def test_the_admin_tenant_list_costs_its_pinned_queries_at_any_size(
    staff_client, django_assert_num_queries
):
    tenants_of_every_kind(3)
    with django_assert_num_queries(ADMIN_LIST_QUERIES):
        few = staff_client.get(ADMIN_LIST)

    tenants_of_every_kind(57, start=3)  # more than one page (50)
    with django_assert_num_queries(ADMIN_LIST_QUERIES):
        many = staff_client.get(ADMIN_LIST)

    assert few.status_code == many.status_code == 200
    assert few.context["cl"].result_count == 3
    assert many.context["cl"].result_count == 60
    assert len(many.context["cl"].result_list) == 50
    assert CallingDomain.objects.filter(option="shared").count() == 20
