# orderstream: two commands for a newcomer.
#   make demo  - starts the embedded stack and runs the main job, then stops what it started
#   make test  - lint, type-check, architecture contracts, then the whole test suite
# Both create .venv with the project (editable, dev extras) on first use.

PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
# mypy and import-linter cannot follow setuptools' editable finder for the folder->package
# mapping, so they read the code through a symlink tree that mirrors the installed namespace.
TYPECHECK := .typecheck

.PHONY: demo test lint typecheck contracts pytest install clean bench bench-quick chaos

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

install: $(STAMP)

demo: $(STAMP)
	$(BIN)/orderstream demo

test: lint typecheck contracts pytest

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check streams codecs state agents tests benchmarks deploy

# The target is the last link the loop makes, so a tree from before a folder was added is completed.
$(TYPECHECK)/orderstream/deploy:
	mkdir -p $(TYPECHECK)/orderstream
	for d in streams codecs state agents benchmarks deploy; do ln -sfn ../../$$d $(TYPECHECK)/orderstream/$$d; done

typecheck: $(STAMP) $(TYPECHECK)/orderstream/deploy
	cd $(TYPECHECK) && ../$(BIN)/mypy --config-file ../pyproject.toml --strict \
		-p orderstream.streams -p orderstream.codecs -p orderstream.state \
		-p orderstream.agents -p orderstream.benchmarks -p orderstream.deploy

contracts: $(STAMP) $(TYPECHECK)/orderstream/deploy
	cd $(TYPECHECK) && PYTHONPATH=. ../$(BIN)/lint-imports --config ../pyproject.toml

# The event store outage test holds PostgreSQL down this long (its own default is 30 s).
ORDERSTREAM_TEST_PG_OUTAGE_S ?= 5
# The channel sinks' e2e test holds the Shopify simulator down this long (its own default is 30 s).
ORDERSTREAM_TEST_SINK_OUTAGE_S ?= 3

pytest: $(STAMP)
	ORDERSTREAM_TEST_PG_OUTAGE_S=$(ORDERSTREAM_TEST_PG_OUTAGE_S) \
	ORDERSTREAM_TEST_SINK_OUTAGE_S=$(ORDERSTREAM_TEST_SINK_OUTAGE_S) $(BIN)/pytest

# Benchmarks and the crash campaign (README "Performance"); results in benchmarks/results/.
bench: $(STAMP)
	$(BIN)/orderstream bench --restart-rows 1000000

bench-quick: $(STAMP)
	$(BIN)/orderstream bench --quick

chaos: $(STAMP)
	$(BIN)/orderstream chaos --orders 100000 --kills 12 --json benchmarks/results/chaos.json

clean:
	rm -rf $(VENV) $(TYPECHECK) .mypy_cache .ruff_cache .pytest_cache
