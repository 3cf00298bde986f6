"""Helpers every admin module shares."""

from __future__ import annotations

from django.http import HttpRequest

from onboarding.http import client_ip
from onboarding.lifecycle import Actor


def staff_actor(request: HttpRequest) -> Actor:
    return Actor.staff(request.user, client_ip(request))
