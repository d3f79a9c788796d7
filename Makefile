# Saha: `make run` to try it, `make test` to test it, `make help` for the rest.
SHELL := /bin/bash
PYTHON ?= python3.11
VENV := .venv
PY := $(VENV)/bin/python
PIP := $(PY) -m pip
SAHA := $(VENV)/bin/saha
CONSTRAINTS := requirements/constraints.txt
HOST ?= 127.0.0.1
PORT ?= 8000

.DEFAULT_GOAL := help

.PHONY: help
help: ## show this list
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-14s %s\n", $$1, $$2}'

$(VENV)/.runtime: pyproject.toml $(CONSTRAINTS)
	@test -x $(PY) || $(PYTHON) -m venv $(VENV) || python3 -m venv $(VENV)
	$(PIP) install --quiet --upgrade "pip>=24"
	$(PIP) install --quiet -c $(CONSTRAINTS) -e .
	@touch $@

$(VENV)/.test: $(VENV)/.runtime
	$(PIP) install --quiet -c $(CONSTRAINTS) -e ".[test]"
	@touch $@

.PHONY: install
install: $(VENV)/.runtime translations ## create .venv and install Saha

.PHONY: translations
translations: $(VENV)/.runtime ## compile the .po catalogues (no gettext needed)
	@$(PY) scripts/i18n.py compile

.PHONY: run
run: install ## migrate a SQLite database under var/, load the demo, serve on http://127.0.0.1:8000
	@$(SAHA) demo
	@$(SAHA) serve --host $(HOST) --port $(PORT)

.PHONY: test-deps
test-deps: $(VENV)/.test translations ## install what the tests need (Python packages, Chromium)
	@scripts/install-test-deps.sh

.PHONY: test
test: test-deps ## run the whole test suite (DATABASE_URL selects the database)
	$(PY) -m pytest $(PYTEST_ARGS)

.PHONY: lint
lint: $(VENV)/.test ## ruff (lint and format check)
	$(VENV)/bin/ruff check saha scripts
	$(VENV)/bin/ruff format --check saha scripts

.PHONY: format
format: $(VENV)/.test ## reformat the code
	$(VENV)/bin/ruff check --fix saha scripts
	$(VENV)/bin/ruff format saha scripts

.PHONY: typecheck
typecheck: $(VENV)/.test ## mypy on the services (every module that writes)
	$(VENV)/bin/mypy saha/*/services.py saha/supporters/consent.py saha/supporters/importing.py \
		saha/supporters/import_writer.py saha/supporters/bulk.py saha/supporters/exporting.py \
		saha/supporters/retention.py saha/supporters/subject.py \
		saha/messaging/outbox.py saha/messaging/outcomes.py saha/messaging/broadcasts.py \
		saha/messaging/compose.py saha/messaging/reconcile.py saha/messaging/unsubscribe.py \
		saha/messaging/inbound.py saha/messaging/settings_services.py saha/messaging/testsend.py \
		saha/messaging/tasks.py saha/messaging/providers \
		saha/events/ics.py saha/events/tickets.py saha/events/organizer.py saha/events/roster.py \
		saha/events/gate.py saha/events/attendee.py saha/events/tasks.py saha/events/receivers.py \
		saha/events/headcount.py saha/core/counters.py \
		saha/petitions/intake.py saha/petitions/abuse.py saha/petitions/tasks.py \
		saha/petitions/receivers.py saha/petitions/organizer.py saha/petitions/delivery.py \
		saha/statements/feeds.py saha/statements/tasks.py saha/core/markdown.py \
		saha/campaigns/partners.py saha/campaigns/progress.py saha/campaigns/receivers.py \
		saha/organizations/search.py saha/organizations/search_index.py \
		saha/volunteers/offers.py saha/volunteers/needs.py saha/volunteers/assignments.py \
		saha/volunteers/places.py saha/volunteers/capabilities.py saha/volunteers/reminders.py \
		saha/volunteers/matching.py saha/volunteers/coverage.py saha/volunteers/receivers.py \
		saha/api/tokens.py saha/api/background.py saha/api/webhooks.py saha/api/manage.py \
		saha/api/receivers.py saha/api/resources/consent.py saha/api/resources/person_input.py \
		saha/api/public_rows.py saha/accounts/middleware.py

.PHONY: migrations-check
migrations-check: $(VENV)/.runtime ## fail when a model change has no migration
	SAHA_VAR_DIR=$(CURDIR)/var/check $(SAHA) manage makemigrations --check --dry-run

SCHEMA := docs/api/openapi.yaml
SCHEMA_ARGS := --validate --lang en

.PHONY: schema
schema: $(VENV)/.runtime ## write the OpenAPI schema of /api/v2/ to docs/api/openapi.yaml
	@mkdir -p $(dir $(SCHEMA))
	SAHA_VAR_DIR=$(CURDIR)/var/check $(SAHA) manage spectacular $(SCHEMA_ARGS) --file $(SCHEMA)

.PHONY: schema-check
schema-check: $(VENV)/.runtime ## fail when docs/api/openapi.yaml is not what the code generates
	@tmp=$$(mktemp --suffix=.yaml) && trap 'rm -f "$$tmp"' EXIT && \
	SAHA_VAR_DIR=$(CURDIR)/var/check $(SAHA) manage spectacular $(SCHEMA_ARGS) --file "$$tmp" && \
	if ! diff -u $(SCHEMA) "$$tmp"; then \
		echo "$(SCHEMA) is out of date with the API: run make schema and commit it" >&2; exit 1; \
	fi

.PHONY: messages
messages: test-deps ## extract strings into the Arabic and French catalogues
	$(PY) scripts/i18n.py extract

.PHONY: translations-check
translations-check: test-deps ## fail on an untranslated or fuzzy string
	$(PY) scripts/i18n.py check

.PHONY: vendor-check
vendor-check: ## vendored front-end files match their manifest
	@python3 scripts/vendor.py verify

.PHONY: check
check: lint typecheck migrations-check schema-check translations-check vendor-check test ## everything CI checks, and more

BENCH_ARGS = $(if $(QUICK),--quick) $(if $(ONLY),--only $(ONLY))

.PHONY: bench
bench: $(VENV)/.test ## benchmarks on PostgreSQL (DATABASE_URL, QUICK=1, ONLY=B1,B7): bench/results/latest.json
	$(PIP) install --quiet -r bench/requirements.txt
	$(PY) bench/run.py $(BENCH_ARGS)

.PHONY: bench-noise
bench-noise: $(VENV)/.test ## the benchmarks twice, with each ratio's spread (the noise band)
	$(PIP) install --quiet -r bench/requirements.txt
	$(PY) bench/run.py --repeat 2 $(BENCH_ARGS)

.PHONY: clean
clean: ## remove the virtual environment and local data (var/)
	rm -rf $(VENV) var .pytest_cache .mypy_cache .ruff_cache
