# Each target creates .venv when it is missing and installs what it needs,
# so `make run` and `make test` work alone on a fresh machine with Python 3.11.
PYTHON ?= $(shell command -v python3.11 2>/dev/null || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
READY := $(VENV)/.ready

.PHONY: run test check lint format bench clean

$(READY): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(READY)

run: $(READY)
	$(BIN)/yidi check scenarios/ scenarios.yaml
	$(BIN)/yidi serve --demo --host $(or $(HOST),127.0.0.1) --port $(or $(PORT),8000)

test: $(READY)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/yidi check scenarios/ scenarios.yaml
	$(BIN)/pytest

check: $(READY)
	$(BIN)/yidi check scenarios/ scenarios.yaml

lint: $(READY)
	$(BIN)/ruff check .
	$(BIN)/mypy

format: $(READY)
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

bench: $(READY)
	$(BIN)/python bench/check_bench.py

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache .mypy_cache .hypothesis
