"""Form fields for lists that staff edit as text: contacts, units and groups, Teams domains."""

from __future__ import annotations

import re
from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from django.core.validators import validate_email

_SEPARATORS = re.compile(r"[\s,;]+")


class LineListField(forms.CharField):
    """A list edited as text, one entry per line; stored as a JSON list."""

    widget = forms.Textarea(attrs={"rows": 3, "cols": 60})

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("required", False)
        kwargs.pop("encoder", None)
        kwargs.pop("decoder", None)
        super().__init__(*args, **kwargs)

    def prepare_value(self, value: Any) -> str:
        if isinstance(value, list | tuple):
            return "\n".join(str(item) for item in value)
        return value or ""

    def split(self, text: str) -> list[str]:
        return [line.strip() for line in text.splitlines() if line.strip()]

    # A list, not CharField's str: Django lets to_python return the field's own type.
    def to_python(self, value: Any) -> list[str]:  # type: ignore[override]
        if isinstance(value, list | tuple):
            return [str(item).strip() for item in value if str(item).strip()]
        return self.split(super().to_python(value) or "")

    def has_changed(self, initial: Any, data: Any) -> bool:
        return self.to_python(initial or []) != self.to_python(data or "")


class EmailListField(LineListField):
    """Email addresses separated by new lines, commas or spaces; each one a plain address.

    A header injection attempt ("a@b.com\\r\\nBcc: ...") splits into pieces that are not addresses,
    so it is refused rather than smuggled into a header.
    """

    def split(self, text: str) -> list[str]:
        return [part for part in _SEPARATORS.split(text) if part]

    def validate(self, value: list[str]) -> None:
        super().validate(value)
        bad = []
        for address in value:
            try:
                validate_email(address)
            except ValidationError:
                bad.append(address)
        if bad:
            raise ValidationError(
                "Not an email address: %(bad)s. Enter one address per line.",
                params={"bad": ", ".join(bad)},
            )
        # repeats go (the first spelling stays), whatever their case
        seen: set[str] = set()
        unique: list[str] = []
        for address in value:
            if address.lower() not in seen:
                seen.add(address.lower())
                unique.append(address)
        value[:] = unique
