"""mypy over onboarding/ and portal/ (`make lint` runs it; extra arguments go to mypy).

django-stubs' plugin imports the settings module, which refuses to start without its secrets:
it gets README's production environment with throwaway values, exactly as scripts/deploy_check.py
builds it for `check --deploy`. No real secret is needed or read.
"""

from __future__ import annotations

import subprocess
import sys

from deploy_check import ROOT, production_environment


def main(argv: list[str]) -> int:
    command = [sys.executable, "-m", "mypy", *(argv or ["onboarding", "portal"])]
    return subprocess.run(  # noqa: S603 (our own interpreter and mypy)
        command, cwd=ROOT, env=production_environment(), check=False
    ).returncode


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
