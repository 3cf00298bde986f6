#!/usr/bin/env bash
# `make lint`: ruff (lint and format), mypy, the import contracts, and a check that no model
# change lacks its migration.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/lib.sh

ensure_venv test
say "ruff check"
"$VENV/bin/ruff" check .
say "ruff format --check"
"$VENV/bin/ruff" format --check .
say "mypy onboarding portal (django-stubs; the settings get throwaway secrets)"
"$PY" scripts/typecheck.py onboarding portal
say "import contracts (lint-imports: imports run one way, layer by layer)"
"$VENV/bin/lint-imports" --no-cache
say "makemigrations --check"
# The test settings supply a SECRET_KEY; an in-memory SQLite database means no server is needed.
DJANGO_SETTINGS_MODULE=tests.settings DATABASE_URL="sqlite://:memory:" \
    "$PY" manage.py makemigrations --check --dry-run
say "check --deploy with README's production environment (throwaway secrets)"
"$PY" scripts/deploy_check.py
