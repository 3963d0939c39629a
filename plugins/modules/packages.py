#!/usr/bin/python
# Copyright: (c) 2026, appstack.platform maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: packages
short_description: Install Debian packages that are missing, asking dpkg first
version_added: 0.1.0
description:
  - Asks dpkg which of O(names) are installed; when all are, it is done (one C(dpkg-query), no package cache opened,
    no index refresh). C(ansible.builtin.apt) opens apt's cache on every run, about a second per task on a small host.
  - When some are missing, it refreshes apt's index if it is older than O(cache_valid_time), then installs them
    with C(apt-get install), keeping configuration files a host already has, and waiting for another apt or dpkg
    (unattended-upgrades) to release its lock.
  - Only installs; it never upgrades or removes a package.
author: appstack.platform maintainers (@appstack)
attributes:
  check_mode:
    support: full
    description: Reports which packages are missing; installs nothing and leaves the index as it is.
  diff_mode:
    support: none
    description: Reports no diff; RV(missing) lists what an install adds.
options:
  names:
    description: Package names, without versions.
    type: list
    elements: str
    required: true
  install_recommends:
    description:
      - Whether the packages' recommended packages are installed with them.
      - Unset, apt's configuration decides (Debian's default is to install them).
    type: bool
  cache_valid_time:
    description: Seconds since apt's index was last refreshed after which an install refreshes it first.
    type: int
    default: 3600
"""

EXAMPLES = r"""
- name: Install nginx and certbot
  appstack.platform.packages:
    names: [nginx, certbot, openssl]
  register: nginx_packages

- name: Install the node exporter without its recommended collectors
  appstack.platform.packages:
    names: [prometheus-node-exporter]
    install_recommends: false
"""

RETURN = r"""
missing:
  description: The packages that were not installed when the task started (in check mode, still are not).
  returned: always
  type: list
  elements: str
  sample: [certbot]
refreshed_index:
  description: Whether apt's index was refreshed before the install.
  returned: always
  type: bool
"""

import os
import time

from ansible.module_utils.basic import AnsibleModule

APT_LISTS = "/var/lib/apt/lists"
APT_ENVIRONMENT = {"DEBIAN_FRONTEND": "noninteractive", "LANG": "C.UTF-8", "LC_ALL": "C.UTF-8"}
# How long apt-get waits for a lock another apt or dpkg holds (unattended-upgrades on a real host).
LOCK_TIMEOUT_SECONDS = 300


def argument_spec():
    return {
        "names": {"type": "list", "elements": "str", "required": True},
        "install_recommends": {"type": "bool"},
        "cache_valid_time": {"type": "int", "default": 3600},
    }


def missing_packages(module, names):
    """The names dpkg does not report as installed ("ii"): unknown, removed with their configuration kept, or
    half-installed by an interrupted run."""
    # dpkg-query exits 1 when a name is unknown to it and still prints the others.
    rc, out, err = module.run_command(
        ["dpkg-query", "--show", "--showformat", "${Package} ${db:Status-Abbrev}\n", *names],
        handle_exceptions=False,
        environ_update=APT_ENVIRONMENT,
    )
    if rc not in (0, 1):
        module.fail_json(msg=f"dpkg-query could not tell which packages are installed (exit {rc}): {err.strip()}")
    installed = {line.split()[0] for line in out.splitlines() if line.split()[1:2] == ["ii"]}
    return [name for name in names if name not in installed]


def index_is_stale(lists_directory, cache_valid_time, now):
    """apt-get update renames new index files into the lists directory, and the module touches it after each refresh
    (one that found nothing new renames nothing): its mtime is when the index was last refreshed. An image whose
    lists were deleted to save space has no index at all, however recent the deletion."""
    try:
        has_index = any("_Packages" in name for name in os.listdir(lists_directory))
        return not has_index or now - os.stat(lists_directory).st_mtime > cache_valid_time
    except FileNotFoundError:
        return True


def apt_get(module, *arguments):
    argv = ["apt-get", "-q", "-y", "-o", f"DPkg::Lock::Timeout={LOCK_TIMEOUT_SECONDS}", *arguments]
    rc, out, err = module.run_command(argv, handle_exceptions=False, environ_update=APT_ENVIRONMENT)
    if rc != 0:
        output = (out + err).strip().splitlines()
        module.fail_json(
            msg=f"{' '.join(argv)} failed (exit {rc}):\n" + "\n".join(output[-20:]),
            rc=rc,
            stdout=out,
            stderr=err,
        )


def run(module):
    params = module.params
    names = list(dict.fromkeys(params["names"]))
    missing = missing_packages(module, names)
    result = {"changed": bool(missing), "missing": missing, "refreshed_index": False}
    if not missing or module.check_mode:
        return result
    if index_is_stale(APT_LISTS, params["cache_valid_time"], time.time()):
        apt_get(module, "update")
        os.utime(APT_LISTS)
        result["refreshed_index"] = True
    options = ["-o", "Dpkg::Options::=--force-confdef", "-o", "Dpkg::Options::=--force-confold"]
    if params["install_recommends"] is not None:
        options += ["-o", f"APT::Install-Recommends={'true' if params['install_recommends'] else 'false'}"]
    apt_get(module, *options, "install", *missing)
    still_missing = missing_packages(module, missing)
    if still_missing:
        module.fail_json(msg=f"apt-get install ended but dpkg does not report these installed: {still_missing}")
    return result


def main():
    module = AnsibleModule(argument_spec=argument_spec(), supports_check_mode=True)
    module.exit_json(**run(module))


if __name__ == "__main__":
    main()
