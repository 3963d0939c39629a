#!/usr/bin/env bash
# ansible-test sanity and units on a copy of the collection under an ansible_collections/appstack/platform path
# (which ansible-test requires), in venvs of the local Python: no container registry is reachable here.
set -euo pipefail
cd "$(dirname "$0")/.."
# shellcheck source=scripts/env.sh
source scripts/env.sh

# Outside the checkout: ansible-test lists files through the enclosing git repository, which ignores .cache/.
readonly ROOT=${APPSTACK_ANSIBLE_TEST_DIR:-/var/tmp/appstack-ansible-test}
readonly COPY=$ROOT/ansible_collections/appstack/platform
PYTHON_VERSION=$(python3 -c 'import sys; print("%d.%d" % sys.version_info[:2])')
readonly PYTHON_VERSION

rm -rf "$COPY"
mkdir -p "$COPY" "$ROOT/home"
git ls-files -z --cached --others --exclude-standard \
  | tar --null --ignore-failed-read -T - -cf - 2>/dev/null | tar -xf - -C "$COPY"

# ansible-test bootstraps pip in each venv with get-pip.py from a host that is unreachable here. The stand-in it
# finds in its cache bootstraps pip with CPython's own ensurepip, then installs what was asked from PyPI.
pip_version=$(python3 - <<'PY'
import re, ansible_test, pathlib
source = pathlib.Path(ansible_test.__file__).parent.joinpath('_internal/python_requirements.py').read_text()
print(re.search(r"pip='([0-9.]+)'", source).group(1))
PY
)
mkdir -p "$ROOT/home/.ansible/test/cache"
cat >"$ROOT/home/.ansible/test/cache/get_pip_${pip_version//./_}.py" <<'PY'
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

cd "$COPY"
export HOME=$ROOT/home
# pslint needs PowerShell, which this collection has no file for.
ansible-test sanity --venv --python "$PYTHON_VERSION" --requirements --skip-test pslint --color no
ansible-test units --venv --python "$PYTHON_VERSION" --requirements --color no
