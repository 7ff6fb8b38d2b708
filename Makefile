# subops — every target works from a fresh clone and is idempotent.
SHELL := /bin/bash
.DEFAULT_GOAL := help

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
# uv from PATH, else installed with pip into a private tools venv (no global changes)
UV := $(shell command -v uv 2>/dev/null || echo .tools/bin/uv)
export DAGSTER_HOME := $(CURDIR)/data/dagster_home
export UV_PYTHON := $(PYTHON)

.PHONY: help bootstrap manifest demo test test-engines dev lint format docs bench bench-quick clean

help:  ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-12s %s\n", $$1, $$2}'

.tools/bin/uv:
	$(PYTHON) -m venv .tools && .tools/bin/pip install --quiet uv

$(VENV)/.installed: pyproject.toml uv.lock | $(UV)
	$(UV) sync --frozen --extra dev
	@touch $@

# the server targets' clients (make test-engines); --inexact keeps the dev set installed
ENGINE_EXTRAS := --extra postgres --extra spark
$(VENV)/.installed-engines: $(VENV)/.installed
	$(UV) sync --frozen --inexact --extra dev $(ENGINE_EXTRAS)
	@touch $@

$(DAGSTER_HOME)/dagster.yaml: | $(VENV)/.installed
	@$(BIN)/python -c "from pathlib import Path; from pipelines.defs.instance import ensure_dagster_home as e; e(Path('$(DAGSTER_HOME)'))"

bootstrap: $(VENV)/.installed $(DAGSTER_HOME)/dagster.yaml  ## create .venv from uv.lock

manifest: bootstrap  ## parse the dbt project (dagster-dbt reads target/manifest.json)
	@$(BIN)/python -m pipelines.dbt_project

demo: manifest  ## sample company → warehouse → dashboard (prints its URL)
	$(BIN)/subops demo

test: manifest  ## every test: unit, dbt, integration, browser (not the engines: test-engines)
	$(BIN)/pytest -n 2 --dist loadfile --no-loadscope-reorder --ignore=tests/engines --durations=20

test-engines: manifest $(VENV)/.installed-engines  ## the pipeline on PostgreSQL and Spark = DuckDB (needs initdb/pg_ctl, java)
	$(BIN)/pytest tests/engines -v

dev: manifest  ## Dagster UI on localhost:3000
	$(BIN)/subops dev

lint: bootstrap  ## ruff + sqlfluff
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	cd dbt_project && ../$(BIN)/sqlfluff lint models tests macros

format: bootstrap  ## apply ruff formatting and fixes
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

docs: manifest  ## docs/sources.md from the contract, docs/warehouse.md's columns from the marts' yml + dbt docs
	$(BIN)/python -m pipelines.contract.docs
	$(BIN)/python dbt_project/scripts/mart_docs.py
	@mkdir -p data/warehouse
	@if [ -e data/warehouse/current.duckdb ]; then cp -L data/warehouse/current.duckdb data/warehouse/docs.duckdb; fi
	cd dbt_project && SUBOPS_DBT_DUCKDB_PATH=../data/warehouse/docs.duckdb ../$(BIN)/dbt docs generate
	@echo "open dbt_project/target/index.html (or: cd dbt_project && ../$(BIN)/dbt docs serve)"

bench: manifest  ## benchmark at scales 1, 10, 100 → bench/results/ (long; not in make test)
	$(BIN)/subops bench

bench-quick: manifest  ## benchmark at scale 0.1, each measurement once → data/bench/results/
	$(BIN)/subops bench --quick

clean:  ## remove generated data and build outputs (keeps .venv)
	rm -rf data/landing data/landing.truth data/warehouse dbt_project/target dbt_project/logs

.PHONY: serve
serve: manifest  ## subops as a service: Dagster daemon (schedule, sensor, alerts), Dagster UI, dashboard
	$(BIN)/subops serve
