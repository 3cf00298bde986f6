#!/usr/bin/env bash
# `make bench`: run every benchmark script in bench/; each prints its own figures.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/lib.sh

ensure_venv test
shopt -s nullglob
scripts=(bench/*.py)
if [ "${#scripts[@]}" -eq 0 ]; then
    say "No benchmarks in bench/ yet."
    exit 0
fi
for script in "${scripts[@]}"; do
    say "$script"
    "$PY" "$script"
done
