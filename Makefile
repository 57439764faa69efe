# blueprint: the user's interface. `make demo` and `make test` are the two set-up commands.
SHELL := /bin/bash
.DEFAULT_GOAL := help
PYTHON ?= python3
VENV := .venv
TOOLS := .venv-tools
PY := $(VENV)/bin/python
BP := $(PY) -m blueprint
ENV ?=
TARGET ?= aws
ALLOW_REPLACE ?=
OUTPUT ?= text
ACCEPT_DRIFT ?=
REVERT_DRIFT ?=
# A yes/no make variable (ACCEPT_DRIFT=1, REVERT_DRIFT=yes, ...) as the flag it stands for, or nothing.
flag = $(if $(filter 1 y Y yes Yes YES true True TRUE on On ON,$(strip $(1))),$(2),)
ENV_FLAG = $(if $(ENV),--env $(ENV),)
NEED_ENV = $(if $(ENV),,$(error ENV is required, e.g. make $@ ENV=dev))

.PHONY: help install render validate lint check-generated cfn-lint checkov test unit integration \
        package bootstrap plan changeset deploy rollout drift status outputs destroy local-up local-down serve demo \
        check-ci ci actionlint \
        bench bench-render bench-handler bench-deploy bench-api docs clean nag

help: ## this list
	@grep -hE '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F ':.*## ' '{printf "  make %-16s %s\n", $$1, $$2}'

# --- environments: built from the pinned lock files, rebuilt when they change --------------------
# Progress goes to stderr, so that `make changeset OUTPUT=json` prints only the JSON on stdout.
$(VENV)/.installed: requirements/dev.txt pyproject.toml
	@echo "installing $(VENV) from requirements/dev.txt" >&2
	@test -x $(PY) || $(PYTHON) -m venv $(VENV) >&2
	@$(PY) -m pip install -q --disable-pip-version-check -r requirements/dev.txt >&2
	@$(PY) -m pip install -q --disable-pip-version-check --no-deps --no-build-isolation -e . >&2
	@touch $@

# checkov pins an older boto3: it lives in its own venv, never in the project's.
$(TOOLS)/.installed: requirements/tools.txt
	@echo "installing $(TOOLS) from requirements/tools.txt" >&2
	@test -x $(TOOLS)/bin/python || $(PYTHON) -m venv $(TOOLS) >&2
	@$(TOOLS)/bin/python -m pip install -q --disable-pip-version-check -r requirements/tools.txt >&2
	@touch $@

install: $(VENV)/.installed $(TOOLS)/.installed ## create both venvs from the lock files

# --- offline ------------------------------------------------------------------------------------
validate: $(VENV)/.installed ## validate the spec of every environment (or ENV=..) and rollout.yaml
	@$(BP) validate $(ENV_FLAG)

render: $(VENV)/.installed ## render generated/ for every environment (or ENV=..)
	@$(BP) render $(ENV_FLAG)

check-generated: $(VENV)/.installed ## fail when generated/ differs from a fresh render
	@$(BP) render --check

cfn-lint: $(VENV)/.installed
	$(VENV)/bin/cfn-lint generated/*/template.yaml --append-rules lint/rules

checkov: $(TOOLS)/.installed
	$(TOOLS)/bin/checkov -d generated --framework cloudformation --skip-download --compact --quiet

check-ci: $(VENV)/.installed ## fail when .github/workflows/ differs from `blueprint ci github`
	@$(BP) ci github --check

ci: $(VENV)/.installed ## write .github/workflows/ from rollout.yaml and the spec
	@$(BP) ci github

actionlint: $(TOOLS)/.installed ## actionlint on .github/workflows/
	@$(TOOLS)/bin/actionlint .github/workflows/*.yml

lint: check-generated check-ci actionlint cfn-lint checkov nag ## generated/ and the workflows fresh, actionlint, cfn-lint, checkov, cdk-nag

# cdk-nag (npm, pinned in nag/package-lock.json) through CfnInclude; what it reports by decision is
# suppressed in each resource's Metadata with its reason.
nag/node_modules/.installed: nag/package.json nag/package-lock.json
	@echo "installing nag/node_modules from nag/package-lock.json" >&2
	@cd nag && npm ci --no-audit --no-fund --silent >&2
	@touch $@

nag: nag/node_modules/.installed ## cdk-nag's AwsSolutions pack on every generated template: one line a finding
	node nag/nag.js generated/*/template.yaml

docs: $(VENV)/.installed ## regenerate the README's spec reference and the override schema from the schema
	@$(BP) docs --write

# --- tests --------------------------------------------------------------------------------------
unit: $(VENV)/.installed
	$(PY) -m pytest -q -m "not integration" tests

integration: $(VENV)/.installed
	$(PY) -m pytest -q -m integration tests

test: lint $(VENV)/.installed ## lint, then every test (unit, handler, integration on the embedded local AWS)
	$(PY) -m pytest -q -n 2 tests

# --- shipping (TARGET=aws by default, TARGET=local for the embedded local AWS) ------------------
package: $(VENV)/.installed ## build the handler zip for ENV
	$(NEED_ENV)
	@$(BP) package --env $(ENV)

bootstrap: $(VENV)/.installed ## deploy the per-account bootstrap stack for ENV's account and region
	$(NEED_ENV)
	@$(BP) bootstrap --env $(ENV) --target $(TARGET) $(foreach id,$(subst $(comma), ,$(ALLOW_REPLACE)),--allow-replace $(id))

plan: $(VENV)/.installed ## offline diff against the deployed stack, with replacement prediction
	$(NEED_ENV)
	@$(BP) plan --env $(ENV) --target $(TARGET) --output $(OUTPUT)

changeset: $(VENV)/.installed ## create the change set for ENV and print its review (REVERT_DRIFT=1: drift-aware)
	$(NEED_ENV)
	@$(BP) changeset --env $(ENV) --target $(TARGET) --output $(OUTPUT) $(call flag,$(REVERT_DRIFT),--revert-drift)

deploy: $(VENV)/.installed ## execute the reviewed change set for ENV (ALLOW_REPLACE=Table, ACCEPT_DRIFT=1)
	$(NEED_ENV)
	@$(BP) deploy --env $(ENV) --target $(TARGET) --output $(OUTPUT) $(call flag,$(ACCEPT_DRIFT),--accept-drift) $(foreach id,$(subst $(comma), ,$(ALLOW_REPLACE)),--allow-replace $(id))

rollout: $(VENV)/.installed ## build the package once, deploy it wave by wave (rollout.yaml; WAVE=prod: one wave)
	@$(BP) rollout --target $(TARGET) $(foreach w,$(subst $(comma), ,$(WAVE)),--wave $(w)) $(foreach id,$(subst $(comma), ,$(ALLOW_REPLACE)),--allow-replace $(id))

drift: $(VENV)/.installed ## detect ENV's drift: each drifted property, expected -> actual; exit 1 when drifted
	$(NEED_ENV)
	@$(BP) drift --env $(ENV) --target $(TARGET) --output $(OUTPUT)

status outputs destroy: $(VENV)/.installed ## stack status, outputs, or delete (a protected stack only when its first create failed) for ENV
	$(NEED_ENV)
	@$(BP) $@ --env $(ENV) --target $(TARGET)

local-up: $(VENV)/.installed ## start the embedded local AWS (TIMING=aws [TIME_SCALE=0.1]: it takes AWS's time)
	@$(BP) local up $(if $(TIMING),--timing $(TIMING)) $(if $(TIME_SCALE),--time-scale $(TIME_SCALE))

local-down: $(VENV)/.installed ## stop the embedded local AWS
	@$(BP) local down

serve: $(VENV)/.installed ## serve ENV's API on 127.0.0.1 as API Gateway would
	$(NEED_ENV)
	@$(BP) serve --env $(ENV)

demo: $(VENV)/.installed ## the whole flow with no AWS account: render, local AWS, change set, deploy, call the API
	$(PY) -m blueprint.demo

# --- benchmarks (figures in bench/README.md) ----------------------------------------------------
bench-render: $(VENV)/.installed ## time rendering 1, all and 50 synthetic environments
	$(PY) bench/bench_render.py

bench-handler: $(VENV)/.installed ## handler cold start and warm latency against the raw DynamoDB call
	$(PY) bench/bench_handler.py

# The peers of bench-deploy, each in its own venv from its pinned lock file (requirements/<tool>.txt).
PEERS := awscli sam sceptre
.venv-%/.installed: requirements/%.txt
	@echo "installing .venv-$* from requirements/$*.txt" >&2
	@test -x .venv-$*/bin/python || $(PYTHON) -m venv .venv-$* >&2
	@.venv-$*/bin/python -m pip install -q --disable-pip-version-check -r requirements/$*.txt >&2
	@touch $@

bench-deploy: $(VENV)/.installed $(foreach p,$(PEERS),.venv-$(p)/.installed) ## create/update/no-op: blueprint vs awscli, sam, sceptre on one timed local AWS
	$(PY) bench/bench_deploy.py $(BENCH_ARGS)

bench-api: $(VENV)/.installed ## local API throughput and latency, throttling off and on
	$(PY) bench/bench_api.py

clean:
	rm -rf build .blueprint .pytest_cache .hypothesis

comma := ,
