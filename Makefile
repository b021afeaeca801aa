# Two commands a newcomer needs: `make run` and `make test`. Everything else is optional.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
HOST   ?= 127.0.0.1
PORT   ?= 8000

.PHONY: run test install dev seed seed-ai serve lint typecheck clean web bench bench-full wrk compose-env

$(BIN)/python:
	@$(PYTHON) -c "import sys; assert sys.version_info >= (3, 11), \"Python 3.11+ is needed (try: make run PYTHON=python3.12)\""
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

install: $(BIN)/python  ## the app, its command line and the extra that reads the General Assembly record, into .venv
	$(BIN)/python -m pip install --quiet -e ".[unga]"

dev: $(BIN)/python  ## the app plus the test and lint tools
	$(BIN)/python -m pip install --quiet -e ".[dev]"

run: install  ## install, build the web page if npm is here, seed the embedded store (idempotent), serve on http://$(HOST):$(PORT)
	@$(MAKE) --no-print-directory web || echo "The web page did not build (see above); the API still serves http://$(HOST):$(PORT)/docs"
	$(BIN)/diplo seed
	$(BIN)/diplo serve --host $(HOST) --port $(PORT)

seed: install
	$(BIN)/diplo seed

seed-ai: install  ## a quick start: the AI summits only (make run adds the General Assembly's votes later)
	$(BIN)/diplo seed --only ai-summits

serve: install
	$(BIN)/diplo serve --host $(HOST) --port $(PORT)

test: dev  ## the whole suite, SQLite and PostgreSQL (DIPLO_TEST_DATABASE_URL, default the local server)
	-@$(MAKE) --no-print-directory web
	$(BIN)/python -m pytest

# The web page (web/dist, served at /) needs Node.js 20.19+ and npm; without them the API still works.
WEB_SOURCES := $(wildcard web/src/*.ts web/src/*.css web/src/generated/iso-numeric.json web/src/generated/api.ts web/scripts/*.mjs web/public/*) \
               web/index.html web/vite.config.ts web/tsconfig.json

web:  ## build the web page into web/dist when Node.js and npm are here (npm ci + npm run build)
	@if ! command -v npm >/dev/null 2>&1 || ! command -v node >/dev/null 2>&1; then \
	  echo "The web page is not built: it needs Node.js 20.19 or newer with npm (your package manager, or https://nodejs.org/en/download)."; \
	  echo "The API works without it; once npm is installed, 'make web' (or 'make run') builds the page."; \
	elif ! node -e 'const [a, b] = process.versions.node.split(".").map(Number); process.exit(a > 20 || (a === 20 && b >= 19) ? 0 : 1)'; then \
	  echo "The web page is not built: Node.js $$(node --version) is too old; it needs 20.19 or newer (https://nodejs.org/en/download)."; \
	else \
	  $(MAKE) --no-print-directory web/dist/index.html; \
	fi

web/node_modules/.package-lock.json: web/package-lock.json web/package.json
	cd web && npm ci --no-audit --no-fund

web/dist/index.html: web/node_modules/.package-lock.json $(WEB_SOURCES)
	cd web && npm run build

compose-env: .env  ## docker compose's settings: .env with a generated write token (an existing .env is kept)

.env:
	@umask 077 && printf 'DIPLO_WRITE_TOKENS=%s\n' "$$($(PYTHON) -c 'import secrets; print(secrets.token_urlsafe(24))')" > $@
	@echo "wrote $@: docker compose reads DIPLO_WRITE_TOKENS from it; writes take that token as a Bearer token"

lint: dev
	$(BIN)/ruff check .

typecheck: dev
	$(BIN)/mypy

bench: dev wrk  ## benchmarks against the floor: 10k acts and the UN record, SQLite and PostgreSQL (docs/benchmarks.md)
	$(BIN)/python -m bench.run quick
	$(BIN)/python -m bench.report bench/results/quick.json --update docs/benchmarks.md
	$(BIN)/python -m bench.unga --backends sqlite postgres
	$(BIN)/python -m bench.alignment --backends sqlite postgres

wrk:  # the HTTP figures need a load generator faster than the server; a Python one would set the pace itself
	@command -v wrk >/dev/null || { echo "make bench needs wrk for its HTTP figures: sudo apt-get install wrk" >&2; exit 1; }

bench-full: dev wrk  ## the same at 10k, 100k and 1M acts (SQLite alone ~40 min; with PostgreSQL at 1M, longer)
	$(BIN)/python -m bench.run full
	$(BIN)/python -m bench.report bench/results/full.json --update docs/benchmarks.md

clean:
	rm -rf $(VENV) var .pytest_cache .mypy_cache .ruff_cache .hypothesis *.egg-info
