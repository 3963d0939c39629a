# shellcheck shell=bash
# Sourced by the entry scripts: the project's venv first on PATH, and plain logs (CI reads them, and the
# scenario runner reads Ansible's play recaps, which must carry no colour codes).
export PATH="$PWD/.venv/bin:$PATH"
export NO_COLOR=1 PY_COLORS=0 ANSIBLE_FORCE_COLOR=0 ANSIBLE_NOCOLOR=1
