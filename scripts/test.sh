#!/usr/bin/env bash
# `make test`: the whole suite against real PostgreSQL and Redis. Extra arguments go to pytest,
# e.g. scripts/test.sh tests/test_commands.py -k suspend
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/lib.sh

ensure_venv test
# What the suite drives besides Python: the service clients, Debian's Chromium for the browser
# tests (Playwright never downloads a browser here) with a font to lay pages out, pg_dump for
# the secrecy tests, and pgbouncer for the transaction-pooling test.
command -v pg_isready >/dev/null 2>&1 || need_debian_packages postgresql-client
command -v redis-server >/dev/null 2>&1 || need_debian_packages redis-server
command -v redis-cli >/dev/null 2>&1 || need_debian_packages redis-tools
[ -x /usr/bin/chromium ] || need_debian_packages chromium
need_debian_packages fonts-liberation
need_debian_packages pgbouncer
# axe-core for the accessibility tests, from npm, into node_modules/ (gitignored, as is the
# package.json npm may leave): nothing is saved, no lock file is written.
if [ ! -f node_modules/axe-core/axe.min.js ]; then
    command -v npm >/dev/null 2>&1 || need_debian_packages npm
    say "Installing axe-core (npm install --no-save --no-package-lock axe-core)"
    npm install --no-save --no-package-lock --no-audit --no-fund axe-core >/dev/null
fi
bash scripts/services.sh

# Serial by default. With PYTEST_WORKERS=2 pytest-xdist runs two workers, each with its own test
# database; on this 2-core machine that measured slower (67 s against 55 s for the whole suite),
# and the workers share one Redis (cache and broker databases), so it stays opt-in.
PYTEST_WORKERS="${PYTEST_WORKERS:-0}"
parallel=(-n "$PYTEST_WORKERS")
[ "$PYTEST_WORKERS" -gt 1 ] || parallel=()
for arg in "$@"; do
    case "$arg" in
        # the caller chose the workers (or turned xdist off): leave it to them
        -n* | --numprocesses* | no:xdist) parallel=() ;;
    esac
done

status=0
"$PY" -m pytest "${parallel[@]}" "$@" || status=$?
if [ "$status" -eq 5 ]; then
    echo "ERROR: pytest collected no tests; that counts as a failure." >&2
    exit 1
fi
exit "$status"
