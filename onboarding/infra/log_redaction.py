"""Keep customer links' signed values out of every log line.

The value is found by its own shape, `payload:timestamp:signature` (what Django's TimestampSigner
makes), never by the path around it: a client can spell the path many ways that still reach the
page (`/%75pload/…`, `/upload%2F…`, percent-encoded colons) or miss it and be logged as a 404
(`/UPLOAD/…`), and the value can sit in a query string or a Referer.
"""

from __future__ import annotations

import logging
import re
from typing import Any

# One character of a signed value as it may appear in a line: itself, or percent-encoded (but
# not an encoded colon, which separates the parts).
_CHARACTER = r"(?:[A-Za-z0-9_-]|%(?!3[Aa])[0-9A-Fa-f]{2})"
_COLON = r"(?::|%3[Aa])"
# base64url payload (a leading dot when compressed), base62 timestamp, base64url HMAC (43
# characters for SHA-256; 20 leaves room for other algorithms while sparing clock times such as
# 15:35:37 and IPv6 addresses). A match starts only where a run of such characters starts, and
# each part is taken whole (possessive), so a long line costs linear time: without both, a run
# of n letters with no colon cost n^2 steps (an 8 KB Referer took a second of CPU per line).
SIGNED_VALUE = re.compile(
    rf"(?<![A-Za-z0-9_.%-])(?:\.|%2[Ee])?{_CHARACTER}{{4,}}+{_COLON}{_CHARACTER}{{4,}}+{_COLON}"
    rf"{_CHARACTER}{{20,}}+"
)
REDACTED = "[redacted]"


def redact(text: str) -> str:
    return SIGNED_VALUE.sub(REDACTED, text)


def _request_carries_a_signed_value(request: Any) -> bool:
    get_full_path = getattr(request, "get_full_path", None)
    full_path = get_full_path() if callable(get_full_path) else getattr(request, "path", "")
    meta = getattr(request, "META", {})
    return any(
        SIGNED_VALUE.search(str(place or ""))
        for place in (full_path, meta.get("RAW_URI"), meta.get("HTTP_REFERER"))
    )


class RedactSignedLinks(logging.Filter):
    """Rewrites the message (and drops the request object) before any handler sees it."""

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except (TypeError, ValueError):
            return True
        redacted = redact(message)
        if redacted != message:
            record.msg, record.args = redacted, ()
        request = getattr(record, "request", None)
        if request is not None and _request_carries_a_signed_value(request):
            record.request = None  # handlers that print the request would print the link
        return True
