# Two commands matter: `make run` (the whole service on a laptop) and `make test` (the whole suite).
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
TEST_STAMP := $(VENV)/.installed-test

.PHONY: run test test-fast lint install install-test browser pdftools bench clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -e '.[postgres]'
	touch $@

$(TEST_STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -e '.[postgres,test]'
	touch $@ $(STAMP)

install: $(STAMP)
install-test: $(TEST_STAMP)

run: $(STAMP)
	mkdir -p var
	$(BIN)/zoombot db upgrade
	$(BIN)/zoombot demo --if-empty
	ZOOMBOT_LOG_FORMAT=$${ZOOMBOT_LOG_FORMAT:-text} $(BIN)/zoombot serve

# The browser tests need Debian's Chromium: installed here when missing, else one clear line and a failure.
browser:
	@sh tests/browser/ensure-chromium.sh

# The PDF tests read certificates with poppler's pdftotext and pdftoppm: installed here when missing, likewise.
pdftools:
	@sh tests/ensure-debian-package.sh poppler-utils "the PDF tests need pdftotext and pdftoppm" pdftotext pdftoppm

test: $(TEST_STAMP) browser pdftools
	$(BIN)/python -m pytest $(PYTEST_ARGS)

# The unit tier: every test that needs no database, server or browser (marked by tests/conftest.py).
test-fast: $(TEST_STAMP)
	$(BIN)/python -m pytest -q -m unit $(PYTEST_ARGS)

# Lint and types, as CI runs them before the tests (configured in pyproject.toml).
lint: $(TEST_STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

bench: $(TEST_STAMP)
	@command -v wrk >/dev/null 2>&1 || { echo "installing wrk (Debian package) for bench.webhooks"; \
	  apt-get update -qq && apt-get install -y -qq wrk >/dev/null; } || { echo "make bench: wrk is missing and could not be installed (apt-get install wrk)"; exit 1; }
	$(BIN)/python -m bench.webhooks
	$(BIN)/python -m bench.load
	$(BIN)/python -m bench.records
	$(BIN)/python -m bench.export
	$(BIN)/python -m bench.meeting_page

clean:
	rm -rf $(VENV) var .pytest_cache
