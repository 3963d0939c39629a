# Copyright: (c) 2026, appstack.platform maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""What a rollout has to do: release identity, the decision to change, the idle slot, what to prune."""

from __future__ import annotations

import hashlib
import json
import os


def config_hash(spec):
    """Stable hash of everything that defines a release besides its image (command, env, secrets, limits...)."""
    return hashlib.sha256(json.dumps(spec, sort_keys=True, separators=(",", ":")).encode()).hexdigest()


def release_id(image_id, spec_hash):
    return hashlib.sha256(f"{image_id}\n{spec_hash}".encode()).hexdigest()[:12]


def is_current(running, image_id, spec_hash):
    """True when ``running`` (labels of the serving container, or None) already is the wanted release."""
    return bool(running) and running.get("image_id") == image_id and running.get("config_hash") == spec_hash


def idle_port(slot_ports, live_port):
    """The slot port not serving traffic now (the first one when nothing is live)."""
    if len(slot_ports) != 2 or slot_ports[0] == slot_ports[1]:
        raise ValueError(f"slot_ports must be two different ports, got {slot_ports}")
    return slot_ports[1] if live_port == slot_ports[0] else slot_ports[0]


def to_prune(stopped, keep):
    """Names of stopped releases beyond the newest ``keep``; ``stopped`` is [(created, name)]."""
    newest_first = sorted(stopped, reverse=True)
    return [name for _created, name in newest_first[keep:]]


def unused_configs(names, root, paths_in_use):
    """Names of the configuration directories under ``root`` that none of ``paths_in_use`` (the env files and secret
    directories of every container, running or kept) lies in."""
    in_use = {
        os.path.relpath(path, root).split(os.sep, maxsplit=1)[0]
        for path in paths_in_use
        if path and os.path.commonpath([os.path.abspath(path), os.path.abspath(root)]) == os.path.abspath(root)
    }
    return [name for name in names if name not in in_use]
