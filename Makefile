# StockMind — the two commands: `make up` (install + run the platform), `make test`.
SHELL := /bin/bash
VENV  := .venv
BIN   := $(VENV)/bin
STAMP := $(VENV)/.installed
PYTEST_ARGS ?=

.PHONY: help install up down status test test-fast lint format lock bench screenshots clean

help:
	@echo "make up        install everything, start PostgreSQL + Airflow, load prices"
	@echo "make down      stop Airflow and the local PostgreSQL"
	@echo "make test      the full test suite (installs first if needed)"
	@echo "make test-fast the suite without tests marked slow"
	@echo "make lint      ruff lint + format check;  make format  to fix"
	@echo "make bench     ingestion benchmark on the shared data (docs/benchmarks.md)"
	@echo "make lock      re-resolve requirements.in into requirements.txt"
	@echo "make screenshots  every web page of the running platform, checked in chromium, into docs/images"

install: $(STAMP)

$(STAMP): requirements.txt pyproject.toml package-lock.json scripts/install.sh
	bash scripts/install.sh
	@touch $(STAMP)

up: install
	$(BIN)/stockmind up

down:
	@if [ -x $(BIN)/stockmind ]; then $(BIN)/stockmind down; else echo "nothing installed, nothing to stop"; fi

status: install
	$(BIN)/stockmind status

test: install
	$(BIN)/python -m pytest $(PYTEST_ARGS)

test-fast: install
	$(BIN)/python -m pytest -m "not slow" $(PYTEST_ARGS)

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: install
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

lock: install
	$(BIN)/uv pip compile requirements.in -o requirements.txt \
	  --python-version 3.11 --python-platform x86_64-manylinux_2_28

# the revision before the incremental change tracking (issue 15): scale.py's baseline
SCALE_BASELINE ?= 0efe511

bench: install
	$(BIN)/python bench/ingest.py --write docs/benchmarks.md
	$(BIN)/python bench/indicators.py --write docs/benchmarks.md
	command -v wrk >/dev/null || { [ "$$(id -u)" = 0 ] && apt-get install -y -qq wrk; } || true
	$(BIN)/python bench/api.py --write docs/benchmarks.md
	$(BIN)/python bench/ws.py --write docs/benchmarks.md
	$(BIN)/python bench/sample_provider.py --old-limit 2000 --repeat 3 --write docs/benchmarks.md
	$(BIN)/python bench/scale.py --symbols 10000 --baseline $(SCALE_BASELINE) --write docs/benchmarks.md
	$(BIN)/python bench/ml.py --write docs/benchmarks.md
	$(BIN)/python bench/sentiment.py --write docs/benchmarks.md

screenshots: install
	$(BIN)/stockmind screenshots --out docs/images

clean: down
	rm -rf .local
