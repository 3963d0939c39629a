# Copyright: (c) 2026, appstack.platform maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""A per-service lock on the host: one rollout of a service at a time, the second waits or names the holder.

``flock`` on a file beside the ledger: the kernel releases it when the holder's process dies (an SSH drop, a
kill), so a crashed run never leaves the service locked. The holder writes who it is into the file.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import time


class LockTimeout(Exception):
    def __init__(self, message, holder):
        super().__init__(message)
        self.holder = holder


@contextlib.contextmanager
def held(path, timeout, holder, *, clock=time.monotonic, sleep=time.sleep, poll=0.2):
    """Hold the lock at ``path`` for the block, waiting up to ``timeout`` seconds; yields the seconds waited.

    ``holder`` (a dict: pid, host, what is being done) is written into the file for a run that has to wait.
    """
    os.makedirs(os.path.dirname(path), mode=0o750, exist_ok=True)
    descriptor = os.open(path, os.O_RDWR | os.O_CREAT, 0o640)
    try:
        started = clock()
        while True:
            try:
                fcntl.flock(descriptor, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                waited = clock() - started
                if waited >= timeout:
                    current = _read_holder(descriptor)
                    raise LockTimeout(
                        f"another rollout holds the lock {path} (waited {timeout:g} s): {_describe(current)}", current
                    ) from None
                sleep(min(poll, timeout - waited))
        os.ftruncate(descriptor, 0)
        os.pwrite(descriptor, json.dumps(holder, sort_keys=True).encode(), 0)
        yield round(clock() - started, 3)
    finally:
        os.close(descriptor)


def _read_holder(descriptor):
    try:
        return json.loads(os.pread(descriptor, 4096, 0) or b"{}")
    except ValueError:
        return {}


def _describe(holder):
    if not holder:
        return "holder unknown"
    return ", ".join(f"{key} {value}" for key, value in sorted(holder.items()))
