# servicepulse — everything a developer or CI runs. `make run` and `make test` work from a fresh clone.
SHELL := /bin/bash
PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
export DJANGO_SETTINGS_MODULE ?= servicepulse.config.settings.dev
export HF_HUB_OFFLINE := 1
export TRANSFORMERS_OFFLINE := 1
# Python keeps compiled modules in __pycache__ (ignored by git). Where the environment turns that off, every
# servicepulse process compiled the project afresh and every test run rewrote the tests' asserts again
# (collecting the suite took 15 s instead of 5, once per worker and pass).
export PYTHONDONTWRITEBYTECODE :=
PG_URL ?= postgres://postgres@127.0.0.1:5432/servicepulse_test
TEST_WORKERS ?= $(shell nproc 2>/dev/null || echo 2)

.PHONY: install run test browser-deps lint bench bench-load bench-scale bench-dashboard fuzz models lock clean

install: $(STAMP)

$(STAMP): requirements.txt pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -r requirements.txt
	$(BIN)/pip install --quiet --no-deps --no-build-isolation -e .
	touch $(STAMP)

run: install
	$(BIN)/servicepulse run

# Chromium for the browser tests comes from Debian's packages (Playwright drives it by executable path).
browser-deps:
	@command -v chromium >/dev/null 2>&1 || { \
	  if [ "$$(id -u)" = 0 ]; then apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; \
	  else echo "chromium is missing: sudo apt-get install chromium (browser tests will be skipped)"; fi; }

# The suite runs on SQLite, then on PostgreSQL when one answers on 127.0.0.1:5432; each pass runs in parallel
# on every core, then runs the few tests that must run alone (they stop the PostgreSQL server). The
# PostgreSQL pass leaves out the browser tests, those that use their own database (own_database), those that
# never reach a database and the long end-to-end ones marked `once` (tests/conftest.py: they would only repeat
# the SQLite pass).
# One torch thread per test process: the parallel workers already use every core, and two threads each only
# made them wait for one another (6% longer on the analysis tests).
PYTEST := DJANGO_SETTINGS_MODULE=servicepulse.config.settings.test SERVICEPULSE_TORCH_THREADS=1 \
	$(BIN)/pytest -q -p no:cacheprovider
test: install browser-deps
	$(PYTEST) -n $(TEST_WORKERS) -m "not serial"
	@if $(BIN)/python -c "import socket; socket.create_connection(('127.0.0.1', 5432), 1)" 2>/dev/null; then \
	  echo "== again on PostgreSQL =="; \
	  DATABASE_URL=$(PG_URL) $(PYTEST) -n $(TEST_WORKERS) -m "not serial and not browser and not own_database" && \
	  DATABASE_URL=$(PG_URL) $(PYTEST) -m serial; \
	else echo "PostgreSQL is not reachable on 127.0.0.1:5432: skipped the PostgreSQL pass"; fi

lint: install
	$(BIN)/ruff check servicepulse tests bench
	$(BIN)/ruff format --check servicepulse tests bench
	$(BIN)/mypy servicepulse

# Every benchmark, each printing its figure (the scale and dashboard ones take a while).
bench: install
	@for script in bench/bench_*.py; do echo "== $$script"; $(BIN)/python $$script || exit 1; done

bench-load: install
	$(BIN)/python bench/bench_load.py

bench-scale: install
	$(BIN)/python bench/bench_scale.py

bench-dashboard: install
	$(BIN)/python bench/bench_dashboard.py

fuzz: install
	DJANGO_SETTINGS_MODULE=servicepulse.config.settings.test $(BIN)/python fuzz/run.py --all --seconds $${FUZZ_SECONDS:-120}

models: install
	$(BIN)/servicepulse train --data ../shared/data

lock:
	$(BIN)/pip freeze --exclude-editable | grep -v '^servicepulse' | sed 's/^torch==.*+cpu/torch==2.13.0/' > requirements.txt

clean:
	rm -rf $(VENV) var .pytest_cache .mypy_cache .ruff_cache
