# Two entry points: `make benchmark` (the main job) and `make test`; `make docs` builds the
# documentation site. Each creates .venv if missing and installs everything, torch first as
# torch==2.13.0 (letting pip resolve torch on its own would pull the CUDA build).
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.oodcalib-installed
DOCS_STAMP := $(VENV)/.oodcalib-docs-installed
PRESET ?= quick
ARGS ?=

.PHONY: install benchmark test test-slow docs lint clean-venv

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet torch==2.13.0
	$(BIN)/python -m pip install --quiet -e ".[test,distributed]"
	touch $(STAMP)

install: $(STAMP)

$(DOCS_STAMP): $(STAMP)
	$(BIN)/python -m pip install --quiet -e ".[docs]"
	touch $(DOCS_STAMP)

# ends with the path of the run's report.html (`oodcalib report`)
benchmark: $(STAMP)
	$(BIN)/oodcalib run --preset $(PRESET) --report $(ARGS)

test: $(STAMP)
	$(BIN)/python -m pytest

# the thorough tests the suite leaves out (real kill -9 of runs at every stage)
test-slow: $(STAMP)
	$(BIN)/python -m pytest -m slow -n 0

# the documentation site into site/; --strict: a broken link or reference fails the build
# (the CLI page runs the venv's `typer` command, hence the PATH)
docs: $(DOCS_STAMP)
	PATH="$(abspath $(BIN)):$$PATH" $(BIN)/mkdocs build --strict

lint: $(STAMP)
	$(BIN)/pre-commit run --all-files

clean-venv:
	rm -rf $(VENV)
