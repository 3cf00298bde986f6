"""A row of buttons on a tenant's admin page for the actions staff would otherwise reach through
list -> tick -> action -> Go.

Each button is a `PageAction`: it names a list action of TenantAdmin and runs that very action
on a one-tenant queryset, so the permission it needs, the service it calls, its messages and its
audit events are the list action's own (one home per rule). A button is shown only when the
user may run the action (Django's own filtering of actions by permission) and the transition
table (`lifecycle.is_allowed`) allows its operation from the tenant's state.

To add a button: write the admin action, a method of TenantAdmin (or a mixin) decorated with
`@admin.action(permissions=[...])`, then append a `PageAction` to `TENANT_PAGE_ACTIONS`. List it
in `TenantAdmin.actions` too if it belongs in the list's menu; a method left out of it is a
button only, with the same permission check.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.contrib import messages
from django.contrib.admin.utils import unquote
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.views.decorators.http import require_POST

from onboarding.admin.common import TenantAdminMixinBase
from onboarding.admin.provisioning import (
    awaits_staff_on_a_manual_gateway,
    has_something_for_the_gateway,
)
from onboarding.models import CallingDomain, Tenant
from onboarding.services import lifecycle
from onboarding.services.lifecycle import Operation

CONFIRMATION_TEMPLATE = "admin/onboarding/tenant/page_action_confirmation.html"


@dataclass(frozen=True)
class PageAction:
    """One button: `name` is the list action it runs; `operation` the transition-table entry
    that must allow it from the tenant's state; `applies` any further condition on the tenant.
    `confirm` (a question, `{tenant}` filled in) asks first on a confirmation page; an action
    that asks by itself (offboarding has its own page) leaves it empty."""

    name: str
    label: str
    operation: Operation | None = None
    applies: Callable[[Tenant], bool] | None = None
    confirm: str = ""
    consequences: str = ""
    dangerous: bool = False

    def shown_for(self, tenant: Tenant) -> bool:
        if self.operation is not None and not lifecycle.is_allowed(self.operation, tenant.status):
            return False
        return self.applies is None or self.applies(tenant)


def has_own_domain_in_use(tenant: Tenant) -> bool:
    return CallingDomain.objects.in_use().own().filter(tenant=tenant).exists()


TENANT_PAGE_ACTIONS: list[PageAction] = [
    PageAction("enable_tenants", "Enable (send the upload invitation)", Operation.ENABLE),
    PageAction("issue_upload_links", "Send a new upload link", Operation.ISSUE_UPLOAD_LINK),
    PageAction("check_dns_now", "Check DNS now", applies=has_own_domain_in_use),
    PageAction("suspend_tenants", "Suspend", Operation.SUSPEND),
    PageAction("resume_tenants", "Resume", Operation.RESUME),
    PageAction(
        "revoke_tokens",
        "Revoke the token",
        Operation.REVOKE_TOKEN,
        confirm="Revoke the token of {tenant}?",
        consequences="The gateway stops using the current token at once, the tenant goes back "
        "to invited, and a new upload link is emailed to its token-upload contacts. The "
        "customer must create a new token in Google Admin and upload it.",
        dangerous=True,
    ),
    # offboarding shows its own confirmation page (the list action's)
    PageAction("offboard_tenants", "Offboard", Operation.OFFBOARD, dangerous=True),
    PageAction("reinstate_tenants", "Reinstate (a fresh onboarding)", Operation.REINSTATE),
    PageAction("provision_tenants_now", "Provision now", applies=has_something_for_the_gateway),
    PageAction(
        "gateway_configured", "Configured on the gateway", applies=awaits_staff_on_a_manual_gateway
    ),
]


class TenantPageActionsMixin(TenantAdminMixinBase):
    """Mixed into TenantAdmin: the buttons on the change page and the URL they post to."""

    def get_urls(self) -> list[Any]:
        page_action = path(
            "<path:object_id>/page-action/<str:action_name>/",
            self.admin_site.admin_view(require_POST(self.page_action_view)),
            name="onboarding_tenant_page_action",
        )
        return [page_action, *super().get_urls()]

    def page_action_function(self, request: HttpRequest, name: str) -> Callable[..., Any] | None:
        """The action `name` runs, if this user may run it: a list action as Django filters
        them by permission, or a button-only method under the same rule (every permission in
        its `allowed_permissions`; a method that names none is never run from a button)."""
        entry = self.get_actions(request).get(name)
        if entry is not None:
            return entry[0]
        # _get_base_actions is private to Django, so django-stubs leaves it out
        base_actions = self._get_base_actions()  # type: ignore[attr-defined]
        listed = {action_name for _f, action_name, _d in base_actions}
        method = None if name in listed else getattr(type(self), name, None)
        permissions = getattr(method, "allowed_permissions", None)
        if not permissions or not all(
            getattr(self, f"has_{p}_permission")(request) for p in permissions
        ):
            return None
        return method

    def page_actions_for(self, request: HttpRequest, tenant: Tenant) -> list[PageAction]:
        return [
            action
            for action in TENANT_PAGE_ACTIONS
            if action.shown_for(tenant) and self.page_action_function(request, action.name)
        ]

    def change_view(
        self,
        request: HttpRequest,
        object_id: str,
        form_url: str = "",
        extra_context: dict[str, Any] | None = None,
    ) -> HttpResponse:
        tenant = self.get_object(request, unquote(object_id))
        context = dict(extra_context or {})
        context["page_actions"] = [] if tenant is None else self.page_actions_for(request, tenant)
        return super().change_view(request, object_id, form_url, context)

    def page_action_view(self, request: HttpRequest, object_id: str, action_name: str) -> Any:
        action = next((a for a in TENANT_PAGE_ACTIONS if a.name == action_name), None)
        if action is None:
            raise Http404("No such action on a tenant's page.")
        tenant = get_object_or_404(self.get_queryset(request), pk=unquote(object_id))
        back = reverse("admin:onboarding_tenant_change", args=[tenant.pk])
        func = self.page_action_function(request, action.name)
        if func is None:
            messages.error(
                request, f"You do not have permission to “{action.label}”. Nothing was changed."
            )
            return HttpResponseRedirect(back)
        if action.confirm and action.shown_for(tenant) and request.POST.get("confirm") != "yes":
            return self._page_action_confirmation(request, tenant, action, back)
        response = func(self, request, self.get_queryset(request).filter(pk=tenant.pk))
        if isinstance(response, TemplateResponse) and response.context_data is not None:
            # an action's own confirmation page (offboarding) leads back to this tenant's page,
            # not to the action's URL, which answers POST only
            response.context_data["back_url"] = back
            return response
        return response or HttpResponseRedirect(back)

    def _page_action_confirmation(
        self, request: HttpRequest, tenant: Tenant, action: PageAction, back: str
    ) -> TemplateResponse:
        context = {
            **self.admin_site.each_context(request),
            "title": action.confirm.format(tenant=tenant.name),
            "opts": Tenant._meta,
            "tenant": tenant,
            "action": action,
            "back_url": back,
        }
        return TemplateResponse(request, CONFIRMATION_TEMPLATE, context)
