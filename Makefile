# Tellgence API — developer entry points. `make dev` and `make test` work on a fresh machine.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
PIP_STAMP := $(VENV)/.requirements-installed
NPM_STAMP := node_modules/.package-lock-installed

.PHONY: setup dev test lint format bench clean

setup: $(PIP_STAMP) $(NPM_STAMP) local.settings.json

$(PY):
	$(PYTHON) -m venv $(VENV)

$(PIP_STAMP): requirements.txt requirements-dev.txt | $(PY)
	$(PY) -m pip install --disable-pip-version-check -q -r requirements-dev.txt
	touch $@

$(NPM_STAMP): package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error
	touch $@

local.settings.json: local.settings.sample.json
	@test -f $@ || cp local.settings.sample.json $@

# Ports are settable without editing files: make dev PORT=7072 COSMOS_PORT=8082
PORT ?= 7071
DEV_PORTS := --port $(PORT) $(if $(BLOB_PORT),--blob-port $(BLOB_PORT)) $(if $(QUEUE_PORT),--queue-port $(QUEUE_PORT)) \
	$(if $(TABLE_PORT),--table-port $(TABLE_PORT)) $(if $(COSMOS_PORT),--cosmos-port $(COSMOS_PORT))

dev: setup
	@$(PY) -m devhost dev $(DEV_PORTS)

lint: setup
	$(PY) -m ruff check .
	$(PY) -m ruff format --check .

format: setup
	$(PY) -m ruff format .
	$(PY) -m ruff check --fix .

test: lint
	$(PY) -m pytest

# make bench LOAD=0 skips the locust load run.
bench: setup
	$(PY) -m bench $(if $(filter 0,$(LOAD)),--no-load)

clean:
	rm -rf $(VENV) node_modules .local
