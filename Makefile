# headerkit: two commands on a fresh machine with Python 3.11 and make.
#   make run    set up, then decode the bundled default capture into a table
#   make test   set up, then run lint, format check, type check and the whole test suite

PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
DEFAULT_CAPTURE ?= pcaps/tcp-hello-world-slow-reader.pcap

.PHONY: run test setup lint

setup: $(VENV)/.installed

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test]'
	touch $@

run: setup
	$(BIN)/headerkit decode $(DEFAULT_CAPTURE)

lint: setup
	$(BIN)/ruff check headerkit tests benchmarks
	$(BIN)/ruff format --check headerkit tests benchmarks
	$(BIN)/mypy headerkit

test: lint
	$(BIN)/pytest
