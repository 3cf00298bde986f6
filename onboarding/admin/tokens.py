"""The token side of the tenant page: fingerprints and history, new links, revocation.

Staff never see a token: only its keyed fingerprint, when it came and from where.
"""

from __future__ import annotations

from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils.html import format_html, format_html_join

from onboarding.admin.common import TenantAdminMixinBase, staff_actor, user_may
from onboarding.models import Tenant
from onboarding.services import tokens
from onboarding.services.audit import TransitionRefused


class TokenAdminMixin(TenantAdminMixinBase):
    """Mixed into TenantAdmin: a read-only token panel and two actions."""

    def has_issue_upload_link_permission(self, request: HttpRequest) -> bool:
        return user_may(request, "issue_upload_link")

    def has_revoke_token_permission(self, request: HttpRequest) -> bool:
        return user_may(request, "revoke_token")

    @admin.display(description="Security token")
    def token_panel(self, tenant: Tenant) -> str:
        history = list(tenant.tokens.all()[:20])
        if not history:
            return "No token uploaded yet."
        rows = format_html_join(
            "",
            "<tr><td><code>{}</code></td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
            (
                (
                    token.fingerprint,
                    token.get_state_display(),
                    f"{token.uploaded_at:%Y-%m-%d %H:%M:%S}",
                    token.source_ip or "",
                    f"{token.gateway_has_token_at:%Y-%m-%d %H:%M:%S}"
                    if token.gateway_has_token_at
                    else "not yet",
                )
                for token in history
            ),
        )
        return format_html(
            '<table class="token-history"><thead><tr><th>Fingerprint</th><th>State</th>'
            "<th>Uploaded (UTC)</th><th>From IP</th><th>Gateway has it since (UTC)</th>"
            "</tr></thead>"
            "<tbody>{}</tbody></table>",
            rows,
        )

    @admin.action(
        description="Issue a new upload link (emailed; earlier links stop working)",
        permissions=["issue_upload_link"],
    )
    def issue_upload_links(self, request: HttpRequest, queryset: QuerySet) -> None:
        for tenant in queryset:
            try:
                issued = tokens.upload_link_reissue(tenant=tenant, actor=staff_actor(request))
            except TransitionRefused as refusal:
                self.message_user(request, refusal.message, messages.ERROR)
                continue
            # Shown this once so staff can paste it into a ticket; it is stored nowhere.
            self.message_user(
                request,
                format_html(
                    "A new link for {} was emailed to {}. Copy it now if you need it: "
                    '<code class="upload-link">{}</code>',
                    tenant.name,
                    ", ".join(tenant.token_upload_recipients),
                    issued.url,
                ),
                messages.SUCCESS,
            )

    @admin.action(
        description="Revoke the token (back to invited; a new link is emailed)",
        permissions=["revoke_token"],
    )
    def revoke_tokens(self, request: HttpRequest, queryset: QuerySet) -> None:
        for tenant in queryset:
            try:
                tokens.token_revoke(tenant=tenant, actor=staff_actor(request))
            except TransitionRefused as refusal:
                self.message_user(request, refusal.message, messages.ERROR)
            else:
                self.message_user(
                    request,
                    f"{tenant.name}'s token was revoked; a new upload link was emailed.",
                    messages.SUCCESS,
                )
