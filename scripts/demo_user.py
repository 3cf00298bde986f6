"""Create or refresh the staff superuser `demo` with a new random password and a new second factor
(an authenticator-app QR code and backup codes), and print the login.

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
    parser.add_argument(
        "--qr", action="store_true", help="also print the authenticator app's QR code and URI"
    )
    args = parser.parse_args(argv)

    sys.path.insert(0, str(REPO_ROOT))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "portal.settings")
    import django

    django.setup()
    from django.contrib.auth import get_user_model

    from onboarding.services.staff_two_factor import staff_totp_enrol

    user, created = get_user_model().objects.get_or_create(
        username=USERNAME, defaults={"email": "demo@localhost"}
    )
    password = secrets.token_urlsafe(12)
    user.is_staff = True
    user.is_superuser = True
    user.is_active = True
    user.set_password(password)
    user.save()
    # The admin always asks for a second factor; a newcomer without an authenticator app signs
    # in with a backup code (each works once; the next `make run` prints new ones).
    enrolment = staff_totp_enrol(user=user)

    width = 60
    print("=" * width)
    print(f"  Staff login ({'created' if created else 'password and codes refreshed'})")
    print(f"  URL:      {args.url}")
    print(f"  User:     {USERNAME}")
    print(f"  Password: {password}")
    print("  Code:     a backup code below (each works once), or scan the QR code")
    print(f"  Backup codes: {' '.join(enrolment.backup_codes)}")
    print(f"  Emails:   {where_emails_go()}")
    print("=" * width)
    if args.qr:
        # to stderr: make run shows the login box twice (captured stdout), the QR code once
        print("  Authenticator app (optional): scan this, or add the URI by hand", file=sys.stderr)
        print(enrolment.qr_text(), file=sys.stderr)
        print(f"  {enrolment.config_url}", file=sys.stderr)
    return 0


def where_emails_go() -> str:
    from django.conf import settings

    if settings.EMAIL_BACKEND == "onboarding.infra.eml_files.EmlFileBackend":
        folder = Path(settings.EMAIL_FILE_PATH)
        shown = folder.relative_to(REPO_ROOT) if folder.is_relative_to(REPO_ROOT) else folder
        return (
            f"one .eml file each in {shown}/ (newest last; the demo's initial email, with "
            "its upload link, is there once the worker has started)"
        )
    return f"sent with {settings.EMAIL_BACKEND} (EMAIL_URL)"


if __name__ == "__main__":
    sys.exit(main())
