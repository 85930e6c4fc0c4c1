# The two commands: `make run` (everything, locally) and `make test` (the whole suite).
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

.PHONY: run test lint layers format install clean

$(STAMP): requirements.txt requirements-dev.txt
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -r requirements-dev.txt
	touch $(STAMP)

install: $(STAMP)

run: $(STAMP)
	$(PY) -m config.devrun

test: $(STAMP) layers
	DJANGO_ENV=test $(PY) -m pytest $(PYTEST_ARGS)

# The import-linter contract in pyproject.toml: apps import only downward, no cycles.
layers: $(STAMP)
	$(VENV)/bin/lint-imports --no-logo --no-cache

lint: $(STAMP) layers
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

format: $(STAMP)
	$(VENV)/bin/ruff format .
	$(VENV)/bin/ruff check --fix .

clean:
	rm -rf .data
