# One runner for every habit; README and CI call these targets.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-stamp
export PATH := $(CURDIR)/$(BIN):$(PATH)

.PHONY: setup site test lint demo demo-sign clean

$(STAMP): requirements.lock pyproject.toml scripts/setup-system.sh
	PYTHON=$(PYTHON) sh scripts/setup-system.sh
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -r requirements.lock
	$(BIN)/python -m pip install --quiet --disable-pip-version-check --no-deps -e .
	touch $@

setup: $(STAMP)

## site: the main job on the demo directory
site: $(STAMP)
	$(BIN)/directory247 validate
	@echo "The directory validates. The site is not built yet: 'directory247 build' comes with the site."

## test: the whole suite
test: $(STAMP)
	$(BIN)/python -m pytest -q

## lint: ruff and mypy, clean
lint: $(STAMP)
	$(BIN)/ruff check scripts tests
	$(BIN)/mypy

## demo: regenerate the demonstration directory from data/
demo: $(STAMP)
	$(BIN)/python -m directory247.demo

## demo-sign: re-sign the demo entries (all, or CODES="no se") and the authorisations with the public demo keys
demo-sign: $(STAMP)
	$(BIN)/python -m directory247.demo_keys sign $(CODES)
	$(BIN)/directory247 check

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache
