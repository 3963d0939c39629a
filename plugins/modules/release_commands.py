#!/usr/bin/python
# Copyright: (c) 2026, appstack.platform maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: release_commands
short_description: Run a release's one-time commands (first admin user, initial data) once per environment
version_added: 0.1.0
description:
  - Runs each command in a one-off container of the new release's image, with the release's environment, secrets,
    extra hosts and user (the same as its services and its migrations get), one after the other, after the
    migrations and before any service is rolled out.
  - A command that fails (or outlives its timeout) stops the run with its output and exit code; the commands after
    it do not run, and nothing has switched.
  - What ran is recorded in C(<ledger_dir>/<app>-<env>/release-commands.json) (image, configuration and commands).
    A run with the same ones changes nothing, so a re-run of the same deploy is idempotent. The commands themselves
    should be safe to run again, since a new release runs them again.
  - With O(once=false) the commands run every time and nothing is recorded; with O(serving_release_of) they run in
    the release a service serves on the host. That is how C(playbooks/run.yml) runs a one-off command.
author: appstack.platform maintainers (@appstack)
extends_documentation_fragment:
  - appstack.platform.app_container
attributes:
  check_mode:
    support: full
    description: Reports whether the commands would run; runs nothing.
  diff_mode:
    support: none
    description: Nothing is written but the record.
options:
  app:
    description: Application name.
    type: str
    required: true
  deployment:
    description:
      - The app's deployment environment (for example C(prod)); with O(app) it names the record. Not the
        containers' variables (O(environment), O(env_file)).
    type: str
    required: true
    aliases: [env]
  image:
    description:
      - Image of the new release (present on the host).
      - Required unless O(serving_release_of) is set.
    type: str
  serving_release_of:
    description:
      - Run in the release this service of the environment serves on the host, as its release ledger names it (its
        newest succeeded record, unless the service was retired since) - its image and its configuration files.
      - Instead of O(image), O(env_file), O(secrets_dir) and O(env_secrets_dir). A service with no serving release
        fails the run before any container starts.
    type: str
  commands:
    description: The commands, in order.
    type: list
    elements: dict
    required: true
    suboptions:
      name:
        description: What the command does (in the results and errors).
        type: str
        required: true
      command:
        description: The command (argv).
        type: list
        elements: str
        required: true
      timeout:
        description: Seconds it may run before it is stopped and the run fails.
        type: float
        default: 600
  once:
    description: Run the commands only when the image, the configuration or the commands changed since they last ran.
    type: bool
    default: true
  network:
    description: Docker network of the containers; the default bridge when not set.
    type: str
  output_lines:
    description: Lines of each command's output kept in the results.
    type: int
    default: 40
  ledger_dir:
    description: Directory of the per-application records (the release ledgers').
    type: path
    default: /var/lib/appstack
"""

EXAMPLES = r"""
- name: Create the first admin user and load the initial data
  appstack.platform.release_commands:
    app: shop
    deployment: prod
    image: registry.example.com/shop:2026.12.1
    env_file: /etc/appstack/shop-prod/releases/5d41402abc4b/app.env
    secrets_dir: /etc/appstack/shop-prod/releases/5d41402abc4b/secrets
    commands:
      - {name: admin user, command: [python3, manage.py, ensure_admin]}
      - {name: initial data, command: [python3, manage.py, loaddata, initial.json], timeout: 1200}
"""

RETURN = r"""
ran:
  description: Each command that ran, with its exit code, its seconds and the tail of its output (secrets masked).
  type: list
  elements: dict
  returned: always
  sample: [{name: admin user, exit_code: 0, seconds: 2.1, output: ["admin exists"]}]
release:
  description: The release the commands ran in (O(serving_release_of)).
  type: str
  returned: when O(serving_release_of) is set, on failure too
  sample: 5d41402abc4b
failed_command:
  description: The command that failed.
  type: str
  returned: failure
"""

import hashlib
import json
import os
import tempfile
import time
import traceback

from ansible.module_utils.basic import AnsibleModule, missing_required_lib

from ansible_collections.appstack.platform.plugins.module_utils import app_container, release_ledger

try:
    import docker
except ImportError:
    DOCKER_IMPORT_ERROR = traceback.format_exc()
else:
    DOCKER_IMPORT_ERROR = None


def identity(image_id, config, commands, volumes):
    """What makes a run the same as the last one: the image, the configuration's content, the commands and the
    data volumes they see."""
    # Volumes only when there are some: environments recorded before volumes existed keep their identity.
    content = {"image": image_id, "commands": commands, **({"volumes": volumes} if volumes else {})}
    for name, path in config.items():
        if path and os.path.isdir(path):
            content[name] = {secret: _digest(file) for secret, file in app_container.secret_files(path).items()}
        elif path:
            content[name] = _digest(path)
    return hashlib.sha256(json.dumps(content, sort_keys=True).encode()).hexdigest()


def _digest(path):
    with open(path, "rb") as handle:
        return hashlib.sha256(handle.read()).hexdigest()


def write_record(path, record):
    directory = os.path.dirname(path)
    os.makedirs(directory, mode=0o750, exist_ok=True)
    handle, temporary = tempfile.mkstemp(dir=directory, prefix=".release-commands.")
    with os.fdopen(handle, "w", encoding="utf-8") as output:
        json.dump(record, output, indent=1, sort_keys=True)
    os.chmod(temporary, 0o640)
    os.replace(temporary, path)


def use_serving_release(module):
    """Take the image and configuration of the release O(serving_release_of) serves, or fail saying why none does;
    returns the release."""
    params = module.params
    service = params["serving_release_of"]
    try:
        records = release_ledger.ReleaseLedger.of(release_ledger.environment_of(params)).records()
    except release_ledger.LedgerCorrupt as error:
        module.fail_json(msg=f"the release ledger {error}: the next deploy moves it aside")
    record = release_ledger.serving(records, service)
    if record is None:
        retired = any(r.get("service") == service and r.get("outcome") == release_ledger.RETIRED for r in records)
        module.fail_json(
            msg=f"no release of {params['app']}-{params['deployment']}-{service} serves on this host (its release "
            f"ledger has {'its retirement last' if retired else 'no succeeded release'}): deploy it first, or name "
            "another service"
        )
    params["image"] = record["image_id"]
    params.update({name: record.get(name) for name in app_container.CONFIG_OPTIONS})
    return record["release"]


def run(module, client, release=None):
    """Run the commands (in ``release``, the one O(serving_release_of) serves, when given)."""
    params = module.params
    in_release = {"release": release} if release else {}
    config = app_container.config_of(params)
    module.no_log_values.update(app_container.secret_values(config))
    instance = f"{params['app']}-{params['deployment']}"
    record_path = os.path.join(params["ledger_dir"], instance, "release-commands.json")
    image = client.images.get(params["image"])
    wanted = identity(image.id, config, params["commands"], params["volumes"])
    if params["once"]:
        try:
            with open(record_path, encoding="utf-8") as handle:
                if json.load(handle).get("identity") == wanted:
                    return {"changed": False, "ran": []}
        except (FileNotFoundError, ValueError):
            pass
    if module.check_mode:
        return {"changed": True, "ran": [], **in_release}
    app_container.ensure_volumes(client, params)
    options = {
        **app_container.container_options(config, params),
        "labels": {f"{app_container.LABEL}.release-command": instance},
        **({"network": params["network"]} if params["network"] else {}),
    }
    ran = []
    for command in params["commands"]:
        started = time.monotonic()
        status, _stdout, combined = app_container.run_one_off(
            client, image.id, f"{instance}-release-command", command["command"], options, command["timeout"]
        )
        result = {
            "name": command["name"],
            "exit_code": status,
            "seconds": round(time.monotonic() - started, 2),
            "output": combined.rstrip().splitlines()[-params["output_lines"] :],
        }
        ran.append(result)
        if status != 0:
            what = (
                f"exited with {status}" if status is not None else f"did not finish within {command['timeout']:.0f} s"
            )
            consequence = "; nothing was switched and the commands after it did not run" if params["once"] else ""
            module.fail_json(
                msg=f"{'release ' if params['once'] else ''}command {command['name']!r} "
                f"({' '.join(command['command'])}){f' in release {release}' if release else ''} {what}{consequence}; "
                "its last lines: " + " / ".join(result["output"][-5:]),
                failed_command=command["name"],
                ran=ran,
                **in_release,
            )
    if params["once"]:
        write_record(record_path, {"identity": wanted, "image": params["image"], "image_id": image.id, "ran": ran})
    return {"changed": True, "ran": ran, **in_release}


def argument_spec():
    return {
        **release_ledger.ARGUMENT_SPEC,
        "image": {"type": "str"},
        "serving_release_of": {"type": "str"},
        "commands": {
            "type": "list",
            "elements": "dict",
            "required": True,
            "options": {
                "name": {"type": "str", "required": True},
                "command": {"type": "list", "elements": "str", "required": True},
                "timeout": {"type": "float", "default": 600},
            },
        },
        **app_container.ARGUMENT_SPEC,
        "once": {"type": "bool", "default": True},
        "network": {"type": "str"},
        "output_lines": {"type": "int", "default": 40},
    }


def main():
    module = AnsibleModule(
        argument_spec=argument_spec(),
        mutually_exclusive=[("serving_release_of", option) for option in ("image", *app_container.CONFIG_OPTIONS)],
        required_one_of=[("image", "serving_release_of")],
        supports_check_mode=True,
    )
    release = use_serving_release(module) if module.params["serving_release_of"] else None
    if DOCKER_IMPORT_ERROR:
        if module.check_mode:
            module.warn("Docker SDK not installed yet: assuming the release commands would run")
            module.exit_json(changed=True, ran=[])
        module.fail_json(msg=missing_required_lib("docker (python3-docker)"), exception=DOCKER_IMPORT_ERROR)
    missing = app_container.missing(app_container.config_of(module.params))
    if missing:
        if module.check_mode:
            module.exit_json(changed=True, ran=[])
        module.fail_json(msg=f"the release's configuration ({', '.join(missing)}) is not on this host: write it first")
    try:
        result = run(module, docker.from_env(), release)
    except docker.errors.ImageNotFound:
        if module.check_mode:
            module.exit_json(changed=True, ran=[])
        module.fail_json(msg=f"image {module.params['image']} is not on this host: pull or load it first")
    except docker.errors.DockerException as error:
        module.fail_json(msg=f"Docker error: {error}", exception=traceback.format_exc())
    module.exit_json(**result)


if __name__ == "__main__":
    main()
