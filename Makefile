# Everything a developer or CI does, one target each. `make help` lists them.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
SAM_VENV := .venv-sam
PY := $(VENV)/bin/python
SAM := $(SAM_VENV)/bin/sam
ENV ?= dev
export SAM_CLI_TELEMETRY := 0
export AWS_DEFAULT_REGION ?= us-east-1

.DEFAULT_GOAL := help
.PHONY: help setup run test lint format typecheck validate unit integration e2e events openapi build deploy invoke token demo bench clean

help: ## List the targets
	@grep -hE '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-10s %s\n", $$1, $$2}'

$(VENV)/.installed: requirements/dev.txt shared/requirements.txt
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -r requirements/dev.txt
	touch $@

$(SAM_VENV)/.installed: requirements/sam.txt
	$(PYTHON) -m venv $(SAM_VENV)
	$(SAM_VENV)/bin/pip install --quiet -r requirements/sam.txt
	touch $@

setup: $(VENV)/.installed $(SAM_VENV)/.installed ## Create the virtualenvs (project + SAM CLI)

test: setup lint typecheck ## Everything CI checks: lint, types, then every test (template checks included)
	$(PY) -m pytest

lint: $(VENV)/.installed ## ruff lint + format check
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

format: $(VENV)/.installed ## Apply ruff fixes and formatting
	$(VENV)/bin/ruff check --fix .
	$(VENV)/bin/ruff format .

typecheck: $(VENV)/.installed ## mypy (strict, pydantic plugin)
	$(VENV)/bin/mypy

validate: setup ## sam validate --lint, then cfn-lint on the SAM-translated template
	$(SAM) validate --lint
	mkdir -p build
	$(PY) tools/translate_template.py template.yaml > build/template.cfn.json
	$(VENV)/bin/cfn-lint template.yaml build/template.cfn.json

unit: $(VENV)/.installed ## Unit tests only (no AWS)
	$(PY) -m pytest tests/unit

integration: $(VENV)/.installed ## Integration tests (moto)
	$(PY) -m pytest tests/integration

events: $(VENV)/.installed ## Regenerate events/*.json from the template's routes
	$(PY) tools/make_events.py

openapi: $(VENV)/.installed ## Regenerate docs/openapi.json from the handlers
	$(PY) tools/openapi.py > docs/openapi.json

build: $(SAM_VENV)/.installed ## sam build (needs python3.13 on PATH)
	$(SAM) build

deploy: build ## sam deploy to ENV=dev|prod (samconfig.toml)
	$(SAM) deploy --config-env $(ENV)

clean: ## Remove build output and caches
	rm -rf build .aws-sam .pytest_cache .mypy_cache .ruff_cache
