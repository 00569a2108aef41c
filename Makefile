# tradewatch — `make help` lists the targets.
PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.DEFAULT_GOAL := help
.PHONY: help venv demo test test-fast lint sample lock clean reliability-doc bench installed-demo

help: ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-10s %s\n", $$1, $$2}'

$(STAMP): requirements.lock pyproject.toml
	@command -v $(PYTHON) >/dev/null || { echo "needs $(PYTHON) (set PYTHON=... to use another 3.11)"; exit 1; }
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --disable-pip-version-check -r requirements.lock
	$(BIN)/pip install --quiet --disable-pip-version-check --no-deps -e .
	touch $(STAMP)

venv: $(STAMP) ## build .venv from the committed lock (exact versions)

demo: $(STAMP) ## run the monthly refresh DAG through Airflow on the sample archive (no network, no keys)
	$(BIN)/tradewatch demo

test: $(STAMP) ## run every test, including the end-to-end DAG runs
	$(BIN)/ruff check .
	$(BIN)/pytest

test-fast: $(STAMP) ## run the tests that take seconds, not minutes
	$(BIN)/pytest -m "not slow"

installed-demo: ## `pip install .` as a user would: the wheel in a fresh venv, the demo from a temp dir (CI runs it)
	PYTHON=$(PYTHON) .ci/installed-demo

reliability-doc: $(STAMP) ## run the fault-injection suite and regenerate docs/reliability.md from its results
	TRADEWATCH_RELIABILITY_DOC=1 $(BIN)/pytest tests/reliability

bench: $(STAMP) ## benchmarks (not tests): realistic 1/3/10 years and 10x partners, backfill + incremental month; docs/benchmarks.md
	GX_ANALYTICS_ENABLED=false $(BIN)/python -m bench.run --out docs/benchmarks.md

lint: $(STAMP) ## ruff
	$(BIN)/ruff check .

sample: $(STAMP) ## write the SYNTHETIC sample release archive to data/sample_archive
	$(BIN)/tradewatch sample

lock: ## re-resolve the direct requirements in pyproject.toml and rewrite requirements.lock
	rm -rf /tmp/tradewatch-lock && $(PYTHON) -m venv /tmp/tradewatch-lock
	/tmp/tradewatch-lock/bin/pip install --quiet --upgrade pip
	/tmp/tradewatch-lock/bin/pip install --quiet -e ".[dev]"
	{ echo "# Exact versions of every package in .venv, resolved with plain pip on Python 3.11."; \
	  echo "# Regenerate with \`make lock\` after changing the direct requirements in pyproject.toml."; \
	  /tmp/tradewatch-lock/bin/pip freeze --exclude-editable | grep -v '^tradewatch'; } > requirements.lock

clean: ## remove the data directory (warehouse, landing zone, sample archive, Airflow home)
	rm -rf data dbt_project/target dbt_project/logs
