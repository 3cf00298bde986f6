# Thin wrappers: the logic lives in scripts/ (see README.md).
# make run [PORT=8000]    set up a local portal and start it
# make test [ARGS=...]    the test suite against real PostgreSQL and Redis; ARGS go to pytest
# make lint               ruff, mypy, the import contracts and the missing-migration check
# make bench [ARGS=...]   the benchmark scripts in bench/; ARGS="web --duration 5" runs one

.PHONY: run test lint bench

run:
	PORT="$(PORT)" bash scripts/run.sh

test:
	bash scripts/test.sh $(ARGS)

lint:
	bash scripts/lint.sh

bench:
	bash scripts/bench.sh $(ARGS)
