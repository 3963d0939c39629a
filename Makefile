# Entry points; the work is done by the scripts under scripts/.
SHELL := /bin/bash
export PATH := $(CURDIR)/.venv/bin:$(PATH)
# Plain logs: CI reads them, and molecule's recap parsing expects no colour codes.
export NO_COLOR := 1
export PY_COLORS := 0
export ANSIBLE_FORCE_COLOR := 0
export ANSIBLE_NOCOLOR := 1

.PHONY: setup test lint unit scenario demo demo-destroy

setup:  ## Install what is missing (Docker engine, base image, venv)
	scripts/setup.sh

test:  ## The whole test suite, as CI runs it
	scripts/test.sh

lint:
	scripts/test.sh lint

unit:
	scripts/test.sh unit

scenario:  ## One Molecule scenario: make scenario S=postgresql
	scripts/test.sh collection molecule:$(S)

demo:  ## The main job on local containers: the stack on a demo host
	scripts/demo.sh

demo-destroy:
	scripts/demo.sh destroy
