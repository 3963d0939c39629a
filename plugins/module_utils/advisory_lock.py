# Copyright: (c) 2026, appstack.platform maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""A PostgreSQL session advisory lock taken with a deadline, naming its holder when it cannot be had.

The connection is any DB-API connection in autocommit mode; the lock lives as long as its session (a crashed
deploy releases it when its connection closes). It needs a direct connection to PostgreSQL: through PgBouncer in
transaction pooling the session, and so the lock, is not the client's.
"""

from __future__ import annotations

import hashlib
import time

HOLDER_QUERY = """
SELECT a.pid, a.application_name, host(a.client_addr), a.backend_start, a.xact_start, a.state
FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid
WHERE l.locktype = 'advisory' AND l.granted AND l.objsubid = 1
  AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database())
  AND l.classid = %s AND l.objid = %s AND a.pid <> pg_backend_pid()
"""


class LockTimeout(Exception):
    def __init__(self, message, holder):
        super().__init__(message)
        self.holder = holder


def key_of(name):
    """Stable signed 64-bit key of a lock name (PostgreSQL's bigint advisory lock key)."""
    return int.from_bytes(hashlib.sha256(name.encode()).digest()[:8], "big", signed=True)


def key_halves(key):
    """(classid, objid) under which pg_locks shows a bigint key."""
    unsigned = key & 0xFFFFFFFFFFFFFFFF
    return unsigned >> 32, unsigned & 0xFFFFFFFF


def acquire(connection, name, timeout, poll_interval=1.0, clock=time.monotonic, sleep=time.sleep):
    """Take the lock, polling until ``timeout`` seconds have passed. Returns seconds waited; raises LockTimeout."""
    key = key_of(name)
    started = clock()
    while True:
        if _query(connection, "SELECT pg_try_advisory_lock(%s)", (key,))[0][0]:
            return clock() - started
        waited = clock() - started
        if waited >= timeout:
            holder = describe_holder(connection, key)
            raise LockTimeout(
                f"another migration holds the lock {name!r} (waited {waited:.0f} s): {holder or 'holder unknown'}",
                holder,
            )
        sleep(min(poll_interval, max(timeout - waited, 0)))


def release(connection, name):
    _query(connection, "SELECT pg_advisory_unlock(%s)", (key_of(name),))


def describe_holder(connection, key):
    rows = _query(connection, HOLDER_QUERY, key_halves(key))
    if not rows:
        return None
    pid, application, address, backend_start, transaction_start, state = rows[0]
    where = f" from {address}" if address else ""
    return (
        f"PostgreSQL backend {pid} ({application or 'no application_name'}{where}), connected since "
        f"{backend_start}, {state}" + (f" in a transaction since {transaction_start}" if transaction_start else "")
    )


def _query(connection, sql, parameters):
    with connection.cursor() as cursor:
        cursor.execute(sql, parameters)
        return cursor.fetchall()
