#!/usr/bin/env bash
# `make bench`: run every benchmark script in bench/; each prints its own figures.
# `scripts/bench.sh web --duration 5` (or `make bench ARGS="web --duration 5"`) runs one script,
# bench/web.py here, with those arguments.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/lib.sh

ensure_venv "test,bench"
# wrk drives bench/web.py; the benchmarks run on the local PostgreSQL and Redis.
need_debian_packages wrk
command -v pg_isready >/dev/null 2>&1 || need_debian_packages postgresql-client
command -v redis-server >/dev/null 2>&1 || need_debian_packages redis-server
command -v redis-cli >/dev/null 2>&1 || need_debian_packages redis-tools
bash scripts/services.sh

if [ "$#" -gt 0 ]; then
    script="bench/${1%.py}.py"
    shift
    [ -f "$script" ] || die "no benchmark $script (there are: $(grep -l '^    python bench/' bench/*.py | tr '\n' ' '))"
    say "$script"
    exec "$PY" "$script" "$@"
fi
# The scripts that are benchmarks themselves (a module docstring with a usage line), not the
# helpers and settings they share.
for script in bench/*.py; do
    grep -q "^    python bench/" "$script" || continue
    say "$script"
    "$PY" "$script"
done
