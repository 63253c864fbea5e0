# The two commands a new user needs: `make demo` and `make test`. Both set up what is missing first.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin

.PHONY: setup demo test check repeat clean

$(VENV)/installed: pyproject.toml
	$(PYTHON) -c 'import sys; assert sys.version_info[:2] == (3, 11), "Jiesu needs Python 3.11"'
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --disable-pip-version-check -e '.[dev]'
	touch $@

setup: $(VENV)/installed

demo: setup
	$(BIN)/jiesu demo

check: setup
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy
	$(BIN)/lint-imports

test: check
	$(BIN)/jiesu kafka up
	$(BIN)/pytest --durations=10

# The integration and end-to-end suites N times in a row (default 10), stopping at the first failure: run it
# after touching a test that waits on the broker, a worker or the database (docs/testing.md).
N ?= 10
repeat: setup
	$(BIN)/jiesu kafka up
	for run in $$(seq $(N)); do \
	  echo "== run $$run of $(N)"; \
	  $(BIN)/pytest -q -x -p no:cacheprovider tests/integration tests/e2e || { echo "== failed in run $$run"; exit 1; }; \
	done; echo "== $(N) runs passed"

clean:
	-$(BIN)/jiesu kafka down
	rm -rf var
