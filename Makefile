# healthmon: every target does its own set-up from a fresh clone.
PYTHON ?= python3.11
VENV   ?= .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
REDIS_URL ?= redis://127.0.0.1:6379/0
export REDIS_URL
# pytest processes for `make test` (pytest-xdist; the suite mostly waits on brokers and workers, so three
# beat two even on 2 cores: 673 s against 927 s for the same tests). TEST_WORKERS=0 runs it in one process.
TEST_WORKERS ?= 3

.PHONY: help venv compile pure demo lint test bench drills tools redis schemas clean cdnow

help:  ## list targets
	@grep -E '^[a-z-]+:.*##' $(MAKEFILE_LIST) | sed 's/:.*##/\t/'

$(STAMP): pyproject.toml setup.py
	@command -v $(PYTHON) >/dev/null || { echo "error: $(PYTHON) not found; install Python 3.11" >&2; exit 1; }
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[test,bench]'
	touch $(STAMP)

venv: $(STAMP)  ## create .venv and install healthmon with test extras (compiles the core if a C compiler is there)

compile: $(STAMP)  ## compile healthmon/core with mypyc in place (what the install does when it can)
	$(BIN)/python setup.py --quiet build_ext --inplace
	@$(BIN)/python -c "from healthmon.core.compiled import core_mode; print('core:', core_mode())"

pure:  ## remove the compiled core: the checkout runs healthmon/core as Python (HEALTHMON_PURE_CORE=1 does so too)
	rm -f healthmon/core/*.so

redis:  ## make sure a Redis answers at 127.0.0.1:6379 (starts one if absent)
	@sh deploy/scripts/ensure-redis.sh

tools:  ## install Prometheus/Alertmanager tools and headless Chromium (Debian packages) used by the deploy and page tests
	@sh deploy/scripts/install-tools.sh

demo: $(STAMP)  ## run broker, worker and generator together and show alerts (ALERTMANAGER=URL: also push them there; FORMAT=segment[,zendesk,...]: send the traffic in those sources' shapes)
	$(BIN)/healthmon demo $(if $(ALERTMANAGER),--alertmanager $(ALERTMANAGER)) $(if $(FORMAT),--format $(FORMAT))

lint: $(STAMP)  ## ruff (lint and import order), mypy (healthmon/core strict, the rest checked), the layers (lint-imports)
	$(BIN)/ruff check .
	$(BIN)/mypy --strict --no-warn-unused-configs healthmon/core
	$(BIN)/mypy
	$(BIN)/lint-imports

test: $(STAMP) lint redis tools  ## run lint, the whole test suite, then the core's tests again on the pure-Python core
	$(BIN)/python -m pytest -n $(TEST_WORKERS) --dist loadfile
	HEALTHMON_PURE_CORE=1 $(BIN)/python -m pytest -q tests/core tests/bench/test_inprocess.py

bench: $(STAMP)  ## run the throughput benchmark (see BENCHMARKS.md)
	$(BIN)/healthmon bench

CDNOW_DIR ?= cdnow
cdnow: $(STAMP)  ## backtest input from the CDNOW purchase sample in $(CDNOW_DIR)/ (installs lifetimes, not its dependencies, for the file)
	$(BIN)/pip install --quiet --no-deps 'lifetimes==0.11.3'
	$(BIN)/python -m healthmon.backtest.cdnow --to-dir $(CDNOW_DIR)

schemas: $(STAMP)  ## re-export the JSON Schemas into schemas/json/
	$(BIN)/python -m schemas.export

clean:  ## remove the virtualenv and local state
	rm -rf $(VENV) .healthmon-data .pytest_cache build healthmon/core/*.so

drills: $(STAMP) redis  ## run the fault drills (rebalance, broker pause, outage, SIGKILLs, poison) and update RELIABILITY.md
	$(BIN)/python -m healthmon.drills --write RELIABILITY.md
