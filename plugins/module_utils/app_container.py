# Copyright: (c) 2026, appstack.platform maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""What every container of an app release gets from the host: its environment, its secrets, its hosts and user.

One place for the modules that start an app's containers (app_rollout's releases, db_migrate's one-off containers),
so that a service and its migrations can never see different settings. The options are documented once in the
``appstack.platform.app_container`` documentation fragment.
"""

from __future__ import annotations

import os
import time

SECRETS_MOUNT = "/run/secrets"
LABEL = "appstack"

# The files a release is configured by (its configuration, in the ledger's words).
CONFIG_OPTIONS = ("env_file", "secrets_dir", "env_secrets_dir")

ARGUMENT_SPEC = {
    "env_file": {"type": "path"},
    "environment": {"type": "dict", "default": {}},
    "secrets_dir": {"type": "path"},
    "env_secrets_dir": {"type": "path"},
    "extra_hosts": {"type": "dict", "default": {}},
    "user": {"type": "str"},
    "volumes": {
        "type": "list",
        "elements": "dict",
        "default": [],
        "options": {
            "name": {"type": "str"},
            "host_path": {"type": "path"},
            "path": {"type": "str", "required": True},
            "read_only": {"type": "bool", "default": False},
        },
        "mutually_exclusive": [("name", "host_path")],
        "required_one_of": [("name", "host_path")],
    },
}


def config_of(params):
    """The configuration files named by a module's parameters (or a ledger record)."""
    return {name: params.get(name) for name in CONFIG_OPTIONS}


def missing(config):
    """The configuration files that are named but not on this host."""
    return [path for path in config.values() if path and not os.path.exists(path)]


def secret_files(directory):
    """NAME -> path of each secret file in ``directory`` (none when not set)."""
    if not directory:
        return {}
    return {
        name: os.path.join(directory, name)
        for name in sorted(os.listdir(directory))
        if os.path.isfile(os.path.join(directory, name))
    }


def _read(path):
    with open(path, encoding="utf-8", errors="replace") as handle:
        return handle.read()


def secret_values(config):
    """Every secret's content, for the module to mask wherever it would appear in its output (log tails, probe
    bodies, tool output): AnsibleModule replaces every value in ``no_log_values`` before it returns."""
    values = set()
    for directory in (config["secrets_dir"], config["env_secrets_dir"]):
        for path in secret_files(directory).values():
            content = _read(path)
            values.update(value for value in (content, content.strip()) if value)
    return values


def variables(params):
    """The service's own variables, as text: an inventory's ``"{{ cpus * 2 }}"`` is '4' under ansible-core before 2.19
    and 4 since, and is one release either way. None stays None (Docker then sets no value)."""
    return {
        name: value if value is None or isinstance(value, str) else str(value)
        for name, value in params["environment"].items()
    }


def environment(config, params):
    """Later wins: the shared env file, the service's variables, the secrets delivered as variables, and where each
    secret file is mounted."""
    values = read_env_file(config["env_file"]) if config["env_file"] else {}
    values.update(variables(params))
    values.update({name: _read(path) for name, path in secret_files(config["env_secrets_dir"]).items()})
    values.update({f"{name}_FILE": f"{SECRETS_MOUNT}/{name}" for name in secret_files(config["secrets_dir"])})
    return values


def container_options(config, params, data=True):
    """Docker SDK ``containers.run`` options every container of the release gets (None values left out);
    ``data``: with the app's data volumes (what only reads the database's state does without)."""
    volumes = {config["secrets_dir"]: {"bind": SECRETS_MOUNT, "mode": "ro"}} if config["secrets_dir"] else {}
    if data:
        volumes.update(
            {
                source: {"bind": volume["path"], "mode": "ro" if volume["read_only"] else "rw"}
                for source, volume in _data_volumes(params)
            }
        )
    options = {
        "environment": environment(config, params),
        "volumes": volumes or None,
        "extra_hosts": params["extra_hosts"] or None,
        "user": params["user"],
    }
    return {key: value for key, value in options.items() if value is not None}


def volume_name(params, name):
    """A named volume belongs to the app environment: ``<app>-<env>-<name>``."""
    return f"{params['app']}-{params['deployment']}-{name}"


def _data_volumes(params):
    for volume in params["volumes"]:
        yield (volume_name(params, volume["name"]) if volume["name"] else volume["host_path"]), volume


def ensure_volumes(client, params):
    """Create the data volumes that are missing and give a new one to the containers' user: Docker makes a volume
    root's, and the app runs as a user of its own. A volume outlives every release; one the user owns is left as
    it is. Returns the names of those created."""
    uid, _separator, gid = (params["user"] or "").partition(":")
    created = []
    for source, volume in _data_volumes(params):
        if volume["name"]:
            found = [v for v in client.volumes.list(filters={"name": source}) if v.name == source]
            if not found:
                labels = {f"{LABEL}.volume": f"{params['app']}-{params['deployment']}"}
                found = [client.volumes.create(name=source, labels=labels)]
                created.append(source)
            directory = found[0].attrs["Mountpoint"]
        else:
            directory = source
            if not os.path.isdir(directory):
                os.makedirs(directory, mode=0o750)
                created.append(source)
        if uid.isdigit() and (source in created or os.stat(directory).st_uid == 0):
            os.chown(directory, int(uid), int(gid) if gid.isdigit() else int(uid))
    return created


def run_one_off(client, image, name, argv, options, timeout):
    """Run ``argv`` in a one-off container of the release and remove it; returns (exit code, stdout, stdout and
    stderr). The exit code is None when it did not finish within ``timeout`` seconds (it was killed)."""
    container = client.containers.run(
        image, name=f"{name}-{os.getpid()}-{time.monotonic_ns()}", command=argv, detach=True, **options
    )
    try:
        try:
            status = container.wait(timeout=timeout)["StatusCode"]
        except Exception:  # the SDK raises its HTTP client's read timeout
            container.kill()
            status = None
        stdout = container.logs(stdout=True, stderr=False).decode(errors="replace")
        combined = container.logs(stdout=True, stderr=True).decode(errors="replace")
    finally:
        container.remove(force=True)
    return status, stdout, combined


def read_env_file(path):
    values = {}
    with open(path, encoding="utf-8") as handle:
        for raw_line in handle:
            line = raw_line.strip()
            if line and not line.startswith("#") and "=" in line:
                name, value = line.split("=", 1)
                values[name.strip()] = value
    return values
