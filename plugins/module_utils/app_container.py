# Copyright: (c) 2026, appstack.platform maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""What every container of an app release gets from the host: its environment and its secret files."""

from __future__ import annotations

import os

SECRETS_MOUNT = "/run/secrets"


def secret_files(directory):
    """NAME -> path of each secret file in ``directory`` (none when not set)."""
    if not directory:
        return {}
    return {
        name: os.path.join(directory, name)
        for name in sorted(os.listdir(directory))
        if os.path.isfile(os.path.join(directory, name))
    }


def secret_values(secrets_dir):
    """The secrets' contents, for the module to mask wherever they would appear in its output (log tails, probe
    bodies, tool output): AnsibleModule replaces every value in ``no_log_values`` before it returns."""
    values = set()
    for path in secret_files(secrets_dir).values():
        with open(path, encoding="utf-8", errors="replace") as handle:
            content = handle.read()
        values.update(value for value in (content, content.strip()) if value)
    return values


def environment(env_file, variables, secrets_dir):
    """Later wins: the shared env file, then the service's variables, then where each secret file is mounted."""
    values = read_env_file(env_file) if env_file else {}
    values.update(variables)
    values.update({f"{name}_FILE": f"{SECRETS_MOUNT}/{name}" for name in secret_files(secrets_dir)})
    return values


def secret_volumes(secrets_dir):
    """Docker SDK volumes mounting the secrets read-only (None without secrets)."""
    return {secrets_dir: {"bind": SECRETS_MOUNT, "mode": "ro"}} if secrets_dir else None


def read_env_file(path):
    values = {}
    with open(path, encoding="utf-8") as handle:
        for raw_line in handle:
            line = raw_line.strip()
            if line and not line.startswith("#") and "=" in line:
                name, value = line.split("=", 1)
                values[name.strip()] = value
    return values
