# Entry points; the work is done by the scripts under scripts/.
SHELL := /bin/bash

.PHONY: setup test lint unit sanity scenario demo demo-destroy

setup:  ## Install what is missing (Docker engine, base image, venv)
	scripts/setup.sh

test:  ## The whole test suite, as CI runs it
	scripts/test.sh

lint:
	scripts/test.sh lint

unit:
	scripts/test.sh unit

sanity:  ## ansible-test sanity and units on the plugins
	scripts/test.sh sanity

scenario:  ## One Molecule scenario: make scenario S=postgresql
	scripts/test.sh collection molecule:$(S)

demo:  ## The main job on local containers: the stack on a demo host
	scripts/demo.sh

demo-destroy:
	scripts/demo.sh destroy
