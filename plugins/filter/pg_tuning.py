# Copyright: (c) 2026, appstack.platform maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Derive PostgreSQL memory settings from the memory a host gives it."""

from __future__ import annotations

from ansible.errors import AnsibleFilterError

PROFILES = ("auto", "small")
DEFAULT_MAX_CONNECTIONS = {"auto": 100, "small": 30}
MIN_MEMORY_MB = 256
# Past these the gain is small and the cost (checkpoint I/O, vacuum bursts) is not.
SHARED_BUFFERS_CAP_MB = 16 * 1024
MAINTENANCE_WORK_MEM_CAP_MB = 2 * 1024
SMALL_SHARED_BUFFERS_MB = 64
SMALL_MAINTENANCE_WORK_MEM_MB = 32
# A query may run several sort/hash nodes at once; budget three per connection.
WORK_MEM_NODES_PER_CONNECTION = 3
WORK_MEM_FLOOR_MB = 1
WORK_MEM_CAP_MB = 256


def _as_positive_int(value, what):
    try:
        number = int(value)
    except (TypeError, ValueError):
        raise AnsibleFilterError(f"pg_tuning: {what} must be an integer, got {value!r}") from None
    if number <= 0:
        raise AnsibleFilterError(f"pg_tuning: {what} must be positive, got {number}")
    return number


def pg_tuning(memory_mb, profile="auto", max_connections=None):
    """Return PostgreSQL settings for a host with ``memory_mb`` MiB of memory."""
    memory_mb = _as_positive_int(memory_mb, "memory in MiB")
    if memory_mb < MIN_MEMORY_MB:
        raise AnsibleFilterError(f"pg_tuning: {memory_mb} MiB is below the {MIN_MEMORY_MB} MiB PostgreSQL needs")
    if profile not in PROFILES:
        raise AnsibleFilterError(f"pg_tuning: profile must be one of {', '.join(PROFILES)}, got {profile!r}")
    if max_connections is None:
        max_connections = DEFAULT_MAX_CONNECTIONS[profile]
    max_connections = _as_positive_int(max_connections, "max_connections")

    if profile == "small":
        shared_buffers = SMALL_SHARED_BUFFERS_MB
        # The OS cache is shared with nginx, Redis and the app on a small host: count on a quarter of it.
        effective_cache_size = memory_mb // 4
        maintenance_work_mem = SMALL_MAINTENANCE_WORK_MEM_MB
    else:
        shared_buffers = min(memory_mb // 4, SHARED_BUFFERS_CAP_MB)
        effective_cache_size = memory_mb * 3 // 4
        maintenance_work_mem = min(memory_mb // 16, MAINTENANCE_WORK_MEM_CAP_MB)

    work_mem = (memory_mb - shared_buffers) // (max_connections * WORK_MEM_NODES_PER_CONNECTION)
    if profile == "small":
        work_mem = min(work_mem, 4)
    work_mem = max(WORK_MEM_FLOOR_MB, min(work_mem, WORK_MEM_CAP_MB))

    return {
        "max_connections": max_connections,
        "shared_buffers": f"{shared_buffers}MB",
        "effective_cache_size": f"{effective_cache_size}MB",
        "work_mem": f"{work_mem}MB",
        "maintenance_work_mem": f"{maintenance_work_mem}MB",
    }


class FilterModule:
    def filters(self):
        return {"pg_tuning": pg_tuning}
