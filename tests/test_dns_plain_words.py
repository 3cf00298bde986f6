"""DNS verdicts as customers read them (issue 17, item 5): plain words instead of resolver
jargon, and a table that shows every column on a 390 px phone."""

import pytest
from django.utils import timezone

from onboarding.dns import verdicts
from onboarding.dns.status_table import dns_status_table
from onboarding.models import CallingDomain, DnsCheck, DnsVerdict
from onboarding.services import invitations, tenant_creation
from onboarding.services.audit import Actor
from onboarding.services.tenant_creation import CallingDomainSpec

UNREACHABLE = "we could not reach any DNS server for this domain; we will try again"
NO_ANSWER = "your domain's DNS servers did not answer in time; we will try again"
AN_ERROR = "your domain's DNS servers answered with an error; we will try again"


@pytest.mark.parametrize(
    ("reason", "words"),
    [
        ("no name servers found, not even for the root", UNREACHABLE),
        ("no system resolver to find the name servers (no nameservers)", UNREACHABLE),
        ("could not find the name servers for video.acme.test. (timeout)", UNREACHABLE),
        ("no address found for the name servers of acme.test.", UNREACHABLE),
        ("no time left to find the name servers for video.acme.test.", UNREACHABLE),
        ("no answer from 192.0.2.53 (timeout)", NO_ANSWER),
        ("no server answered in time", NO_ANSWER),
        ("SERVFAIL from 192.0.2.53", AN_ERROR),
        ("a malformed answer (bad label)", AN_ERROR),
        ("the servers of acme.test. sent a referral, not an answer", AN_ERROR),
        ("", AN_ERROR),
    ],
)
def test_every_reason_a_lookup_gives_up_reads_as_plain_words(reason, words):
    assert verdicts.unknown_in_plain_words(reason) == words


@pytest.mark.parametrize(
    ("detail", "words"),
    [
        ("no such name", "nothing: this name does not exist in DNS"),
        ("no SRV record at this name", "nothing: no SRV record at this name"),
        ("the CNAME leads to a name that does not exist", "nothing: its CNAME leads nowhere"),
    ],
)
def test_a_missing_record_says_what_was_found_in_plain_words(detail, words):
    assert verdicts.missing_in_plain_words(detail) == words


def own_domain() -> CallingDomain:
    tenant = tenant_creation.tenant_create(
        name="Acme",
        main_contact_email="it@acme.test",
        calling_domains=[CallingDomainSpec(option="own", domain="video.acme.test")],
        actor=Actor.system("test"),
    ).tenant
    return CallingDomain.objects.get(tenant=tenant)


def unknown_everywhere(calling_domain: CallingDomain, reason: str) -> None:
    for record in calling_domain.expected_records():
        DnsCheck.objects.update_or_create(
            calling_domain=calling_domain,
            record_name=record.name,
            record_type=record.rdtype,
            defaults={
                "expected_value": record.value,
                "verdict": DnsVerdict.UNKNOWN,
                "detail": reason,
                "checked_at": timezone.now(),
            },
        )


@pytest.mark.django_db
def test_the_customers_dns_page_says_unknown_in_plain_words(client):
    calling_domain = own_domain()
    unknown_everywhere(calling_domain, "no name servers found, not even for the root")
    path = invitations.dns_status_url(calling_domain.tenant).removeprefix("http://testserver")

    page = client.get(path).content.decode()

    assert UNREACHABLE in page
    assert "not even for the root" not in page
    assert "no answer yet" in page  # the verdict itself, for a reader


@pytest.mark.django_db
def test_the_table_rows_carry_plain_words_and_keep_the_detail_for_staff():
    calling_domain = own_domain()
    unknown_everywhere(calling_domain, "SERVFAIL from 192.0.2.53")

    [row, *_rest] = dns_status_table(calling_domain)

    assert row.customer_found == AN_ERROR
    assert row.customer_verdict == "no answer yet"
    assert row.found == "SERVFAIL from 192.0.2.53"  # what staff see, unchanged


@pytest.fixture
def dns_page_on_a_phone(browser, live_server):
    calling_domain = own_domain()
    unknown_everywhere(calling_domain, "no name servers found, not even for the root")
    context = browser.new_context(viewport={"width": 390, "height": 844}, is_mobile=True)
    page = context.new_page()
    path = invitations.dns_status_url(calling_domain.tenant).removeprefix("http://testserver")
    page.goto(live_server.url + path)
    yield page
    context.close()


def test_the_dns_table_shows_every_column_at_390_px(dns_page_on_a_phone):
    page = dns_page_on_a_phone

    cells = page.locator(".dns-table tbody tr").first.locator("td")
    assert cells.count() == 5
    for i in range(5):
        box = cells.nth(i).bounding_box()
        assert cells.nth(i).is_visible()
        assert box["x"] >= 0 and box["x"] + box["width"] <= 390, (i, box)
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    labels = [
        cells.nth(i).evaluate("td => getComputedStyle(td, '::before').content") for i in range(5)
    ]
    assert labels == ['"Record"', '"Expected"', '"Found"', '"Result"', '"What to do"']
