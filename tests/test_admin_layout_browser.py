"""The tenant's admin page in Debian's Chromium at 1280 px: the calling-domain inline and the DNS
verdict table fit (no column cut off or scrolled out of sight), the shared domain's default
shows at once, and the page's screenshot for the README (docs/screenshots/).

`UPDATE_SCREENSHOTS=1 make test ARGS=tests/test_admin_layout_browser.py` rewrites the committed
screenshot; without it the screenshot goes to a temporary folder, so a test run changes no file.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from django.urls import reverse

from onboarding.dns import sweep
from onboarding.services import tenant_creation
from onboarding.services.audit import Actor
from onboarding.services.tenant_creation import CallingDomainSpec
from tests.browser_support import REPO_ROOT, session_cookie

pytestmark = pytest.mark.django_db(transaction=True)

WIDTH = 1280
OLD_GATEWAY = "old-video-gateway.legacy-provider.test."
SCREENSHOTS = REPO_ROOT / "docs" / "screenshots"

# Every table on the page whose right edge or hidden overflow would cut columns off.
OVERFLOWING_TABLES = """
() => {
  const width = document.documentElement.clientWidth;
  const out = [];
  for (const table of document.querySelectorAll(
      "#calling_domains-group table, table.dns-checks")) {
    const box = table.getBoundingClientRect();
    const holder = table.parentElement;
    if (box.right > width + 1 || holder.scrollWidth > holder.clientWidth + 1) {
      out.push(`${table.className || holder.id}: right ${Math.round(box.right)} of ${width}, ` +
               `content ${holder.scrollWidth} in ${holder.clientWidth}`);
    }
  }
  if (document.documentElement.scrollWidth > width + 1) {
    out.push(`page: ${document.documentElement.scrollWidth} wide in ${width}`);
  }
  return out;
}
"""


def own_and_shared_tenant():
    """Two own domains with long names and a mismatching record: the widest the page gets."""
    return tenant_creation.tenant_create(
        name="Acme Video Conferencing International",
        main_contact_email="it@acme.test",
        calling_domains=[
            CallingDomainSpec(option="own", domain="meet-video.subsidiary-one.acme-corp.test"),
            CallingDomainSpec(option="onpexip", domain="acme-international"),
        ],
        actor=Actor.system("test"),
    ).tenant


def publish_with_a_mismatch(server, tenant) -> None:
    own = tenant.calling_domains.in_use().own().get()
    for record in own.expected_records():
        if record.name.startswith("_sips"):
            server.add(f"{record.name} 300 IN SRV 10 60 5061 {OLD_GATEWAY}")
        elif record.rdtype == "SRV":
            server.add(record.zone_line)


@pytest.fixture
def admin_page(browser, live_server, staff_user):
    context = browser.new_context(viewport={"width": WIDTH, "height": 900})
    context.add_cookies([session_cookie(staff_user, live_server.url)])
    page = context.new_page()
    yield page
    context.close()


def test_the_calling_domains_and_dns_verdicts_fit_1280_px(admin_page, live_server, dns_server):
    tenant = own_and_shared_tenant()
    publish_with_a_mismatch(dns_server, tenant)
    sweep.dns_sweep()

    admin_page.goto(live_server.url + reverse("admin:onboarding_tenant_change", args=[tenant.pk]))

    assert admin_page.evaluate(OVERFLOWING_TABLES) == []
    assert admin_page.locator("table.dns-checks td.verdict").first.is_visible()


def test_choosing_the_shared_domain_shows_short_ids_at_once(admin_page, live_server):
    admin_page.goto(live_server.url + reverse("admin:onboarding_tenant_add"))

    admin_page.select_option('select[name="calling_domains-0-option"]', "shared")

    length = admin_page.locator('select[name="calling_domains-0-meeting_id_length"]')
    assert length.input_value() == "short"


def test_the_tenant_page_screenshot_at_1280_px(admin_page, live_server, dns_server, tmp_path):
    tenant = own_and_shared_tenant()
    publish_with_a_mismatch(dns_server, tenant)
    sweep.dns_sweep()
    folder = SCREENSHOTS if os.environ.get("UPDATE_SCREENSHOTS") else tmp_path

    admin_page.goto(live_server.url + reverse("admin:onboarding_tenant_change", args=[tenant.pk]))
    shot = tenant_page_screenshot(admin_page, folder)

    assert shot.stat().st_size > 10_000


def tenant_page_screenshot(page, folder: Path) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    shot = folder / "tenant-admin-1280.png"
    page.screenshot(path=str(shot), full_page=True)
    return shot
