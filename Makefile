# One runner for every habit; README and CI call these targets.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-stamp
export PATH := $(CURDIR)/$(BIN):$(PATH)

.PHONY: setup site test lint demo demo-sign demo-reachability demo-release bench clean

$(STAMP): requirements.lock pyproject.toml scripts/setup-system.sh
	PYTHON=$(PYTHON) sh scripts/setup-system.sh
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -r requirements.lock
	$(BIN)/python -m pip install --quiet --disable-pip-version-check --no-deps -e .
	touch $@

setup: $(STAMP)

## site: the main job on the demo directory: validate, release when needed (it runs the gate first), the gate,
## verify the newest release (found from the release folders, not from index.json), build the site
site: $(STAMP)
	$(BIN)/directory247 validate
	$(MAKE) --no-print-directory demo-release RELEASE_FLAGS=--when-needed
	$(BIN)/directory247 check
	$(BIN)/directory247 verify --state-dir build/verify-state releases
	@if ls releases/*/directory.json >/dev/null 2>&1; then \
	    $(BIN)/directory247 build --out site; \
	else \
	    echo "No release in releases/ yet: the release step comes before 'directory247 build'; the site is not built."; \
	fi

## test: the whole suite (Chromium installed when missing, for the site tests)
test: $(STAMP)
	sh scripts/setup-system.sh browser
	$(BIN)/python -m pytest -q

## lint: ruff and mypy, clean
lint: $(STAMP)
	$(BIN)/ruff check scripts tests bench
	$(BIN)/mypy

## demo: regenerate the demonstration directory from data/
demo: $(STAMP)
	$(BIN)/python -m directory247.demo.entries

## demo-sign: re-sign the demo entries (all, or CODES="no se") and the authorisations with the public demo keys
demo-sign: $(STAMP)
	$(BIN)/python -m directory247.demo.keys sign $(CODES)
	$(BIN)/directory247 check

## demo-reachability: re-sign the demo reachability records (reachability/tests.yaml) with the public demo root key
demo-reachability: $(STAMP)
	@home=$$(mktemp -d) && trap 'gpgconf --homedir "$$home" --kill all; rm -rf "$$home"' EXIT && \
	gpg --homedir "$$home" --batch --quiet --import demo-keys/root.asc && \
	root=$$(sed -n 's/^root: //p' keys/authorisations.yaml) && \
	gpg --homedir "$$home" --batch --yes --armor --detach-sign --no-textmode --digest-algo SHA512 \
	    --local-user "$$root!" --output reachability/.tests.yaml.asc.tmp reachability/tests.yaml && \
	mv -f reachability/.tests.yaml.asc.tmp reachability/tests.yaml.asc && \
	echo "signed reachability/tests.yaml with the demo root key $$root"

## demo-release: cut a release of the demo directory, signed with the public demo release key
demo-release: $(STAMP)
	@home=$$(mktemp -d) && trap 'gpgconf --homedir "$$home" --kill all; rm -rf "$$home"' EXIT && \
	gpg --homedir "$$home" --batch --quiet --import demo-keys/release.asc && \
	$(BIN)/directory247 release --gnupghome "$$home" $(RELEASE_FLAGS)

## bench: time every stage against its baseline on N synthetic signed entries (N=10000 make bench for the
## large run; RUNS, SEED); the table goes to build/bench/results.md (see docs/bench.md)
N    ?= 1000
RUNS ?= 3
SEED ?= 1
bench: $(STAMP)
	$(BIN)/python -m bench.run --n $(N) --runs $(RUNS) --seed $(SEED)

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache
