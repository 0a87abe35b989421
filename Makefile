# coopbot: `make chat` to talk to the assistant, `make test` to run every check.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp

.PHONY: chat test lint format i18n bench eval clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

$(STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

chat: $(STAMP)
	$(BIN)/coopbot db upgrade
	$(BIN)/coopbot chat

test: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/lint-imports
	$(BIN)/coopbot kb check
	$(BIN)/python -m pytest -q

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/lint-imports

format: $(STAMP)
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

i18n: $(STAMP)
	$(BIN)/python scripts/i18n.py

eval: $(STAMP)
	$(BIN)/coopbot eval tests/data/qa_set.jsonl
	$(BIN)/coopbot eval tests/data/dev.jsonl

bench: $(STAMP)
	$(BIN)/python bench/search.py
	$(BIN)/python bench/qa_baselines.py

clean:
	rm -rf $(VENV) var .pytest_cache .ruff_cache
