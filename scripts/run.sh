#!/usr/bin/env bash
# `make run`: from a fresh clone with only python3 (3.11+), set up and start the portal locally.
#   .venv + `pip install -e .`  ->  .env (if missing)  ->  migrate  ->  seed_demo
#   ->  staff user `demo` with a new random password (printed)
#   ->  Celery worker, Celery beat and runserver on 127.0.0.1:$PORT, side by side
# Long-running processes are started with start_child; on exit (Ctrl-C, kill, or any child
# stopping) every child is stopped.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/lib.sh

PORT="${PORT:-8000}"

ensure_venv
"$PY" scripts/write_env.py .env
# Links in emails use PORTAL_BASE_URL; follow the port unless the environment or .env sets it.
if ! grep -qE '^\s*(export\s+)?PORTAL_BASE_URL=' .env; then
    export PORTAL_BASE_URL="${PORTAL_BASE_URL:-http://127.0.0.1:$PORT}"
fi

say "Applying migrations"
"$PY" manage.py migrate --noinput
say "Seeding demo tenants"
"$PY" manage.py seed_demo
login="$("$PY" scripts/demo_user.py --qr --url "http://127.0.0.1:$PORT/admin/")"
printf '%s\n' "$login"

children=()

# start_child CMD...: run CMD in its own process group, so stopping it stops its own children
# (runserver's autoreloader runs the server in a child process).
start_child() {
    setsid "$@" &
    children+=("$!")
}

stop_children() {
    local pid
    for pid in "${children[@]}"; do
        kill -TERM -- "-$pid" 2>/dev/null || true
    done
    for pid in "${children[@]}"; do
        wait "$pid" 2>/dev/null || true
    done
}
trap stop_children EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

say "Starting the Celery worker and beat, and the web server on http://127.0.0.1:$PORT/ (Ctrl-C stops all)"
start_child "$PY" -m celery -A portal worker --loglevel=INFO --concurrency=2
start_child "$PY" -m celery -A portal beat --loglevel=INFO
start_child "$PY" manage.py runserver "127.0.0.1:$PORT"

# The start-up banners scroll the login away: show it again once they are out.
sleep 5
printf '\n%s\n\n' "$login"

# Wait until any child stops; the EXIT trap then stops the others.
status=0
wait -n || status=$?
exit "$status"
