"""The staff admin site: a password and a second factor (TOTP or a backup code) on one form.

django-otp's own admin login asks staff to pick a device from a list after a first round trip; here
the kind of code picks the device (six digits: the authenticator app, anything else: a backup
code), so staff type three things once. Wrong codes count towards the lockout like wrong
passwords: django-axes hears of them through Django's `user_login_failed` signal.
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib.admin.sites import AdminSite
from django.contrib.auth.signals import user_login_failed
from django.http import HttpRequest
from django_otp.admin import OTPAdminAuthenticationForm

from onboarding.models import StaffBackupCodeDevice, StaffTotpDevice

TOTP_DIGITS = 6


class StaffLoginForm(OTPAdminAuthenticationForm):
    otp_token = forms.CharField(
        label="Code",
        required=False,
        max_length=32,
        help_text="The six-digit code from your authenticator app, or one of your backup codes.",
        widget=forms.TextInput(
            attrs={"autocomplete": "one-time-code", "inputmode": "text", "autocapitalize": "none"}
        ),
    )
    otp_error_messages = {
        **OTPAdminAuthenticationForm.otp_error_messages,
        "token_required": "Enter the code from your authenticator app (or a backup code).",
        "invalid_token": "That code is not valid. Codes change every 30 seconds and each backup "
        "code works once.",
        "device_required": "Your account has no second factor yet. Ask an administrator to run "
        "`manage.py enrol_totp <your username>`.",
    }

    def _chosen_device(self, user: Any) -> Any:
        token = (self.cleaned_data.get("otp_token") or "").strip().replace(" ", "")
        self.cleaned_data["otp_token"] = token
        is_totp = len(token) == TOTP_DIGITS and token.isdigit()
        model = StaffTotpDevice if is_totp else StaffBackupCodeDevice
        # Locked until the sign-in's transaction ends (django-otp's clean_otp opens it), so two
        # sign-ins with one code cannot both pass the replay check.
        devices = model.objects.select_for_update().filter(user=user, confirmed=True)
        return devices.order_by("id").first()

    def clean(self) -> dict[str, Any]:
        try:
            return super().clean()
        except forms.ValidationError:
            user = self.user_cache
            if user is not None and getattr(user, "otp_device", None) is None:
                # The password was right but the code was not: count it as a failed login.
                user_login_failed.send(
                    sender=type(self),
                    credentials={"username": self.cleaned_data.get("username", "")},
                    request=self.request,
                )
            raise


class PortalAdminSite(AdminSite):
    """Staff must be active, staff, and verified by a second factor in this session."""

    login_form = StaffLoginForm
    login_template = "admin/staff_login.html"
    site_header = "Meet interop onboarding"
    site_title = "Meet interop onboarding"
    index_title = "Tenants and gateways"
    # The portal has no public front page (customers arrive by the links in their emails), so
    # Django's "View site" link would lead to a 404: leave it out.
    site_url = None

    def has_permission(self, request: HttpRequest) -> bool:
        # django-otp's OTPMiddleware gives request.user its is_verified(): no stub can know
        return super().has_permission(request) and request.user.is_verified()  # type: ignore[union-attr]
