"""Helpers every admin module shares."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, cast

from django.contrib import messages
from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME
from django.contrib.admin.utils import model_format_dict
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect

from onboarding.infra.http import client_ip
from onboarding.services.audit import Actor
from onboarding.services.tenant_creation import UniqueConflict

if TYPE_CHECKING:
    from django.contrib import admin
    from django.contrib.auth.models import User

    from onboarding.models import Tenant

    # mypy checks a mixin against the ModelAdmin it is mixed into; at run time it stays a plain
    # class
    AdminMixinBase = admin.ModelAdmin[Any]
    TenantAdminMixinBase = admin.ModelAdmin[Tenant]
else:
    AdminMixinBase = TenantAdminMixinBase = object

# How often a save is validated again after another staff member took its tenant name or calling
# domain in between: once shows the clash; more only if yet another save wins each time.
SAVE_ATTEMPTS = 3


def staff_actor(request: HttpRequest) -> Actor:
    # the admin's views run for signed-in staff only, never for an anonymous user
    return Actor.staff(cast("User", request.user), client_ip(request))


class ReadOnlyAdminMixin:
    """Records nobody edits from the admin: audit events, DNS check results."""

    def has_add_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False


class ActionPermissionMixin(AdminMixinBase):
    """Actions carry `allowed_permissions`; Django then leaves the refused ones out of the menu.
    A forged POST of a refused action would otherwise end in a vague "No action selected" (or, with
    no action left at all, a silent page): say plainly that it was refused, change nothing.
    An intermediate page's confirming POST carries the selection but no "index" (as Django's
    "delete selected" confirmation does); it is refused alike."""

    def changelist_view(self, request: HttpRequest, extra_context: Any = None) -> HttpResponse:
        name = request.POST.get("action", "") if request.method == "POST" else ""
        runs_action = "index" in request.POST or (
            ACTION_CHECKBOX_NAME in request.POST and "_save" not in request.POST
        )
        if name and runs_action and name not in self.get_actions(request):
            # _get_base_actions is private to Django, so django-stubs leaves it out
            base_actions = self._get_base_actions()  # type: ignore[attr-defined]
            known = {action_name: text for _f, action_name, text in base_actions}
            if name in known:
                messages.error(
                    request,
                    f"You do not have permission to “{self._action_text(known[name])}”. "
                    "Nothing was changed.",
                )
                return HttpResponseRedirect(request.get_full_path())
        return super().changelist_view(request, extra_context)

    def _action_text(self, description: str) -> str:
        """The menu's wording: Django's own descriptions carry %(verbose_name_plural)s."""
        try:
            return str(description) % model_format_dict(self.opts)
        except (KeyError, TypeError, ValueError):
            return str(description)


class RevalidateOnUniqueConflictMixin:
    """Validation runs before the insert, so another staff member may save the same tenant name
    or calling domain in between and the database refuses ours (`UniqueConflict`). The whole
    save is then rolled back with the view's transaction, and validating again shows the clash
    as the usual form error (HTTP 200) instead of a server error."""

    def changeform_view(
        self,
        request: HttpRequest,
        object_id: str | None = None,
        form_url: str = "",
        extra_context: dict[str, Any] | None = None,
    ) -> HttpResponse:
        for _attempt in range(SAVE_ATTEMPTS):
            try:
                return super().changeform_view(  # type: ignore[misc]
                    request, object_id, form_url, extra_context
                )
            except UniqueConflict as conflict:
                lost_race = conflict
        messages.error(request, f"{' '.join(lost_race.messages)} Nothing was saved.")
        return HttpResponseRedirect(request.get_full_path())


def user_may(request: HttpRequest, codename: str) -> bool:
    return request.user.has_perm(f"onboarding.{codename}")
