# One target per habit: run, test, lint, bench (and build for `sam build`).
SHELL := /bin/bash
.DEFAULT_GOAL := help

# Python 3.13 (the Lambda runtime): the first python3.13 that runs, on PATH or installed by pyenv.
PY313 ?= $(shell for c in $$(command -v python3.13) $$(ls -d $${PYENV_ROOT:-$$HOME/.pyenv}/versions/3.13*/bin/python3.13 2>/dev/null | sort -V -r); do $$c -c 'import sys; assert sys.version_info[:2] == (3, 13)' >/dev/null 2>&1 && { echo $$c; break; }; done)
VENV := .venv
TOOLS := .venv-tools
PY := $(VENV)/bin/python
# mypy finds every function's package (and the layer) without a list to keep: one folder each under functions/
MYPYPATH := $(shell ls -d functions/*/ | tr '\n' ':')layers/platform
export PYTHONDONTWRITEBYTECODE := 1

.PHONY: help run test lint unit integration e2e bench build clean chromium dbservers

help:
	@echo "make run    start the local stack (moto + API on :3000) with the demo tenant"
	@echo "make test   lint, then unit, integration and e2e tests (schemathesis included)"
	@echo "make lint   ruff, mypy, cfn-lint, sam validate --lint, asl-validator"
	@echo "make bench  cold-import ratios and DynamoDB calls per request"
	@echo "make build  sam build (python3.13, arm64, no container)"

$(VENV)/.installed: requirements/runtime.txt requirements/dev.txt
	@test -n "$(PY313)" || { echo "python3.13 not found (install it, e.g. 'pyenv install 3.13')"; exit 1; }
	$(PY313) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -r requirements/dev.txt
	touch $@

$(TOOLS)/.installed: requirements/tools.txt
	@test -n "$(PY313)" || { echo "python3.13 not found"; exit 1; }
	$(PY313) -m venv $(TOOLS)
	$(TOOLS)/bin/python -m pip install --quiet --upgrade pip
	$(TOOLS)/bin/python -m pip install --quiet -r requirements/tools.txt
	touch $@

node_modules/.installed: package.json package-lock.json
	npm ci --no-audit --no-fund --silent
	touch $@

# Debian's Chromium, for the e2e test that renders Swagger UI headless (installed when missing).
chromium:
	@command -v chromium >/dev/null || { \
	  sudo=""; if [ "$$(id -u)" -ne 0 ] && command -v sudo >/dev/null; then sudo=sudo; fi; \
	  $$sudo apt-get update -qq && \
	  $$sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends chromium; }

# Debian's PostgreSQL and MariaDB servers, for the tests against real databases: tests/dbservers.py starts its own
# servers in temporary directories. Installed when the binaries are missing; the system services are not started
# (a policy-rc.d refuses them for the install when the machine has none).
dbservers:
	@{ command -v initdb >/dev/null || ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1; } && \
	  { command -v mariadbd >/dev/null || test -x /usr/sbin/mariadbd; } && command -v mariadb-install-db >/dev/null || { \
	  sudo=""; if [ "$$(id -u)" -ne 0 ] && command -v sudo >/dev/null; then sudo=sudo; fi; \
	  policy=""; if [ ! -e /usr/sbin/policy-rc.d ]; then \
	    printf '#!/bin/sh\nexit 101\n' | $$sudo tee /usr/sbin/policy-rc.d >/dev/null && \
	    $$sudo chmod 755 /usr/sbin/policy-rc.d && policy=1; fi; \
	  $$sudo apt-get update -qq && \
	  $$sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
	    postgresql mariadb-server; status=$$?; \
	  if [ -n "$$policy" ]; then $$sudo rm -f /usr/sbin/policy-rc.d; fi; exit $$status; }

run: $(VENV)/.installed node_modules/.installed
	$(PY) -m local_stack

lint: $(VENV)/.installed $(TOOLS)/.installed node_modules/.installed
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	MYPYPATH=$(MYPYPATH) $(VENV)/bin/mypy layers/platform/riveredge functions local_stack
	$(TOOLS)/bin/cfn-lint template.yaml
	$(TOOLS)/bin/sam validate --lint --region us-east-1
	for f in statemachines/*.asl.json; do node_modules/.bin/asl-validator --no-arn-check --json-path "$$f" || exit 1; done

unit: $(VENV)/.installed
	$(PY) -m pytest tests/unit -q

integration: $(VENV)/.installed dbservers
	$(PY) -m pytest tests/integration -q

e2e: $(VENV)/.installed node_modules/.installed chromium
	$(PY) -m pytest tests/e2e -q

# The e2e tests (a stack of their own, over HTTP) run beside the unit and integration tests: two cores, two
# suites, one wall-clock wait. The e2e output is printed when both have finished.
test: lint $(VENV)/.installed node_modules/.installed chromium dbservers
	@log=$$(mktemp); $(PY) -m pytest -q -p no:cacheprovider tests/e2e >$$log 2>&1 & e2e=$$!; \
	$(PY) -m pytest -q -p no:cacheprovider tests/unit tests/integration; here=$$?; \
	wait $$e2e; there=$$?; echo "-- tests/e2e --"; cat $$log; rm -f $$log; \
	test $$here -eq 0 -a $$there -eq 0

bench: $(VENV)/.installed
	$(PY) benchmarks/run.py

build: $(TOOLS)/.installed
	PATH="$(dir $(PY313)):$$PATH" $(TOOLS)/bin/sam build --region us-east-1

clean:
	rm -rf $(VENV) $(TOOLS) node_modules .aws-sam .pytest_cache .mypy_cache .ruff_cache
