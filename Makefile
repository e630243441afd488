# rmgraph: two commands do all set-up on a fresh machine.
#   make run   - virtualenv, dependencies, Neo4j, constraints, demo bank, API on :8000
#   make test  - virtualenv, dependencies, ruff, mypy --strict, pytest against a real Neo4j
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: run test lint typecheck pytest schema bench bench-cross-sell neo4j clean lock

# Installs the versions in pinned-versions.txt, which the tests passed with; `make lock` renews
# them from pyproject.toml's ranges.
$(STAMP): pyproject.toml pinned-versions.txt
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -c pinned-versions.txt -e '.[dev]'
	@touch $(STAMP)

LOCK_VENV := .lock-venv
lock:
	rm -rf $(LOCK_VENV) && $(PYTHON) -m venv $(LOCK_VENV)
	$(LOCK_VENV)/bin/pip install --quiet --upgrade pip
	$(LOCK_VENV)/bin/pip install --quiet -e '.[dev,docker]'
	{ sed -n '/^#/p' pinned-versions.txt; $(LOCK_VENV)/bin/pip freeze --exclude-editable; } \
		> pinned-versions.new && mv pinned-versions.new pinned-versions.txt
	rm -rf $(LOCK_VENV)

venv: $(STAMP)

run: $(STAMP)
	$(BIN)/rmgraph run

test: $(STAMP) lint typecheck pytest

lint: $(STAMP)
	$(BIN)/ruff format --check .
	$(BIN)/ruff check .

typecheck: $(STAMP)
	$(BIN)/mypy .

pytest: $(STAMP)
	$(BIN)/pytest

schema: $(STAMP)
	$(BIN)/rmgraph export-schema

neo4j: $(STAMP)
	$(BIN)/rmgraph neo4j

clean:
	rm -rf $(VENV) .mypy_cache .ruff_cache .pytest_cache

# Cross-sell quality: MAP@5 of crossSellPaths vs a popularity baseline on held-out holdings of a
# generated bank (its own temporary Neo4j). Not part of `make test`.
bench-cross-sell: $(STAMP)
	$(BIN)/python -m bench.cross_sell_quality --clients 20000

# The benchmark: generated 100k-client bank in its own managed Neo4j, API over HTTP vs raw driver
# at concurrency 1, 8 and 32; writes bench/results.json. Not part of `make test`.
bench: $(STAMP)
	$(BIN)/python -m bench.run --clients 100000
