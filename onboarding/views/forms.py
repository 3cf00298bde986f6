from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django import forms
from django.conf import settings

from onboarding.domain import google_admin, token_format

TRUSTED_REQUIRED = "Set the token to trusted in Google Admin, then tick this box."


class UploadForm(forms.Form):
    """The customer's token upload: the token, each short-ID prefix again, and the trusted tick.

    A mistake must never cost the token (Google shows it once): the page's script catches a
    wrong prefix or a missing tick before anything is sent, and where scripts do not run the
    refused form is shown again with the token still in its field (`render_value=True`). That
    echo is safe: it goes back only to the browser that just sent it, in a `no-store` response
    (views/upload.py, `private_page`); it is never logged (`sensitive_post_parameters`, and no
    log line carries a request body) and never cached (nothing caches these responses).
    tests/test_upload_keeps_the_token.py shows each of these."""

    token = forms.CharField(
        label="Security token",
        strip=False,
        widget=forms.PasswordInput(
            render_value=True,
            attrs={"autocomplete": "off", "spellcheck": "false", "autocapitalize": "off"},
        ),
        help_text="Paste the token Google Admin showed you when you created it.",
    )
    trusted = forms.BooleanField(
        label=(
            "I have set this token to trusted in Google Admin "
            f'("{google_admin.TRUSTED_AT_CREATION}" ticked, '
            f'or "{google_admin.TRUSTED_IN_LIST}" > {google_admin.TURN_ON}).'
        ),
        help_text="Trusted lets your registered video systems skip the Meet lobby.",
        error_messages={"required": TRUSTED_REQUIRED},
        widget=forms.CheckboxInput(attrs={"data-required-message": TRUSTED_REQUIRED}),
    )

    def __init__(self, *args: Any, calling_domains: Iterable[Any] = (), **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.prefix_domains = {}
        for calling_domain in calling_domains:
            if not calling_domain.prefix:
                continue
            name = f"prefix_{calling_domain.pk}"
            self.prefix_domains[name] = calling_domain
            # No max_length: a browser cuts a paste at `maxlength` without a word, and a
            # prefix cut to fit would look right; any other length is a mismatch, said aloud.
            self.fields[name] = forms.CharField(
                label=f"Meeting ID prefix you entered for {calling_domain.domain}",
                widget=forms.TextInput(
                    attrs={
                        "inputmode": "numeric",
                        "autocomplete": "off",
                        # for the page's script, which says the same as `clean` below
                        "data-expected-prefix": calling_domain.prefix,
                        "data-mismatch-message": prefix_mismatch(calling_domain),
                    }
                ),
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
                self.add_error(name, prefix_mismatch(calling_domain))
        return cleaned


def prefix_mismatch(calling_domain: Any) -> str:
    return (
        f"That does not match the prefix for {calling_domain.domain}, which is "
        f"{calling_domain.prefix}. Enter {calling_domain.prefix} in Google Admin and here."
    )
