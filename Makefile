# Shared IP Registry — set-up, tests, demo and benchmarks.
# `make test` and `make demo` run `make setup` first; it installs only what is missing.

SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := help

VENV := .venv
BIN := $(CURDIR)/$(VENV)/bin
PYTHON_FOR_VENV := $(shell command -v python3.11 || command -v python3)
STAMP_PY := $(VENV)/.setup-stamp
STAMP_NODE := node_modules/.setup-stamp
# go-ethereum v1.13.15, the last release that seals Clique blocks, built from its Go module (about 6 minutes
# on 2 cores the first time). -checklinkname=0: fjl/memsize's //go:linkname, which Go 1.23+ refuses (so
# geth runs without --pprof); no ckzg tag: old blst does not compile on new Go.
GETH_VERSION := 1.13.15
GETH := .tools/bin/geth
GETH_STAMP := .tools/geth-$(GETH_VERSION).stamp
# schemathesis needs a newer hypothesis than brownie pins, so it has a venv of its own, used as a command, on
# Python 3.12 or newer (why: requirements-schemathesis.lock): the newest found on PATH or under pyenv.
ST_VENV := .venv-schemathesis
STAMP_ST := $(ST_VENV)/.setup-stamp
ST_PYTHON_OK := import sys; sys.exit(sys.version_info < (3, 12))
PYTHON_FOR_ST := $(shell for p in python3.14 python3.13 python3.12 \
	$$(ls -dr $${PYENV_ROOT:-$$HOME/.pyenv}/versions/3.1[2-9]*/bin/python3 2>/dev/null); do \
	"$$p" -c '$(ST_PYTHON_OK)' 2>/dev/null && { command -v "$$p"; break; }; done)

# brownie and py-solc-x reach the compiler through the bridge; ganache comes from node_modules.
export SOLCX_BINARY_PATH := $(CURDIR)/scripts/solc
export PATH := $(CURDIR)/node_modules/.bin:$(BIN):$(PATH)
# brownie keeps its settings under $HOME, which must exist.
export HOME := $(or $(HOME),$(CURDIR)/.home)

.PHONY: help setup system-packages test test-contracts test-python lint build artifacts demo bench soak screenshots lock clean

help:
	@echo "make demo    deploy the registry with three founding offices to a fresh local chain"
	@echo "make test    install what is missing, then run every test"
	@echo "make bench   gas, node, gateway, hostile-input and key-file benchmarks -> bench/results/"
	@echo "make soak    the long reliability suite (load, faults, full disk) -> bench/results/reliability.json"
	@echo "make screenshots  the auditor page's main views, from its browser tests -> bench/results/screenshots/"
	@echo "make setup   install Python (.venv) and npm (node_modules) packages"

setup: system-packages $(GETH) $(STAMP_PY) $(STAMP_NODE) $(STAMP_ST)

# Debian packages, only those missing (a bare machine of this kind has Python 3.11 and Node 20):
# PostgreSQL for the gateway's database tests, Chromium for the auditor page's browser test, wrk for the
# gateway benchmark's independent load generator (and its test), iproute2 for `ipreg network up --isolate`,
# SoftHSM2 as the PKCS#11 token that holds an office's keys in the key tests and `make demo HSM=1`.
system-packages:
	@mkdir -p "$(HOME)"
	@missing=""; \
	command -v node >/dev/null || missing="$$missing nodejs"; \
	command -v npm >/dev/null || missing="$$missing npm"; \
	$(PYTHON_FOR_VENV) -c 'import venv, ensurepip' 2>/dev/null || missing="$$missing python3-venv"; \
	ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || missing="$$missing postgresql"; \
	command -v chromium >/dev/null || missing="$$missing chromium"; \
	command -v wrk >/dev/null || missing="$$missing wrk"; \
	command -v ip >/dev/null || missing="$$missing iproute2"; \
	test -e /usr/lib/softhsm/libsofthsm2.so || missing="$$missing softhsm2"; \
	if [ -n "$$missing" ]; then \
		echo "installing Debian packages:$$missing"; \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing; \
	fi

$(STAMP_PY): requirements.lock pyproject.toml
	test -x $(BIN)/python || $(PYTHON_FOR_VENV) -m venv $(VENV)
	$(BIN)/pip install --quiet --disable-pip-version-check -r requirements.lock
	$(BIN)/pip install --quiet --disable-pip-version-check --no-deps -e .
	$(BIN)/pip check
	@# The venv finds the compiler bridge and ganache without exported variables, so a plain
	@# `.venv/bin/brownie compile` works from a fresh clone.
	printf 'import os; os.environ.setdefault("SOLCX_BINARY_PATH", "%s"); os.environ["PATH"] = "%s" + os.pathsep + os.environ.get("PATH", "")\n' \
		"$(CURDIR)/scripts/solc" "$(CURDIR)/node_modules/.bin" \
		> "$$($(BIN)/python -c 'import sysconfig; print(sysconfig.get_paths()["purelib"])')/ipreg_toolchain.pth"
	touch $@

$(STAMP_ST): requirements-schemathesis.lock
	@test -n "$(PYTHON_FOR_ST)" || { echo "schemathesis needs Python 3.12 or newer and none was found" \
		"(see requirements-schemathesis.lock); install one, e.g. with pyenv" >&2; exit 1; }
	$(ST_VENV)/bin/python -c '$(ST_PYTHON_OK)' 2>/dev/null || { rm -rf $(ST_VENV); $(PYTHON_FOR_ST) -m venv $(ST_VENV); }
	$(ST_VENV)/bin/pip install --quiet --disable-pip-version-check -r requirements-schemathesis.lock
	touch $@

$(GETH): $(GETH_STAMP)
$(GETH_STAMP):
	@command -v go >/dev/null || { echo "building geth needs Go (1.21 or newer): install it first" >&2; exit 1; }
	@echo "building go-ethereum v$(GETH_VERSION) (the first time takes about 6 minutes)"
	mkdir -p .tools/bin
	GOBIN=$(CURDIR)/.tools/bin GOFLAGS=-buildvcs=false go install -ldflags=-checklinkname=0 \
		github.com/ethereum/go-ethereum/cmd/geth@v$(GETH_VERSION)
	$(GETH) version | grep -q '^Version: $(GETH_VERSION)-stable' || { echo "geth built but not v$(GETH_VERSION)" >&2; exit 1; }
	touch $@

$(STAMP_NODE): package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error
	touch $@

# Regenerates requirements.lock: brownie's exact pins first, then everything else under them.
lock:
	rm -rf /tmp/ipreg-lock && $(PYTHON_FOR_VENV) -m venv /tmp/ipreg-lock
	/tmp/ipreg-lock/bin/pip install --quiet eth-brownie==1.22.2
	/tmp/ipreg-lock/bin/pip freeze > /tmp/ipreg-lock/brownie-pins.txt
	/tmp/ipreg-lock/bin/pip install --quiet -c /tmp/ipreg-lock/brownie-pins.txt -e '.[dev,experiment]'
	/tmp/ipreg-lock/bin/pip check
	{ echo "# Exact versions for .venv: eth-brownie 1.22.2's pins, and the rest resolved under them (make lock)."; \
	  /tmp/ipreg-lock/bin/pip freeze --exclude-editable; } > requirements.lock

build: setup
	$(BIN)/brownie compile

# The node and gateway ship the compiled contract; refresh it after changing contracts/.
artifacts: build
	$(BIN)/python scripts/export_artifacts.py

lint: setup
	$(BIN)/ruff check registry_node gateway scripts bench tests
	$(BIN)/ruff format --check registry_node gateway scripts bench tests
	$(BIN)/mypy
	$(BIN)/lint-imports
	$(BIN)/python scripts/slither_check.py

test-contracts: setup
	$(BIN)/brownie test --network ganache-cli

# Two workers, each test file on one (its module fixtures start once): most tests wait on processes and
# chains, and they can run side by side because every port comes from registry_node.devnet.ganache.free_port.
test-python: setup
	$(BIN)/pytest -p no:pytest-brownie -n 2 --dist loadfile --durations=15 tests --ignore=tests/contracts

test: lint test-contracts test-python

# `make demo HSM=1`: a new demo keeps the offices' keys in SoftHSM2 tokens (PKCS#11).
demo: setup
	$(BIN)/ipreg demo $(if $(HSM),--hsm)

bench: setup
	$(BIN)/python bench/gas.py
	$(BIN)/python bench/node_throughput.py
	$(BIN)/python bench/network.py
	$(BIN)/python bench/receipts.py
	$(BIN)/python bench/gateway.py
	$(BIN)/python bench/hostile_input.py
	$(BIN)/python bench/keys.py
	$(BIN)/python bench/validator_start.py

# The long reliability suite: 10 min of gateway load, 1,000-change burst, 10 node kills, 30 s chain outage.
soak: setup
	$(BIN)/python bench/reliability.py

# The auditor page's main views, saved by its browser tests against a real demo consortium.
screenshots: setup
	mkdir -p bench/results/screenshots
	IPREG_SCREENSHOTS=$(CURDIR)/bench/results/screenshots $(BIN)/pytest -p no:pytest-brownie -q \
		tests/demo/test_demo.py -k "not ctrl_c and not taken_port"

clean:
	rm -rf build reports .demo .hypothesis .pytest_cache
