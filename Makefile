# Picker — set-up, run and test. Needs only Python 3.11+ and make.

PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin

.PHONY: run test lint clean-floor help

help:
	@echo "make run    set up, build the demo floor on first run, start the terminal"
	@echo "make test   set up with dev tools, run ruff, the layer contract and all tests"

$(BIN)/python:
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "Picker needs Python 3.11 or newer (found " + sys.version.split()[0] + "); set PYTHON=/path/to/python3.11")'
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -e .
	@touch $@

$(VENV)/.installed-dev: pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -e '.[dev]'
	@touch $@ $(VENV)/.installed

# The demo floor, built once; a failed build leaves nothing behind.
var/picker.db: | $(VENV)/.installed
	$(BIN)/picker demo || (rm -f var/picker.db var/picker.db-wal var/picker.db-shm; exit 1)

# Where the demo's badges and PINs are: the terminal's screen covers what was printed before it,
# so this is said again once it quits.
DEMO_BADGES = if [ -f var/demo-badges.txt ]; then \
	  cat var/demo-badges.txt; \
	  printf 'Demo badges and PINs: var/demo-badges.txt%s\n' \
	    "$$( [ -f var/floor-sheet.pdf ] && echo ' (also on the floor sheet var/floor-sheet.pdf)')"; \
	fi

run: $(VENV)/.installed var/picker.db
	$(BIN)/picker db upgrade
	@$(DEMO_BADGES)
	@echo "Starting the terminal; Ctrl+Q quits it."
	@$(BIN)/picker; status=$$?; $(DEMO_BADGES); exit $$status

lint: $(VENV)/.installed-dev
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/lint-imports
	$(BIN)/mypy

test: lint
	$(BIN)/python -m pytest -n 2

clean-floor:
	rm -f var/picker.db var/picker.db-wal var/picker.db-shm var/demo-badges.txt var/floor-sheet.pdf
