# The two set-up commands of the README:
#   make demo   install, then run a runbook on its built-in scenario
#   make test   install (incl. system tools when root), then run every test
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
RUNBOOK ?= pod-pending
PYTEST_ARGS ?=

.PHONY: demo test install install-test system-deps bench clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -e .
	touch $@

$(VENV)/.installed-test: pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -e '.[test]'
	touch $@ $(VENV)/.installed

install: $(VENV)/.installed
install-test: $(VENV)/.installed-test

system-deps:
	bash scripts/install-system-deps.sh

demo: install
	$(BIN)/k8srun run $(RUNBOOK)

test: install-test system-deps
	$(BIN)/python -m pytest -n 2 $(PYTEST_ARGS)

bench: install-test
	$(BIN)/python benchmarks/runbook_walltime.py

clean:
	rm -rf $(VENV) reports .pytest_cache
