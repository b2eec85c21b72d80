# bulwark.hardening: every target does its own set-up (venv, collection,
# Docker Engine, local images). Quick start: `make demo`, `make test`.
SHELL := /bin/bash
PYTHON ?= python3
VENV := $(CURDIR)/.venv
BIN := $(VENV)/bin
COLLECTIONS := $(CURDIR)/.cache/collections
VERSION := $(shell sed -n 's/^version: *//p' galaxy.yml)
TARBALL := .cache/dist/bulwark-hardening-$(VERSION).tar.gz

export PATH := $(BIN):$(PATH)
export ANSIBLE_COLLECTIONS_PATH := $(COLLECTIONS)
export ANSIBLE_FORCE_COLOR := false
export PY_COLORS := 0

.PHONY: help venv collection images vm-images demo demo-clean test yamllint ansible-lint lint sanity unit integration molecule clean test-vm

help:
	@echo "make demo   harden a disposable Debian 12 target and show compliance before and after (KEEP=1 keeps it)"
	@echo "make test   lint, sanity, unit and integration tests, Molecule scenario 'default'"

$(BIN)/.installed: requirements-dev.txt constraints.txt
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -r requirements-dev.txt -c constraints.txt
	touch $@

venv: $(BIN)/.installed

# The collection as users get it: built, then installed from the tarball.
collection: venv
	@mkdir -p .cache/dist $(COLLECTIONS)
	$(BIN)/ansible-galaxy collection build --force --output-path .cache/dist >/dev/null
	$(BIN)/ansible-galaxy collection install --force -p $(COLLECTIONS) $(TARBALL) >/dev/null
	@echo "installed $(TARBALL) into $(COLLECTIONS)"

# The Molecule instances' images and the brownfield app's (each rebuilt only when its recipe changes).
images:
	molecule/resources/images/build.sh bookworm trixie
	molecule/resources/images/build-brownfield.sh >/dev/null

demo: collection
	scripts/demo.sh

# Starts a Docker Engine only if none answers, and stops only what it started.
test: collection
	@scripts/docker-engine.sh start
	@scripts/run-tests.sh; rc=$$?; scripts/docker-engine.sh stop; cat .cache/test-summary; exit $$rc

yamllint: venv
	$(BIN)/yamllint --strict .

ansible-lint: venv
	$(BIN)/ansible-lint --profile production

lint: yamllint ansible-lint

sanity: venv
	scripts/ansible-test-sanity.sh

unit: venv
	$(BIN)/pytest tests/unit -q

# scripts/integration-tools.sh installs Debian's chromium and docker-compose (root only, once) for the browser
# test of the HTML report and the Compose remediation tests. Two workers, a test file each at a time
# (tests/integration/conftest.py builds the shared images first): 5 min instead of 10 on 2 cores.
integration: venv
	@scripts/integration-tools.sh
	$(BIN)/pytest tests/integration -q -m integration --durations=15 -n 2 --dist loadfile

molecule: collection images
	$(BIN)/molecule test -s default

clean:
	rm -rf .cache/dist .cache/pytest-collections tests/output

demo-clean: venv
	$(BIN)/molecule destroy -s demo
	scripts/docker-engine.sh stop

# Disposable qemu VMs (molecule/vm), Debian 12 and 13 side by side: install
# the host tools (qemu, debootstrap ...) once, then build or reuse both VM
# images (needs root the first time; the two builds run side by side, each
# under its own lock: 4 min against 5.5 one after the other), run the
# scenario (destroy runs even after a failure), then stop any VM still
# running by its pidfile, also on Ctrl-C.
VM_TOOLS := molecule/resources/vm
vm-images:
	@$(VM_TOOLS)/build-image.sh --host-tools
	@( set -o pipefail; $(VM_TOOLS)/build-image.sh bookworm 2>&1 | sed -u 's/^/bookworm image: /' ) & bookworm=$$!; \
	( set -o pipefail; $(VM_TOOLS)/build-image.sh trixie 2>&1 | sed -u 's/^/trixie image: /' ); trixie=$$?; \
	wait $$bookworm && [ $$trixie = 0 ]

test-vm: collection vm-images
	trap '$(VM_TOOLS)/vm.sh stop-all' EXIT; $(BIN)/molecule test -s vm --destroy=always
