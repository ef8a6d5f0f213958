# Everything a developer or CI does, one target each. `make help` lists them.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
SAM_VENV := .venv-sam
TOOLS_VENV := .venv-tools
PY := $(VENV)/bin/python
SAM := $(SAM_VENV)/bin/sam
ENV ?= dev
PORT ?= 3000
export SAM_CLI_TELEMETRY := 0
export AWS_DEFAULT_REGION ?= us-east-1

.DEFAULT_GOAL := help
.PHONY: help lock setup run ci-demo security fuzz test lint format typecheck validate golden unit integration tooling soak e2e events openapi build deploy deploy-check secrets smoke invoke token demo bench clean console-deps console-deploy

help: ## List the targets
	@grep -hE '^[a-z0-9-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-10s %s\n", $$1, $$2}'

# uv installs the pinned requirements in seconds (pip takes about a minute); it is itself pinned.
UV_VERSION := 0.13.8
UV := $(VENV)/bin/uv

# requirements/*.txt hold the direct pins; requirements/*.lock every package, compiled by `make lock`.
$(VENV)/.installed: requirements/dev.lock
	$(PYTHON) -m venv $(VENV)
	$(VENV)/bin/pip install --quiet --disable-pip-version-check uv==$(UV_VERSION)
	$(UV) pip sync --quiet --python $(PY) requirements/dev.lock
	touch $@

$(SAM_VENV)/.installed: requirements/sam.lock | $(VENV)/.installed
	$(PYTHON) -m venv --without-pip $(SAM_VENV)
	$(UV) pip sync --quiet --python $(SAM_VENV)/bin/python requirements/sam.lock
	touch $@

$(TOOLS_VENV)/.installed: requirements/tools.lock | $(VENV)/.installed
	$(PYTHON) -m venv --without-pip $(TOOLS_VENV)
	$(UV) pip sync --quiet --python $(TOOLS_VENV)/bin/python requirements/tools.lock
	touch $@

lock: ## Recompile requirements/*.lock and shared/requirements.lock (the layer: python3.13 / arm64) from the direct pins
	for name in dev sam tools; do \
		$(UV) pip compile --quiet --python-version 3.11 --no-header --annotation-style line \
			requirements/$$name.txt -o requirements/$$name.lock; \
	done
	$(UV) pip compile --quiet --python-version 3.13 --python-platform aarch64-manylinux_2_28 --generate-hashes \
		--no-header --annotation-style line shared/requirements.txt -o shared/requirements.lock

setup: $(VENV)/.installed $(SAM_VENV)/.installed $(TOOLS_VENV)/.installed ## Create the virtualenvs (project, SAM CLI, security tools)

# The run command needs only the project venv (SAM CLI is not used locally): a fresh clone starts fast.
run: $(VENV)/.installed ## Set up what is missing, then run the whole system on http://127.0.0.1:3000 (PORT=...; FRESH=1 starts empty; Ctrl-C stops)
	$(PY) -m local_stack --port $(PORT) --state-dir .local-state $(if $(FRESH),--fresh)

token: $(VENV)/.installed ## Print a dev JWT and nothing else: make token USER_ID=user-0001 GROUPS=reviewer,ops [MERCHANT_ID=north-loom] [TTL=3600]
	@$(PY) -m local_stack token --user $(or $(USER_ID),user-0001) --groups "$(GROUPS)" --merchant "$(MERCHANT_ID)" --ttl $(or $(TTL),3600)

invoke: $(VENV)/.installed ## Invoke one function: make invoke FN=CatalogFunction EVENT=events/catalog_list_products.json
	@test -n "$(FN)" -a -n "$(EVENT)" || { echo "usage: make invoke FN=<LogicalId> EVENT=events/<file>.json" >&2; exit 2; }
	@if docker info >/dev/null 2>&1 && [ -x $(SAM) ]; then \
		echo "Docker is available: sam build && sam local invoke $(FN)" >&2; \
		$(SAM) build >&2 && $(SAM) local invoke $(FN) --event $(EVENT); \
	else \
		echo "No Docker: invoking $(FN) in-process against a fresh local stack" >&2; \
		$(PY) -m local_stack invoke $(FN) $(EVENT); \
	fi

demo: $(VENV)/.installed ## Drive the full scenario over HTTP against a running stack (URL=http://127.0.0.1:3000)
	$(PY) -m local_stack demo --url $(or $(URL),http://127.0.0.1:$(PORT))

test: setup lint typecheck security ## Everything CI checks: lint, types, template security, then every test
	$(PY) -m pytest -n 2 --dist loadfile

security: $(VENV)/.installed $(TOOLS_VENV)/.installed ## cfn-lint serverless rules + checkov on the SAM translation (fails on any finding)
	$(PY) tools/security.py --checkov $(TOOLS_VENV)/bin/checkov

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

golden: $(VENV)/.installed ## Rewrite tests/fixtures/sam_translation.json (the normalised SAM translation) after an intended template change
	mkdir -p build
	$(PY) tools/translate_template.py --normalised template.yaml > build/sam_translation.json
	mv build/sam_translation.json tests/fixtures/sam_translation.json
	git --no-pager diff --stat -- tests/fixtures/sam_translation.json

unit: $(VENV)/.installed ## Unit tests of the product code (no AWS)
	$(PY) -m pytest tests/unit

integration: $(VENV)/.installed ## Integration tests (moto, the real handlers)
	$(PY) -m pytest tests/integration

tooling: $(VENV)/.installed ## Tests of the tooling: template checks, OpenAPI/events generation, layer, deploy tools, local stack, bench
	$(PY) -m pytest tests/tooling

SOAK_EXAMPLES ?= 1000
SOAK_STEPS ?= 40
soak: $(VENV)/.installed ## The model-based tests (money, listings, merchant orders, carriers), long: SOAK_EXAMPLES histories of up to SOAK_STEPS steps (random seed)
	MONEY_SOAK_EXAMPLES=$(SOAK_EXAMPLES) MONEY_SOAK_STEPS=$(SOAK_STEPS) MONEY_SOAK_RANDOM=1 \
	LISTINGS_MODEL_EXAMPLES=$(SOAK_EXAMPLES) LISTINGS_MODEL_STEPS=$(SOAK_STEPS) LISTINGS_MODEL_RANDOM=1 \
	MERCHANT_MODEL_EXAMPLES=$(SOAK_EXAMPLES) MERCHANT_MODEL_STEPS=$(SOAK_STEPS) MERCHANT_MODEL_RANDOM=1 \
	CARRIER_MODEL_EXAMPLES=$(SOAK_EXAMPLES) CARRIER_MODEL_STEPS=$(SOAK_STEPS) CARRIER_MODEL_RANDOM=1 \
		$(PY) -m pytest tests/integration/test_money_properties.py tests/integration/test_listings_model.py \
		tests/integration/test_merchant_orders_model.py tests/integration/test_carrier_tracking_model.py \
		-q -s -p no:cacheprovider -o log_cli=false

e2e: $(VENV)/.installed ## End-to-end tests: start the local stack on a free port, use it over HTTP
	$(PY) -m pytest tests/e2e

fuzz: $(VENV)/.installed ## schemathesis on docs/openapi.json against a local stack (FUZZ_EXAMPLES=30 FUZZ_TIMEOUT=480)
	tools/fuzz.sh

ci-demo: $(VENV)/.installed ## Start the stack in the background on a free port, run the demo against it, stop it
	tools/ci_demo.sh

events: $(VENV)/.installed ## Regenerate events/*.json from the template's routes
	$(PY) tools/make_events.py

openapi: $(VENV)/.installed ## Regenerate docs/openapi.json from the handlers, then the README's route table from it and docs/architecture.md's function table from the template
	$(PY) tools/openapi.py > docs/openapi.json
	$(PY) tools/route_table.py README.md docs/openapi.json docs/architecture.md

# python3.13 (the functions' runtime) for sam build and the layer's bytecode: on PATH, else pyenv's newest 3.13,
# else one uv installed (`uv python install 3.13`). No package registry ships CPython builds: pyenv and uv download
# them from python.org / GitHub, so a machine that reaches only the registries must already have one.
PYTHON313 ?= $(or $(shell python3.13 -c "import sys; print(sys.executable)" 2>/dev/null),$(lastword $(wildcard $(shell pyenv root 2>/dev/null)/versions/3.13*/bin/python3.13)),$(shell $(UV) python find --no-python-downloads 3.13 2>/dev/null))
NO_PYTHON313 := python3.13 not found (PATH, pyenv or uv): sam build needs the functions' runtime. Install it with 'pyenv install 3.13' or '$(UV) python install 3.13' (each downloads CPython from python.org or GitHub)

build: $(SAM_VENV)/.installed ## sam build: the layer from shared/requirements.lock with .pyc (shared/Makefile); needs python3.13
	@test -n "$(PYTHON313)" || { echo "$(NO_PYTHON313)" >&2; exit 2; }
	PATH="$(dir $(PYTHON313)):$$PATH" UV="$(abspath $(UV))" LAYER_PYTHON="$(PYTHON313)" $(SAM) build

# First use (no samconfig entry for this ENV's stack yet, or GUIDED=1): sam deploy --guided asks for
# every parameter and saves the answers to samconfig.toml. docs/deploy.md walks through it.
deploy: build ## Deploy to ENV=dev|prod with your AWS credentials (guided the first time); then `make secrets`
	@if [ -n "$(GUIDED)" ] || ! grep -q '^\[$(ENV)\.deploy\.parameters\]' samconfig.toml; then \
		echo "First deploy of ENV=$(ENV): sam deploy --guided (answers are saved to samconfig.toml)" >&2; \
		$(SAM) deploy --guided --config-env $(ENV); \
	else \
		$(SAM) deploy --config-env $(ENV); \
	fi

secrets: $(VENV)/.installed ## Put the provider credentials into the stack's secrets (asks for each; ENV=dev|prod, STACK=...)
	$(PY) tools/put_secrets.py --stack $(or $(STACK),orders-$(ENV))

deploy-check: setup ## Build, package and sam deploy into a local moto server; check the result (no AWS account)
	@test -n "$(PYTHON313)" || { echo "$(NO_PYTHON313)" >&2; exit 2; }
	UV="$(abspath $(UV))" $(PY) tools/deploy_check.py --sam $(SAM) --python $(PYTHON313)

smoke: $(VENV)/.installed ## After a deploy: test users in the stack's Cognito pool, then the demo against URL=... (STACK=...)
	@test -n "$(URL)" || { echo "usage: make smoke URL=https://<api>/<stage> [STACK=orders-dev]" >&2; exit 2; }
	$(PY) tools/smoke.py --url $(URL) --stack $(or $(STACK),orders-$(ENV))

# The console's browser tests drive Debian's Chromium through its chromedriver (tests/e2e/test_console.py).
console-deps: ## Install Chromium + chromedriver for the console's browser tests (apt-get; as root or with sudo)
	@if command -v chromium >/dev/null && command -v chromedriver >/dev/null; then \
		echo "chromium and chromedriver are installed"; \
	else \
		SUDO=$$([ "$$(id -u)" = 0 ] || echo sudo); \
		$$SUDO apt-get update -qq && $$SUDO apt-get install -y -qq chromium chromium-driver; \
	fi

console-deploy: $(VENV)/.installed ## Put console/ + a config.json for the stack in its bucket, invalidate CloudFront (ENV=dev|prod; DRY_RUN=1)
	$(PY) tools/console_deploy.py --env $(ENV) $(if $(DRY_RUN),--dry-run,)

bench: $(VENV)/.installed ## Run every benchmark (build/bench/*.json, BENCHMARKS.md regenerated); QUICK=1: smoke run into build/bench-quick/
	$(PY) -m bench $(if $(QUICK),--quick,)

clean: ## Remove build output and caches
	rm -rf build .aws-sam .pytest_cache .mypy_cache .ruff_cache
