"""An email backend for local runs: each message becomes one `.eml` file in a folder
(EMAIL_FILE_PATH), which any mail program or text editor opens, links and all.

Django's own file backend appends every message of a connection to one `.log` file; a file per
email, named by time and subject, lets a newcomer find "the initial email" at a glance. The
files hold upload links, so only their owner may read them; the log line names the file, never
the links inside it.
"""

from __future__ import annotations

import logging
import os
import re
from collections.abc import Sequence
from datetime import UTC, datetime
from itertools import count
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.mail.backends.base import BaseEmailBackend
from django.core.mail.message import EmailMessage

logger = logging.getLogger(__name__)

# owner only: the files carry upload links
FILE_MODE = 0o600
SUBJECT_IN_NAME = 60
_sequence = count(1)


def file_name(subject: str, when: datetime) -> str:
    slug = re.sub(r"[^a-z0-9]+", "-", subject.lower()).strip("-")[:SUBJECT_IN_NAME]
    return f"{when:%Y%m%d-%H%M%S}-{os.getpid()}-{next(_sequence):04d}-{slug or 'email'}.eml"


class EmlFileBackend(BaseEmailBackend):
    def __init__(self, file_path: str | None = None, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.folder = Path(file_path or settings.EMAIL_FILE_PATH)

    def send_messages(self, email_messages: Sequence[EmailMessage]) -> int:
        self.folder.mkdir(parents=True, exist_ok=True)
        sent = 0
        for message in email_messages:
            path = self.folder / file_name(str(message.subject), datetime.now(UTC))
            descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, FILE_MODE)
            with os.fdopen(descriptor, "wb") as eml:
                eml.write(message.message().as_bytes(linesep="\n"))
            logger.info("Email written to %s", path)
            sent += 1
        return sent
