"""Create or refresh the staff superuser `demo` with a new random password, and print the login.

Run with the project's virtualenv after `manage.py migrate` (scripts/run.sh does).
"""

from __future__ import annotations

import argparse
import os
import secrets
import sys
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
USERNAME = "demo"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", required=True, help="the admin's address, printed for the login")
    args = parser.parse_args(argv)

    sys.path.insert(0, str(REPO_ROOT))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "portal.settings")
    import django

    django.setup()
    from django.contrib.auth import get_user_model

    user, created = get_user_model().objects.get_or_create(
        username=USERNAME, defaults={"email": "demo@localhost"}
    )
    password = secrets.token_urlsafe(12)
    user.is_staff = True
    user.is_superuser = True
    user.is_active = True
    user.set_password(password)
    user.save()

    width = 60
    print("=" * width)
    print(f"  Staff login ({'created' if created else 'password refreshed'})")
    print(f"  URL:      {args.url}")
    print(f"  User:     {USERNAME}")
    print(f"  Password: {password}")
    print("=" * width)
    return 0


if __name__ == "__main__":
    sys.exit(main())
