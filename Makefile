# cohortflow: `make demo` and `make test` work on a fresh clone with only Python 3.11 installed.
SHELL := /bin/bash
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp
export DBT_SEND_ANONYMOUS_USAGE_STATS := false
export DO_NOT_TRACK := 1
# dagster-dbt runs the `dbt` executable: the venv's bin must come first on PATH.
export PATH := $(CURDIR)/$(BIN):$(PATH)

DEMO_DIR := demo_data
DEMO_PERSONS ?= 20000
# The demo's first run is a week before today 00:00 UTC (where the synthetic history ends): the
# baseline, so the second run (now) shows a week of entries and exits, with events and texts.
DEMO_BASELINE := $(shell $(PYTHON) -c "import datetime as d; print((d.datetime.now(d.timezone.utc) - d.timedelta(days=7)).strftime('%Y-%m-%dT00:00:00'))")
# `make dev`: the Dagster UI's port, an instance that keeps runs, schedules and pool limits
# between sessions (dagster.yaml there links to the project's, so the pool settings apply), and
# the warehouse: COHORTFLOW_WAREHOUSE when the environment sets it, else the demo's.
PORT ?= 3000
DEV_DAGSTER_HOME := $(CURDIR)/.dagster
DEV_WAREHOUSE := $(or $(COHORTFLOW_WAREHOUSE),$(DEMO_DIR)/warehouse.duckdb)

.PHONY: help install demo test test-fast test-dbt lint fmt dev dev-home bench clean

help: ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F ':.*## ' '{printf "  %-10s %s\n", $$1, $$2}'

$(STAMP): pyproject.toml constraints.txt
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -c constraints.txt -e '.[dev]'
	touch $(STAMP)

install: $(STAMP) ## create .venv and install cohortflow with its pinned dependencies

demo: $(STAMP) ## synthetic store -> DuckDB -> dbt build + tests -> a week of changes -> sync into local Klaviyo, Omnisend, Twilio and webhook sandboxes
	$(BIN)/cohortflow generate --persons $(DEMO_PERSONS) --seed 42 --out $(DEMO_DIR)/raw
	rm -f $(DEMO_DIR)/warehouse.duckdb $(DEMO_DIR)/warehouse.duckdb.wal
	COHORTFLOW_WAREHOUSE=$(DEMO_DIR)/warehouse.duckdb $(BIN)/cohortflow load --raw-dir $(DEMO_DIR)/raw
	@echo "first run, as of $(DEMO_BASELINE): the baseline (members are synced; events and texts start after it); summary in $(DEMO_DIR)/baseline_run.json"
	COHORTFLOW_WAREHOUSE=$(DEMO_DIR)/warehouse.duckdb $(BIN)/cohortflow run --sandbox --as-of $(DEMO_BASELINE) --json > $(DEMO_DIR)/baseline_run.json
	@echo "second run, as of now: who entered, left or changed in the week since"
	COHORTFLOW_WAREHOUSE=$(DEMO_DIR)/warehouse.duckdb $(BIN)/cohortflow run --sandbox

# One worker per core (TEST_WORKERS=0 runs in this process, e.g. for pdb). Every test has its own
# folder and database, so workers never share state; each starts its own PostgreSQL server.
TEST_WORKERS ?= auto

test: $(STAMP) ## the whole suite, DuckDB and PostgreSQL (a throwaway server is started if needed)
	$(BIN)/pytest -n $(TEST_WORKERS)

test-fast: $(STAMP) ## unit tests only
	$(BIN)/pytest tests/unit

lint: $(STAMP) ## ruff and mypy
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

fmt: $(STAMP) ## format and autofix
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

dev: $(STAMP) dev-home ## Dagster UI at PORT (3000) on COHORTFLOW_WAREHOUSE, else the demo; state in .dagster/
	DAGSTER_HOME=$(DEV_DAGSTER_HOME) COHORTFLOW_WAREHOUSE='$(DEV_WAREHOUSE)' \
		$(BIN)/dagster dev -w workspace.yaml --port $(PORT)

dev-home: $(DEV_DAGSTER_HOME)/dagster.yaml ## create .dagster/, the persistent instance of `make dev`

# A link, not a copy: a change to the project's dagster.yaml applies at the next start. Made once,
# so an instance file edited by hand is never overwritten.
$(DEV_DAGSTER_HOME)/dagster.yaml:
	mkdir -p $(@D)
	ln -s $(CURDIR)/dagster.yaml $@

bench: $(STAMP) ## benchmarks (writes benchmarks/RESULTS.md)
	$(BIN)/python -m benchmarks.run_all

clean: ## remove generated data, dbt target and the venv
	rm -rf $(DEMO_DIR) dbt_project/target dbt_project/logs $(VENV) benchmarks/.work
