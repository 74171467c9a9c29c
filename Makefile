# The two commands: `make run` (install, migrate, demo data, web + worker + beat) and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
MANAGE := $(BIN)/python manage.py
export PIP_DISABLE_PIP_VERSION_CHECK := 1

.PHONY: run test check install install-dev e2e bench clean

run: $(VENV)/.installed .env ## Install, migrate, load demo data once, start web + worker + beat
	@$(MANAGE) compile_catalogs
	@$(MANAGE) migrate --noinput -v0
	@$(MANAGE) collectstatic --noinput -v0
	@$(MANAGE) seed_demo --if-empty
	@echo "Starting web (http://127.0.0.1:$${WEB_PORT:-8000}), worker and beat. Ctrl-C stops all."
	@PATH="$(CURDIR)/$(BIN):$$PATH" $(BIN)/honcho -f Procfile start

# Tests run with production settings (DEBUG off) except HTTPS, which the test client lacks.
TEST_ENV := DEBUG=false SECURE_SSL_REDIRECT=false \
	SECRET_KEY=$${SECRET_KEY:-test-only-0123456789-abcdefghijklmnopqrstuvwxyz-ABCDEFGH}

test: $(VENV)/.installed-dev ## The whole suite (PostgreSQL and Redis when DATABASE_URL / REDIS_URL are set)
	@$(TEST_ENV) $(MANAGE) compile_catalogs
	$(TEST_ENV) $(BIN)/pytest $(PYTEST_ARGS)

check: $(VENV)/.installed-dev ## Fast static checks, for every commit
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/lint-imports
	DEBUG=false SECRET_KEY=check-deploy-0123456789-abcdefghijklmnopqrstuvwxyz-ABCDEFGHIJ \
		ALLOWED_HOSTS=desk.bank.example $(MANAGE) check --deploy --fail-level WARNING
	DEBUG=true $(MANAGE) makemigrations --check --dry-run
	$(BIN)/python scripts/audit_deps.py

install: $(VENV)/.installed
install-dev: $(VENV)/.installed-dev

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip

$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/pip install -q -e .
	@touch $@

$(VENV)/.installed-dev: pyproject.toml | $(BIN)/python
	$(BIN)/pip install -q -e '.[dev]'
	@touch $(VENV)/.installed $@

# A local .env for development: DEBUG on and a fresh random SECRET_KEY.
.env:
	@$(PYTHON) -c "import secrets; print(open('.env.example').read().replace('SECRET_KEY=', 'SECRET_KEY=' + secrets.token_urlsafe(50), 1).replace('DEBUG=false', 'DEBUG=true', 1), end='')" > .env
	@echo "Wrote .env (DEBUG on, SQLite). Edit it or set DATABASE_URL / REDIS_URL to use PostgreSQL / Redis."

bench: $(VENV)/.installed-dev ## Benchmarks; each prints its figures
	@for b in bench/[!_]*.py; do echo "== $$b"; $(BIN)/python $$b || exit 1; done

clean:
	rm -rf $(VENV) var .pytest_cache .ruff_cache
