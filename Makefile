# Qamqor: the two commands of the README are `make run` and `make test`.
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
PG_URL ?= postgresql+psycopg://postgres@127.0.0.1:5432/postgres

.PHONY: install install-test run test test-sqlite test-postgres test-browser lint catalogs

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

install: $(BIN)/python
	scripts/system-deps.sh
	$(BIN)/pip install --quiet -e .

install-test: $(BIN)/python
	scripts/system-deps.sh --test
	$(BIN)/pip install --quiet -e '.[test]'

## Install, migrate, load the demo data and serve on http://127.0.0.1:5000 (SQLite).
## Links in mails and posters use this address (QAMQOR_PUBLIC_URL); localhost is accepted too.
run: export QAMQOR_PUBLIC_URL ?= http://127.0.0.1:5000
run: export QAMQOR_TRUSTED_HOSTS ?= localhost
run: install
	$(BIN)/flask --app app seed-demo
	$(BIN)/flask --app app run

lint:
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

test-sqlite:
	$(BIN)/pytest -p no:cacheprovider

test-postgres:
	QAMQOR_TEST_PG_URL=$(PG_URL) scripts/with-postgres.sh $(BIN)/pytest -p no:cacheprovider

## Only the browser tests (Debian's Chromium through Playwright; part of the whole suite too).
## Screenshots in artifacts/screenshots/, every axe finding in artifacts/axe.jsonl.
test-browser: install-test
	$(BIN)/pytest -p no:cacheprovider -m browser

## Install the test dependencies, lint, and run the whole suite on SQLite and on PostgreSQL.
test: install-test lint test-sqlite test-postgres

## Re-extract the strings and merge them into the kk, ru and en catalogs.
catalogs:
	flock translations/.lock sh -c '\
	$(BIN)/pybabel extract -F babel.cfg -k _l -k lazy_gettext -k lazy_ngettext:1,2 --no-location --sort-output --omit-header -o translations/messages.pot . && \
	$(BIN)/pybabel update -i translations/messages.pot -d translations --no-fuzzy-matching --ignore-obsolete'

