# healthmon: every target does its own set-up from a fresh clone.
PYTHON ?= python3.11
VENV   ?= .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
REDIS_URL ?= redis://127.0.0.1:6379/0
export REDIS_URL

.PHONY: help venv demo lint test bench drills tools redis schemas clean

help:  ## list targets
	@grep -E '^[a-z-]+:.*##' $(MAKEFILE_LIST) | sed 's/:.*##/\t/'

$(STAMP): pyproject.toml
	@command -v $(PYTHON) >/dev/null || { echo "error: $(PYTHON) not found; install Python 3.11" >&2; exit 1; }
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[test,bench]'
	touch $(STAMP)

venv: $(STAMP)  ## create .venv and install healthmon with test extras

redis:  ## make sure a Redis answers at 127.0.0.1:6379 (starts one if absent)
	@sh deploy/scripts/ensure-redis.sh

tools:  ## install Prometheus/Alertmanager tools (Debian packages) used by the deploy tests
	@sh deploy/scripts/install-tools.sh

demo: $(STAMP)  ## run broker, worker and generator together and show alerts (ALERTMANAGER=URL: also push them there)
	$(BIN)/healthmon demo $(if $(ALERTMANAGER),--alertmanager $(ALERTMANAGER))

lint: $(STAMP)  ## ruff (lint and import order) and mypy (healthmon/core strict, the rest checked)
	$(BIN)/ruff check .
	$(BIN)/mypy --strict --no-warn-unused-configs healthmon/core
	$(BIN)/mypy

test: $(STAMP) lint redis tools  ## run lint, then the whole test suite
	$(BIN)/python -m pytest

bench: $(STAMP)  ## run the throughput benchmark (see BENCHMARKS.md)
	$(BIN)/healthmon bench

schemas: $(STAMP)  ## re-export the JSON Schemas into schemas/json/
	$(BIN)/python -m schemas.export

clean:  ## remove the virtualenv and local state
	rm -rf $(VENV) .healthmon-data .pytest_cache

drills: $(STAMP) redis  ## run the fault drills (rebalance, broker pause, outage, SIGKILLs, poison) and update RELIABILITY.md
	$(BIN)/python -m healthmon.drills --write RELIABILITY.md
