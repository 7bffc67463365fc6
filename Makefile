# The README's commands. `make run` and `make test` each do all set-up on a
# fresh machine. See README.md for what they do and how to configure them.

PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
RUN_STAMP  := $(VENV)/.installed-run
DEV_STAMP  := $(VENV)/.installed-dev

# Tests always run against PostgreSQL and Redis on this machine.
TEST_DATABASE_URL ?= postgres://postgres@127.0.0.1:5432/lending
TEST_REDIS_URL    ?= redis://127.0.0.1:6379/15
# Two pytest-xdist workers: CI machines have two cores.
PYTEST_ARGS ?= -n 2

.PHONY: run test install install-dev services chromium lint check-migrations pytest bench clean

$(VENV)/bin/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(RUN_STAMP): pyproject.toml | $(VENV)/bin/python
	$(BIN)/pip install --quiet -e .
	touch $@

$(DEV_STAMP): pyproject.toml | $(VENV)/bin/python
	$(BIN)/pip install --quiet -e ".[dev]"
	touch $@ $(RUN_STAMP)

install: $(RUN_STAMP)
install-dev: $(DEV_STAMP)

## make run: install, start the embedded PostgreSQL (unless DATABASE_URL is set),
## migrate, load the demo portfolio, serve on http://127.0.0.1:8000
# RUN_STARTED: when `make run` started (before any install), for "Ready in".
run: export RUN_STARTED := $(shell date +%s)
run: install
	./scripts/run.sh

## make test: everything CI checks, against real PostgreSQL and Redis
test: install-dev services chromium lint check-migrations pytest

services:
	./scripts/ensure_services.sh

chromium:
	@command -v chromium >/dev/null 2>&1 || { \
	  echo "Installing Debian's chromium for browser tests"; \
	  $(if $(filter 0,$(shell id -u)),,sudo) apt-get update -qq && \
	  $(if $(filter 0,$(shell id -u)),,sudo) DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium; }

lint: install-dev
	$(BIN)/ruff format --check .
	$(BIN)/ruff check .
	$(BIN)/lint-imports

check-migrations: install-dev services
	DATABASE_URL=$(TEST_DATABASE_URL) $(BIN)/python manage.py makemigrations --check --dry-run

pytest: install-dev
	DATABASE_URL=$(TEST_DATABASE_URL) REDIS_URL=$(TEST_REDIS_URL) TESTING=1 \
	  $(BIN)/pytest --create-db $(PYTEST_ARGS)

## make bench: performance figures (printed, never asserted); servicing runs
## once per size in BENCH_SIZES (make bench BENCH_SIZES=10000 for a quick one)
BENCH_SIZES ?= 10000 100000
## end of day over a generated book, once per size in EOD_SIZES
EOD_SIZES ?= 100000 1000000
BENCH_ENV = DATABASE_URL=$(TEST_DATABASE_URL) REDIS_URL=$(TEST_REDIS_URL)
bench: install-dev services
	$(BENCH_ENV) $(BIN)/python -m bench finance
	for n in $(BENCH_SIZES); do $(BENCH_ENV) $(BIN)/python -m bench servicing --n $$n || exit 1; done
	$(BENCH_ENV) $(BIN)/python -m bench origination --n 1000
	for n in $(EOD_SIZES); do $(BENCH_ENV) $(BIN)/python -m bench eod --n $$n || exit 1; done

clean:
	rm -rf $(VENV) var .pytest_cache .ruff_cache
