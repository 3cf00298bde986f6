"""Helpers every admin module shares."""

from __future__ import annotations

from django.http import HttpRequest

from onboarding.http import client_ip
from onboarding.lifecycle import Actor


def staff_actor(request: HttpRequest) -> Actor:
    return Actor.staff(request.user, client_ip(request))


class ReadOnlyAdminMixin:
    """Records nobody edits from the admin: audit events, DNS check results."""

    def has_add_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False
