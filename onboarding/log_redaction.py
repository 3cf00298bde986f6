"""Keep upload links' signatures out of every log line."""

from __future__ import annotations

import logging
import re

# The signed part of customer links: /upload/<signed>/ and /dns-status/<signed>/
SIGNED_PATH = re.compile(r"(/(?:upload|dns-status)/)[^/\s\"'?]+")
REDACTED = r"\1[redacted]"


def redact(text: str) -> str:
    return SIGNED_PATH.sub(REDACTED, text)


class RedactSignedLinks(logging.Filter):
    """Rewrites the message (and drops the request object's path) before any handler sees it."""

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except (TypeError, ValueError):
            return True
        redacted = redact(message)
        if redacted != message:
            record.msg, record.args = redacted, ()
        request = getattr(record, "request", None)
        # the full path: a link may also sit in a query string (?next=/upload/<signed>/)
        full_path = getattr(request, "get_full_path", lambda: getattr(request, "path", ""))()
        if request is not None and SIGNED_PATH.search(full_path):
            record.request = None  # handlers that print the request would print the link
        return True
