"""The security token's format (domain.md, "The token")."""

from __future__ import annotations

import unicodedata

from django.core.exceptions import ValidationError

# what a byte that is not UTF-8 decodes to (the request parser replaces, it does not refuse)
REPLACEMENT_CHARACTER = "\ufffd"


def normalize_token(raw: str | None, *, max_length: int) -> str:
    """Trim surrounding whitespace; 1 to max_length characters; no inner whitespace, controls
    or U+FFFD.

    U+FFFD is what an invalid byte in the request decodes to; a pasted one cannot be told apart
    from that, so both are refused rather than stored as part of the token. Nothing stricter:
    Google does not publish the token's format.
    """
    token = (raw or "").strip()
    if not token:
        raise ValidationError("Paste the token you copied from Google Admin.")
    if len(token) > max_length:
        raise ValidationError(
            "That is longer than a token can be (%(max)d characters). Copy just the token.",
            params={"max": max_length},
        )
    if any(ch.isspace() for ch in token):
        raise ValidationError(
            "The token cannot contain spaces or line breaks. Copy it again from Google Admin."
        )
    if any(unicodedata.category(ch).startswith("C") for ch in token):
        raise ValidationError("The token contains invisible control characters. Copy it again.")
    if REPLACEMENT_CHARACTER in token:
        raise ValidationError(
            "The token contains characters that are not part of a token (\ufffd, or bytes that "
            "are not text). Copy it again from Google Admin and paste it here."
        )
    return token
