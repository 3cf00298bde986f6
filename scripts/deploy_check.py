"""`manage.py check --deploy --fail-level WARNING` against the production environment README.md
gives (its "## Production" section's env block), with throwaway values for the placeholders.

Used by scripts/lint.sh (so CI runs it) and by tests/test_project_files.py. No real secret is
needed or read: every `<placeholder>` gets a fresh random or made-up value here. Extra
`NAME=value` arguments override the block (the tests use that to prove the check can fail).
"""

from __future__ import annotations

import os
import re
import secrets
import subprocess
import sys
from pathlib import Path

from cryptography.fernet import Fernet

ROOT = Path(__file__).resolve().parent.parent
PLACEHOLDER = re.compile(r"<[^<>]+>")

# Whole-value placeholders that need a value of a particular shape. The gateway gets
# real-looking values: the documentation-range defaults are exactly what the check must refuse.
THROWAWAY_VALUES = {
    "SECRET_KEY": lambda: secrets.token_urlsafe(50),
    "TOKEN_ENCRYPTION_KEYS": lambda: Fernet.generate_key().decode(),
    "TOKEN_FINGERPRINT_KEY": lambda: secrets.token_urlsafe(50),
    # RFC 2544's benchmarking range: not a documentation address, and nobody's real gateway
    "DEFAULT_GATEWAY_IP": lambda: "198.18.0.10",
    # .internal is reserved for private networks: resolvable by nobody on the internet
    "DEFAULT_GATEWAY_HOSTNAME": lambda: "gateway.ci.internal",
    "SUPPORT_CONTACT": lambda: "support@ci.internal",
    "DEFAULT_FROM_EMAIL": lambda: "onboarding@ci.internal",
    "STAFF_NOTIFICATION_EMAILS": lambda: "staff@ci.internal",
}


def production_block(readme: str) -> list[tuple[str, str]]:
    section = re.search(r"^## Production\n(.*?)(?=^## |\Z)", readme, re.M | re.S)
    if section is None:
        raise SystemExit("README.md has no '## Production' section")
    for block in re.findall(r"```sh\n(.*?)```", section.group(1), re.S):
        lines = [line for line in block.splitlines() if re.match(r"^[A-Z][A-Z0-9_]*=", line)]
        if lines:
            return [tuple(line.split("=", 1)) for line in lines]  # type: ignore[misc]
    raise SystemExit("README.md's Production section has no NAME=value block")


def fill(name: str, value: str) -> str:
    if PLACEHOLDER.fullmatch(value) and name in THROWAWAY_VALUES:
        return THROWAWAY_VALUES[name]()
    # a placeholder inside a value (a host, a password): any plain word will do
    return PLACEHOLDER.sub(lambda _m: f"ci{secrets.token_hex(4)}", value)


def production_environment(overrides: dict[str, str] | None = None) -> dict[str, str]:
    block = production_block((ROOT / "README.md").read_text())
    values = {name: fill(name, value) for name, value in block}
    # the settings' own defaults must carry the rest, as they would in production
    environment = {
        name: value
        for name, value in os.environ.items()
        if name in ("PATH", "HOME", "LANG", "LC_ALL", "TMPDIR", "VIRTUAL_ENV")
    }
    environment.update(values, PORTAL_ENV_FILE="", DJANGO_SETTINGS_MODULE="portal.settings")
    environment.update(overrides or {})
    return environment


def main(argv: list[str]) -> int:
    overrides = dict(arg.split("=", 1) for arg in argv)
    command = [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"]
    return subprocess.run(  # noqa: S603 (our own interpreter and manage.py)
        command, cwd=ROOT, env=production_environment(overrides), check=False
    ).returncode


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
