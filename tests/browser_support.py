"""Browser helpers shared by the CSP and accessibility tests: catch every Content Security Policy
violation a page causes, run axe-core inside a page, and open the customer pages in each state."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path

from django.test import Client
from django.utils import timezone

from onboarding.models import UploadInvitation
from onboarding.services import invitations, lifecycle, tenant_creation
from onboarding.services.audit import Actor
from onboarding.services.tenant_creation import CallingDomainSpec
from tests.upload_support import invited_tenant, link_path, shared_domain_tenant

REPO_ROOT = Path(__file__).resolve().parent.parent
# installed by scripts/test.sh (`npm install --no-save --no-package-lock axe-core`)
AXE_SOURCE = REPO_ROOT / "node_modules" / "axe-core" / "axe.min.js"

# Runs before any page script, in every document: records each violation the page reports.
LISTEN_FOR_VIOLATIONS = """
window.__cspViolations = [];
document.addEventListener("securitypolicyviolation", (e) => {
  window.__cspViolations.push(
    `${e.effectiveDirective} blocked ${e.blockedURI || "inline"} (${e.sourceFile}:${e.lineNumber})`
  );
});
"""


@dataclass
class ViolationLog:
    """CSP violations seen by the page's listener and in Chromium's console (the console also
    catches violations in sandboxed frames, where no listener script may run)."""

    console: list[str] = field(default_factory=list)

    def attach(self, page) -> None:
        page.add_init_script(LISTEN_FOR_VIOLATIONS)
        page.on("console", self._on_console)

    def _on_console(self, message) -> None:
        text = message.text
        if "Content Security Policy" in text or "Refused to" in text:
            self.console.append(text)

    def of(self, page) -> list[str]:
        """Everything the page and the console reported so far (the listener's list lives in
        the current document only, so read it before navigating away)."""
        page.wait_for_load_state("load")
        listened = page.evaluate("window.__cspViolations || []")
        return [*listened, *self.console]


def session_cookie(user, base_url: str) -> dict:
    """A logged-in staff session for the browser, with its second factor verified."""
    from tests.conftest import otp_verified_login

    client = otp_verified_login(Client(), user)
    cookie = client.cookies["sessionid"]
    return {"name": "sessionid", "value": cookie.value, "url": base_url}


# The customer pages, one per state a link can be in ------------------------------------------


def upload_page() -> str:
    return link_path(shared_domain_tenant())


def received_page() -> str:
    tenant = invited_tenant("Received")
    path = link_path(tenant)
    response = Client().post(path, {"token": "received-token-0123456789", "trusted": "on"})
    assert response.status_code == 302
    return path


def expired_page() -> str:
    path = link_path(invited_tenant("Expired"))
    UploadInvitation.objects.filter(tenant__name="Expired").update(
        expires_at=timezone.now() - timedelta(seconds=1)
    )
    return path


def revoked_page() -> str:
    tenant = invited_tenant("Revoked")
    path = link_path(tenant)
    invitations.invitation_issue(tenant=tenant)  # the newer link revokes this one
    return path


def suspended_page() -> str:
    tenant = invited_tenant("Suspended")
    path = link_path(tenant)
    lifecycle.tenant_suspend(tenant=tenant, actor=Actor.system("test"))
    return path


def tampered_link_page() -> str:
    path = link_path(invited_tenant("Tampered"))
    return path.replace("/upload/", "/upload/x", 1)


def unknown_page() -> str:
    return "/no-such-page/"


def dns_status_page() -> str:
    tenant = tenant_creation.tenant_create(
        name="Owndomain",
        main_contact_email="it@owndomain.test",
        token_upload_contacts=["admin@owndomain.test"],
        calling_domains=[CallingDomainSpec(option="own", domain="video.owndomain.test")],
        actor=Actor.system("test"),
    ).tenant
    return invitations.dns_status_url(tenant).removeprefix("http://testserver")


# page name -> (how to make it, the status it answers with)
CUSTOMER_PAGES = {
    "upload": (upload_page, 200),
    "received": (received_page, 200),
    "expired": (expired_page, 410),
    "revoked": (revoked_page, 410),
    "suspended": (suspended_page, 403),
    "tampered link (404)": (tampered_link_page, 404),
    "unknown page (404)": (unknown_page, 404),
    "DNS status": (dns_status_page, 200),
}


def axe_results(page, *, tags: tuple[str, ...] = ("wcag2a", "wcag2aa", "wcag21aa")) -> dict:
    """Run axe-core inside the page: its source goes through page.evaluate, since a script tag
    would be refused by the page's own CSP (as it should be)."""
    if not AXE_SOURCE.is_file():
        raise RuntimeError(f"{AXE_SOURCE} is missing: `make test` installs axe-core with npm")
    page.evaluate(AXE_SOURCE.read_text())
    options = json.dumps({"runOnly": {"type": "tag", "values": list(tags)}})
    return page.evaluate(f"axe.run(document, {options})")


def serious_violations(results: dict) -> list[str]:
    return [
        f"{v['id']} ({v['impact']}): {v['help']} at "
        + ", ".join(str(node["target"]) for node in v["nodes"][:5])
        for v in results["violations"]
        if v["impact"] in ("serious", "critical")
    ]
