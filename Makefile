# headerkit: two commands on a fresh machine with Python 3.11 and make.
#   make run    set up, then decode the bundled default capture into a table
#   make test   set up, then run lint, format check, type check and the whole test suite

PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
DEFAULT_CAPTURE ?= pcaps/tcp-hello-world-slow-reader.pcap

FUZZ_TARGET ?= decode
FUZZ_SECONDS ?= 60

# the modules compiled with mypyc (pyproject.toml, [tool.headerkit] compiled)
COMPILED := $(shell $(PYTHON) -c "import tomllib; print(*tomllib.load(open('pyproject.toml', 'rb'))['tool']['headerkit']['compiled'])")

.PHONY: run test setup lint fuzz notebooks

setup: $(VENV)/.compiled

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip 'setuptools>=77'
	HEADERKIT_PURE=1 $(BIN)/python -m pip install --quiet -e '.[test]'
	touch $@

# compiled in place, again whenever one of the sources changes
$(VENV)/.compiled: $(VENV)/.installed setup.py $(COMPILED)
	$(BIN)/python setup.py --quiet build_ext --inplace
	touch $$(find headerkit -name '*.so')  # current now, even where the C code did not change
	$(BIN)/python -c "import headerkit.sim.engine as m; assert m.__file__.endswith('.so'), m.__file__"
	touch $@

run: setup
	$(BIN)/headerkit decode $(DEFAULT_CAPTURE)

lint: setup
	$(BIN)/ruff check headerkit tests benchmarks fuzz docs notebooks
	$(BIN)/ruff format --check headerkit tests benchmarks fuzz docs notebooks
	$(BIN)/mypy headerkit

test: lint
	$(BIN)/pytest

# coverage-guided fuzzing: make fuzz FUZZ_TARGET=capture FUZZ_SECONDS=600
fuzz: setup
	$(BIN)/python -m fuzz.run $(FUZZ_TARGET) --seconds $(FUZZ_SECONDS)

# rebuild notebooks/*.ipynb from notebooks/src/*.py and run them, saving the outputs
notebooks: setup
	$(BIN)/python notebooks/build.py
