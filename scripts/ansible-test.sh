#!/usr/bin/env bash
# ansible-test sanity and units on a copy of the collection under an ansible_collections/appstack/platform path
# (which ansible-test requires), in venvs of the local Python: no container registry is reachable here. Under the
# ansible-core requirements-dev.txt pins, then under the newest (.cache/ansible/newest, made by scripts/setup.sh),
# whose sanity rules are the ones a collection is held to next.
set -euo pipefail
cd "$(dirname "$0")/.."
# shellcheck source=scripts/env.sh
source scripts/env.sh

# test_under NAME BIN_DIR: both test kinds with the ansible-test and Python of BIN_DIR, in a copy of their own.
test_under() {
  local name=$1 bin_dir=$2
  # Outside the checkout: ansible-test lists files through the enclosing git repository, which ignores .cache/.
  local root=${APPSTACK_ANSIBLE_TEST_DIR:-/var/tmp/appstack-ansible-test}/$name
  local copy=$root/ansible_collections/appstack/platform
  printf '[ansible-test] %s: %s\n' "$name" "$("$bin_dir/ansible" --version | head -n 1)" >&2
  rm -rf "$copy"
  mkdir -p "$copy" "$root/home"
  git ls-files -z --cached --others --exclude-standard \
    | tar --null --ignore-failed-read -T - -cf - 2>/dev/null | tar -xf - -C "$copy"

  # ansible-test bootstraps pip in each venv with get-pip.py from a host that is unreachable here. The stand-in it
  # finds in its cache bootstraps pip with CPython's own ensurepip, then installs what was asked from PyPI.
  local pip_version python_version
  pip_version=$("$bin_dir/python3" - <<'PY'
import re, ansible_test, pathlib
source = pathlib.Path(ansible_test.__file__).parent.joinpath('_internal/python_requirements.py').read_text()
print(re.search(r"pip='([0-9.]+)'", source).group(1))
PY
)
  python_version=$("$bin_dir/python3" -c 'import sys; print("%d.%d" % sys.version_info[:2])')
  mkdir -p "$root/home/.ansible/test/cache"
  cat >"$root/home/.ansible/test/cache/get_pip_${pip_version//./_}.py" <<'PY'
import ensurepip
import os
import subprocess
import sys

# ensurepip points PIP_CONFIG_FILE at /dev/null in this process; the install must see pip's real configuration.
environment = dict(os.environ)
ensurepip.bootstrap(upgrade=True)
arguments = [argument for argument in sys.argv[1:] if argument not in ('--no-setuptools', '--no-wheel')]
subprocess.check_call([sys.executable, '-m', 'pip', 'install', *arguments], env=environment)
PY

  (
    cd "$copy"
    export HOME=$root/home PATH=$bin_dir:$PATH
    # pslint needs PowerShell, which this collection has no file for.
    ansible-test sanity --venv --python "$python_version" --requirements --skip-test pslint --color no
    ansible-test units --venv --python "$python_version" --requirements --color no
  )
}

test_under pinned "$PWD/.venv/bin"
test_under newest "$PWD/.cache/ansible/newest/bin"
