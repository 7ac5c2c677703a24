# `make demo` and `make test` work from a fresh clone with only Python 3.11+ and pip.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: demo test lint check format run run-http bench doctor screenshots clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

$(STAMP): $(BIN)/python pyproject.toml
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

demo: $(STAMP)
	$(BIN)/python demo.py

# The suite on SQLite, then again on PostgreSQL (a server pgserver starts from its wheel; see tests/engines.py).
test: $(STAMP)
	$(BIN)/python -m pytest -q
	PERCH_TEST_DATABASE=postgresql $(BIN)/python -m pytest -q

lint: $(STAMP)
	$(BIN)/ruff check .

# What CI checks besides the tests: lint, formatting, types and the house's size rules (tools/house_rules.py).
check: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy
	$(BIN)/python tools/house_rules.py

format: $(STAMP)
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

run: $(STAMP)
	$(BIN)/python -m bot

run-http: $(STAMP)
	$(BIN)/python -m bot --http

# Check the configuration (.env or the environment) against Slack and X: one line per check, ✓ or ✗ with the fix.
doctor: $(STAMP)
	$(BIN)/python -m bot doctor

# Pictures of what Perch posts (docs/screenshots/*.png), drawn from a demo run by a headless Chromium.
# Finds Chromium on PATH (or CHROMIUM=/path); as root on Debian/Ubuntu it installs it with apt-get.
screenshots: $(STAMP)
	@command -v chromium >/dev/null || command -v chromium-browser >/dev/null || command -v google-chrome >/dev/null \
	  || [ -n "$$CHROMIUM" ] \
	  || { [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null \
	       && apt-get install -y -q chromium fonts-noto-color-emoji >/dev/null; } \
	  || { echo "make screenshots needs Chromium: sudo apt-get install chromium fonts-noto-color-emoji (or set CHROMIUM=/path/to/chrome)"; exit 1; }
	$(BIN)/python tools/screenshots.py

bench: $(STAMP)
	$(BIN)/python bench/ingest.py

clean:
	rm -rf $(VENV) *.egg-info .pytest_cache .ruff_cache
