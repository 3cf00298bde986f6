"""Write a `.env` for local use (`make run`), or add the variables an older one lacks.

Standard library only: it runs before the project's dependencies are installed. A variable already
in the file is never changed, so a developer's edits and the generated secrets stay. To add a
variable a later feature needs, append one `Variable` to `VARIABLES`.
"""

from __future__ import annotations

import argparse
import base64
import os
import re
import secrets
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent


@dataclass(frozen=True)
class Variable:
    name: str
    value: Callable[[], str]
    comment: str


def fixed(value: str) -> Callable[[], str]:
    return lambda: value


def generated_secret_key() -> str:
    # URL-safe characters only: nothing the .env parser would interpolate ($) or split on.
    return secrets.token_urlsafe(50)


def generated_fernet_key() -> str:
    # What cryptography's Fernet.generate_key() returns: 32 random bytes, URL-safe base64.
    return base64.urlsafe_b64encode(os.urandom(32)).decode("ascii")


VARIABLES: list[Variable] = [
    Variable("DEBUG", fixed("true"), "Local development only; production leaves DEBUG off."),
    Variable("SECRET_KEY", generated_secret_key, "Generated for this checkout; never reuse it."),
    Variable(
        "TOKEN_ENCRYPTION_KEYS",
        generated_fernet_key,
        "Fernet keys for stored tokens, newest first, comma-separated. Generated.",
    ),
    Variable(
        "TOKEN_FINGERPRINT_KEY",
        generated_secret_key,
        "HMAC key for token fingerprints. Generated; keep it when rotating SECRET_KEY.",
    ),
]

# Shown (commented out) when the file is created, so a newcomer sees what else can be set.
COMMENTED_EXAMPLES = [
    "# Unset: a SQLite file db.sqlite3 in the checkout. Example for PostgreSQL:",
    "# DATABASE_URL=postgres://postgres@127.0.0.1:5432/portal",
    "# Unset: a local-memory cache. Example for Redis:",
    "# CACHE_URL=redis://127.0.0.1:6379/1",
    "# Unset (with DEBUG): each email is an .eml file under var/mail/. Example for an SMTP sink:",
    "# EMAIL_URL=smtp://127.0.0.1:1025",
]

_ASSIGNMENT = re.compile(r"^\s*(?:export\s+)?([A-Za-z_][A-Za-z0-9_]*)\s*=")


def names_in(text: str) -> set[str]:
    return {m.group(1) for line in text.splitlines() if (m := _ASSIGNMENT.match(line))}


def render(variables: list[Variable]) -> list[str]:
    lines = []
    for variable in variables:
        lines.append(f"# {variable.comment}")
        lines.append(f"{variable.name}={variable.value()}")
    return lines


def write_env(path: Path) -> list[str]:
    """Create or complete the file; return the names of the variables written."""
    if not path.exists():
        lines = ["# Written by scripts/write_env.py for local use. See README.md, Configuration."]
        lines += render(VARIABLES)
        lines += COMMENTED_EXAMPLES
        path.write_text("\n".join(lines) + "\n")
        path.chmod(0o600)
        return [variable.name for variable in VARIABLES]
    existing = path.read_text()
    missing = [variable for variable in VARIABLES if variable.name not in names_in(existing)]
    if missing:
        separator = "" if existing.endswith("\n") or not existing else "\n"
        with path.open("a") as env_file:
            env_file.write(separator + "\n".join(render(missing)) + "\n")
    return [variable.name for variable in missing]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("path", nargs="?", type=Path, default=REPO_ROOT / ".env")
    args = parser.parse_args(argv)
    created = not args.path.exists()
    written = write_env(args.path)
    if created:
        print(f"Wrote {args.path} ({', '.join(written)}).")
    elif written:
        print(f"Added {', '.join(written)} to {args.path}.")
    else:
        print(f"{args.path} is complete; left as it is.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
