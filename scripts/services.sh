#!/usr/bin/env bash
# Make sure PostgreSQL (127.0.0.1:5432) and Redis (127.0.0.1:6379) answer, starting them when they
# are installed but down. Exits non-zero, naming the service, when one cannot be had.
# Used by scripts/test.sh and .ci/run.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/lib.sh

# How long to wait for a service that was just started.
SERVICE_WAIT_SECONDS="${SERVICE_WAIT_SECONDS:-20}"

postgres_answers() { pg_isready -q -h 127.0.0.1 -p 5432 >/dev/null 2>&1; }
redis_answers() { [ "$(redis-cli -h 127.0.0.1 -p 6379 ping 2>/dev/null)" = "PONG" ]; }

postgres_start() {
    command -v pg_ctlcluster >/dev/null 2>&1 && [ -d /etc/postgresql ] \
        || die "PostgreSQL is not running on 127.0.0.1:5432 and is not installed (no pg_ctlcluster)."
    local version
    version="$(ls /etc/postgresql | sort -V | tail -n 1)"
    [ -n "$version" ] || die "PostgreSQL is not running and /etc/postgresql holds no cluster."
    say "Starting PostgreSQL $version"
    pg_ctlcluster --skip-systemctl-redirect "$version" main start || true
}

redis_start() {
    command -v redis-server >/dev/null 2>&1 \
        || die "Redis is not running on 127.0.0.1:6379 and is not installed (no redis-server)."
    mkdir -p /var/lib/redis /var/log/redis
    say "Starting Redis"
    redis-server --daemonize yes --bind 127.0.0.1 -::1 --port 6379 --save "" --appendonly no \
        --dir /var/lib/redis --logfile /var/log/redis/ci.log || true
}

# ensure NAME CHECK START: start the service when CHECK fails, then wait for it to answer.
ensure() {
    local name="$1" check="$2" start="$3"
    if "$check"; then
        return 0
    fi
    "$start"
    local waited=0
    until "$check"; do
        if [ "$waited" -ge "$SERVICE_WAIT_SECONDS" ]; then
            die "$name does not answer on 127.0.0.1 after ${SERVICE_WAIT_SECONDS}s; the tests need it."
        fi
        sleep 1
        waited=$((waited + 1))
    done
    say "$name is up"
}

command -v pg_isready >/dev/null 2>&1 \
    || die "pg_isready not found: install the PostgreSQL client tools (Debian: postgresql-client)."
command -v redis-cli >/dev/null 2>&1 \
    || die "redis-cli not found: install the Redis tools (Debian: redis-tools)."

ensure PostgreSQL postgres_answers postgres_start
ensure Redis redis_answers redis_start
