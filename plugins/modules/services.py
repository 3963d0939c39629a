#!/usr/bin/python
# Copyright: (c) 2026, appstack.platform maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: services
short_description: Keep systemd units running or stopped, and enabled or not, asking systemd once
version_added: 0.1.0
description:
  - Reads the state of all O(names) with one C(systemctl show), then enables, disables, starts or stops only the
    units that differ, one C(systemctl) command per action for all of them. C(ansible.builtin.systemd_service)
    asks systemd several times per unit, and a loop repeats that per item.
  - For the state a role keeps; a restart or reload after a change belongs in a handler
    (C(ansible.builtin.systemd_service)).
  - When a start fails, the error shows each failing unit's status and last journal lines.
author: appstack.platform maintainers (@appstack)
attributes:
  check_mode:
    support: full
    description: Reports what it would change; a unit systemd does not know yet (written by an earlier task that
      check mode did not run) counts as one it would start.
  diff_mode:
    support: none
    description: Reports no diff; the returned lists say what changed.
options:
  names:
    description: The units, with their suffix (C(nginx.service), C(certbot.timer)).
    type: list
    elements: str
    required: true
  state:
    description: Whether the units run.
    type: str
    choices: [started, stopped]
    default: started
  enabled:
    description: Whether the units start at boot; left as they are when unset. A static unit (no C([Install])
      section) counts as enabled.
    type: bool
  daemon_reload:
    description: Make systemd read changed unit files first (after a task wrote them).
    type: bool
    default: false
"""

EXAMPLES = r"""
- name: Keep the backup timers running and started at boot, after their unit files were written
  appstack.platform.services:
    names: [backup-postgresql.timer, backup-files.timer]
    enabled: true
    daemon_reload: "{{ backup_units is changed }}"

- name: Stop the package's default Redis
  appstack.platform.services:
    names: [redis-server.service]
    state: stopped
    enabled: false
"""

RETURN = r"""
started:
  description: Units this task started (or would start, in check mode).
  returned: always
  type: list
  elements: str
stopped:
  description: Units this task stopped.
  returned: always
  type: list
  elements: str
enabled:
  description: Units this task enabled.
  returned: always
  type: list
  elements: str
disabled:
  description: Units this task disabled.
  returned: always
  type: list
  elements: str
"""

from ansible.module_utils.basic import AnsibleModule

RUNNING = {"active", "activating", "reloading"}
# What `systemctl is-enabled` answers with exit 0: the unit starts at boot, or has no [Install] section to enable.
ENABLED = {"enabled", "enabled-runtime", "static", "alias", "indirect", "generated", "transient"}
ACTIONS = ("disabled", "stopped", "enabled", "started")
SYSTEMCTL_VERB = {"disabled": "disable", "stopped": "stop", "enabled": "enable", "started": "start"}


def argument_spec():
    return {
        "names": {"type": "list", "elements": "str", "required": True},
        "state": {"type": "str", "choices": ["started", "stopped"], "default": "started"},
        "enabled": {"type": "bool"},
        "daemon_reload": {"type": "bool", "default": False},
    }


def systemctl(module, *arguments):
    argv = ["systemctl", *arguments]
    rc, out, err = module.run_command(argv, handle_exceptions=False)
    if rc != 0:
        module.fail_json(msg=f"{' '.join(argv)} failed (exit {rc}): {(err or out).strip()}")
    return out


def parse_show(output):
    """`systemctl show` prints each unit's properties as Key=value lines, units in the order asked, separated by an
    empty line."""
    return [
        dict(line.split("=", 1) for line in block.splitlines() if "=" in line) for block in output.strip().split("\n\n")
    ]


class UnknownUnit(Exception):
    pass


def plan(names, wanted_state, wanted_enabled, states, check_mode):
    """What to do, as {action: [unit names]}, from the wanted state and systemd's view of each unit."""
    actions = {action: [] for action in ACTIONS}
    for index, name in enumerate(names):
        state = states[index]
        unknown = state.get("LoadState") == "not-found"
        if unknown and not check_mode:
            raise UnknownUnit(name)
        if wanted_enabled is True and (unknown or state.get("UnitFileState") not in ENABLED):
            actions["enabled"].append(name)
        elif wanted_enabled is False and state.get("UnitFileState") in ("enabled", "enabled-runtime"):
            actions["disabled"].append(name)
        running = state.get("ActiveState") in RUNNING
        if wanted_state == "started" and not running:
            actions["started"].append(name)
        elif wanted_state == "stopped" and running:
            actions["stopped"].append(name)
    return actions


def start_failure(module, names, rc, err):
    """The failing units' own words: `systemctl status` shows the state, the exit code and the last journal lines."""
    status = []
    for name in names:
        _rc, out, _err = module.run_command(
            ["systemctl", "status", "--no-pager", "--full", "--lines=20", name], handle_exceptions=False
        )
        status.append(out.strip())
    module.fail_json(
        msg=f"systemctl start {' '.join(names)} failed (exit {rc}): {err.strip()}\n\n" + "\n\n".join(status),
    )


def run(module):
    params = module.params
    names = list(dict.fromkeys(params["names"]))
    if params["daemon_reload"] and not module.check_mode:
        systemctl(module, "daemon-reload")
    if not names:
        return {"changed": False, **{action: [] for action in ACTIONS}}
    states = parse_show(systemctl(module, "show", "--property=Id,LoadState,ActiveState,UnitFileState", "--", *names))
    try:
        actions = plan(names, params["state"], params["enabled"], states, module.check_mode)
    except UnknownUnit as unknown:
        module.fail_json(msg=f"systemd has no unit {unknown} (is its package installed, its unit file written?)")
    if not module.check_mode:
        for action in ACTIONS:
            if not actions[action]:
                continue
            if action == "started":
                rc, _out, err = module.run_command(
                    ["systemctl", "start", "--", *actions[action]], handle_exceptions=False
                )
                if rc != 0:
                    start_failure(module, actions[action], rc, err)
            else:
                systemctl(module, SYSTEMCTL_VERB[action], "--", *actions[action])
    return {"changed": any(actions.values()), **actions}


def main():
    module = AnsibleModule(argument_spec=argument_spec(), supports_check_mode=True)
    module.exit_json(**run(module))


if __name__ == "__main__":
    main()
