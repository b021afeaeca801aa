# Two commands a newcomer needs: `make run` and `make test`. Everything else is optional.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
HOST   ?= 127.0.0.1
PORT   ?= 8000

.PHONY: run test install dev seed serve lint typecheck clean bench bench-full

$(BIN)/python:
	@$(PYTHON) -c "import sys; assert sys.version_info >= (3, 11), \"Python 3.11+ is needed (try: make run PYTHON=python3.12)\""
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

install: $(BIN)/python  ## the app and its command line, into .venv
	$(BIN)/python -m pip install --quiet -e .

dev: $(BIN)/python  ## the app plus the test and lint tools
	$(BIN)/python -m pip install --quiet -e ".[dev]"

run: install  ## install, seed the embedded store (idempotent), serve on http://$(HOST):$(PORT)
	$(BIN)/diplo seed
	$(BIN)/diplo serve --host $(HOST) --port $(PORT)

seed: install
	$(BIN)/diplo seed

serve: install
	$(BIN)/diplo serve --host $(HOST) --port $(PORT)

test: dev  ## the whole suite, SQLite and PostgreSQL (DIPLO_TEST_DATABASE_URL, default the local server)
	$(BIN)/python -m pytest

lint: dev
	$(BIN)/ruff check .

typecheck: dev
	$(BIN)/mypy

bench: dev  ## benchmarks against the floor, 10k acts on SQLite and PostgreSQL (a few minutes; docs/benchmarks.md)
	$(BIN)/python -m bench.run quick
	$(BIN)/python -m bench.report bench/results/quick.json --update docs/benchmarks.md

bench-full: dev  ## the same at 10k, 100k and 1M acts (hours: the 1M import alone is long)
	$(BIN)/python -m bench.run full
	$(BIN)/python -m bench.report bench/results/full.json --update docs/benchmarks.md

clean:
	rm -rf $(VENV) var .pytest_cache .mypy_cache .ruff_cache .hypothesis *.egg-info
