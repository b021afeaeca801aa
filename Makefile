# Two commands a newcomer needs: `make run` and `make test`. Everything else is optional.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
HOST   ?= 127.0.0.1
PORT   ?= 8000

.PHONY: run test install dev seed serve lint typecheck clean

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

clean:
	rm -rf $(VENV) var .pytest_cache .mypy_cache .ruff_cache .hypothesis *.egg-info
