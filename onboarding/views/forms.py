from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django import forms
from django.conf import settings

from onboarding.domain import token_format


class UploadForm(forms.Form):
    """The customer's token upload: the token, each short-ID prefix again, and the trusted tick."""

    token = forms.CharField(
        label="Security token",
        strip=False,
        widget=forms.PasswordInput(
            render_value=False,
            attrs={"autocomplete": "off", "spellcheck": "false", "autocapitalize": "off"},
        ),
        help_text="Paste the token Google Admin showed you when you created it.",
    )
    trusted = forms.BooleanField(
        label="I have set this token to Trusted in Google Admin.",
        help_text="Trusted lets your registered video systems skip the Meet lobby.",
        error_messages={
            "required": "Set the token to Trusted in Google Admin, then tick this box."
        },
    )

    def __init__(self, *args: Any, calling_domains: Iterable[Any] = (), **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.prefix_domains = {}
        for calling_domain in calling_domains:
            if not calling_domain.prefix:
                continue
            name = f"prefix_{calling_domain.pk}"
            self.prefix_domains[name] = calling_domain
            self.fields[name] = forms.CharField(
                label=f"Meeting ID prefix you entered for {calling_domain.domain}",
                max_length=20,
                widget=forms.TextInput(attrs={"inputmode": "numeric", "autocomplete": "off"}),
                help_text="Type it again to confirm it matches Google Admin.",
            )
        # the trusted tick reads best last
        self.order_fields([*(n for n in self.fields if n != "trusted"), "trusted"])

    def clean_token(self) -> str:
        return token_format.normalize_token(
            self.cleaned_data.get("token"), max_length=settings.TOKEN_MAX_LENGTH
        )

    def clean(self) -> dict[str, Any]:
        super().clean()
        cleaned = self.cleaned_data
        for name, calling_domain in self.prefix_domains.items():
            typed = (cleaned.get(name) or "").strip()
            if name in cleaned and typed != calling_domain.prefix:
                self.add_error(
                    name,
                    f"That does not match the prefix for {calling_domain.domain}, which is "
                    f"{calling_domain.prefix}. Enter {calling_domain.prefix} in Google Admin "
                    "and here.",
                )
        return cleaned
