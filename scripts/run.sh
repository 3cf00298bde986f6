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
# Links in emails use PORTAL_BASE_URL, whose default follows PORT (portal/settings.py) unless the
# environment or .env sets it: the worker, beat and the seeding below all see this PORT.
export PORT

say "Applying migrations"
"$PY" manage.py migrate --noinput
say "Seeding demo tenants"
"$PY" manage.py seed_demo
login="$("$PY" scripts/demo_user.py --qr --url "http://127.0.0.1:$PORT/admin/")"
printf '%s\n' "$login"

children=()
# children stopped through their leader only (see stop_children)
leader_only=()
# seconds a child may take to stop after TERM before it is killed
STOP_GRACE_SECONDS=20

# start_child CMD...: run CMD in its own process group, so stopping it stops its own children
# (runserver's autoreloader runs the server in a child process).
start_child() {
    setsid "$@" &
    children+=("$!")
}

# start_child_stopped_by_leader CMD...: the same, for a program that stops its own children.
# The Celery worker does, in a warm shutdown; a TERM to its whole group also reaches its pool
# processes, which die at once, and the worker then waits for them for ever.
start_child_stopped_by_leader() {
    start_child "$@"
    leader_only+=("$!")
}

# group_running PGID: a process of that group still runs (an exited leader not yet reaped is a
# zombie, which `kill -0` would still find)
group_running() {
    ps -e -o pgid=,stat= | awk -v g="$1" '$1 == g && $2 !~ /^Z/ { found = 1 } END { exit !found }'
}

stop_children() {
    local pid
    for pid in "${children[@]}"; do
        if [[ " ${leader_only[*]} " == *" $pid "* ]]; then
            kill -TERM "$pid" 2>/dev/null || true
        else
            kill -TERM -- "-$pid" 2>/dev/null || true
        fi
    done
    local waited=0
    for pid in "${children[@]}"; do
        while group_running "$pid" && [ "$waited" -lt $((STOP_GRACE_SECONDS * 10)) ]; do
            sleep 0.1
            waited=$((waited + 1))
        done
        if group_running "$pid"; then
            say "Process group $pid did not stop within ${STOP_GRACE_SECONDS}s: killing it"
            kill -KILL -- "-$pid" 2>/dev/null || true
        fi
        wait "$pid" 2>/dev/null || true
    done
}
trap stop_children EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

say "Starting the Celery worker and beat, and the web server on http://127.0.0.1:$PORT/ (Ctrl-C stops all)"
start_child_stopped_by_leader "$PY" -m celery -A portal worker --loglevel=INFO --concurrency=2
start_child "$PY" -m celery -A portal beat --loglevel=INFO
start_child "$PY" manage.py runserver "127.0.0.1:$PORT"

# The start-up banners scroll the login away: show it again once they are out.
sleep 5
printf '\n%s\n\n' "$login"

# Wait until any child stops; the EXIT trap then stops the others.
status=0
wait -n || status=$?
exit "$status"
