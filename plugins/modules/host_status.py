#!/usr/bin/python
# Copyright: (c) 2026, appstack.platform maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: host_status
short_description: Read a host's state as the stack sees it, and name what is wrong
version_added: 0.1.0
description:
  - Reads, and changes nothing; the same in check mode.
  - The systemd units the host's roles run, and every failed unit; the serving release of each app environment
    and service from its release ledger (release, image, since when, the previous good release, the migration
    revision), with the state of the release's container; the certificates' expiry; the backup role's record of
    the last good backup of each kind and the last restore drill; disk and memory use; the PostgreSQL settings
    that wait for a restart, and whether its WAL archiving fails (its newest attempt failed; WAL then stays in
    C(pg_wal) until it is archived, and a repository that stays out of reach fills the disk).
  - Each finding outside a threshold is one line in RV(problems).
author: appstack.platform maintainers (@appstack)
attributes:
  check_mode:
    support: full
    description: Reads the same in check mode.
  diff_mode:
    support: none
    description: Nothing is written.
options:
  units:
    description:
      - systemd units that must be active, as names or patterns (for example C(redis-server@*.service)); every
        loaded unit a pattern matches is read, and a pattern that matches none is a problem.
    type: list
    elements: str
    default: []
  ledger_dir:
    description: Directory of the app environments' release ledgers (C(<ledger_dir>/<app>-<env>/releases.json)).
    type: path
  certificates:
    description:
      - Certificates to read the expiry of, as paths or patterns (PEM; the first certificate of a chain is read).
        Each is named after its directory (the nginx role keeps a site's in C(<certs>/<site>/fullchain.pem)).
    type: list
    elements: str
    default: []
  backup_record:
    description: The backup role's record file, read when it exists.
    type: path
  backup_required:
    description: Whether a missing O(backup_record) is a problem (a host whose data must be backed up).
    type: bool
    default: false
  postgresql_port:
    description: Port of the host's PostgreSQL cluster, asked (as C(postgres)) which settings wait for a restart.
    type: int
  disk_paths:
    description: Mount points whose use is read.
    type: list
    elements: path
    default: [/]
  disk_percent:
    description: Disk use above which a mount point is a problem.
    type: int
    default: 90
  memory_percent:
    description: Memory use (total less available) above which the host is a problem.
    type: int
    default: 95
  certificate_days:
    description: Days of validity below which a certificate is a problem.
    type: int
    default: 14
  backup_hours:
    description: Age in hours above which a last good backup is a problem.
    type: int
    default: 26
"""

EXAMPLES = r"""
- name: Read the host's state
  appstack.platform.host_status:
    units: [nginx.service, docker.service, redis-server@*.service]
    ledger_dir: /var/lib/appstack
    certificates: [/etc/nginx/appstack/certs/*/fullchain.pem]
    backup_record: /var/lib/appstack/backups.json
    backup_required: true
  register: host_state
"""

RETURN = r"""
units:
  description: Each unit O(units) names or matches, with its states.
  returned: always
  type: list
  elements: dict
  sample: [{"name": "nginx.service", "loaded": "loaded", "active": "active", "sub": "running"}]
failed_units:
  description: Every unit systemd lists as failed.
  returned: always
  type: list
  elements: str
apps:
  description:
    - Per app environment and service, the newest succeeded release of the ledger (C(release), C(image),
      C(image_id), C(since), C(migration_revision)), C(previous_release), C(container) (the release's container
      state, C(missing) when there is none) and C(last_attempt) (the outcome of the newest attempt). A service
      retired since (M(appstack.platform.app_retire)) is left out.
  returned: always
  type: list
  elements: dict
certificates:
  description: Each certificate's C(name), C(not_after) and C(days_left), or C(error).
  returned: always
  type: list
  elements: dict
backups:
  description: Each last good backup (C(kind), C(key), C(id), C(time), C(age_hours)); the drill as kind C(drill).
  returned: always
  type: list
  elements: dict
disk:
  description: Per mount point, C(path), C(used_percent), C(free_gb).
  returned: always
  type: list
  elements: dict
memory:
  description: C(total_mb), C(available_mb), C(used_percent).
  returned: always
  type: dict
postgresql_pending_restart:
  description: Settings changed in the configuration that take effect only after a restart.
  returned: when O(postgresql_port) is set
  type: list
  elements: str
postgresql_wal_archiving:
  description:
    - PostgreSQL's C(archive_mode) and C(pg_stat_archiver)'s newest archived and failed WAL (C(last_archived_wal),
      C(last_archived_time), C(last_failed_wal), C(last_failed_time); null when there is none).
  returned: when O(postgresql_port) is set
  type: dict
problems:
  description: What is wrong, one line each; empty when all is well.
  returned: always
  type: list
  elements: str
  sample: ["redis-server@cache.service is inactive (dead)", "certificate demo-prod expires in 3 days"]
"""

import datetime
import fnmatch
import glob
import json
import os

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.appstack.platform.plugins.module_utils.release_ledger import (
    RETIRED,
    SUCCEEDED,
    LedgerCorrupt,
    ReleaseLedger,
    ledger_path,
    services,
    serving,
)

CERTIFICATE_TIME = "%b %d %H:%M:%S %Y %Z"
WAL_ARCHIVING_QUERY = (
    "SELECT row_to_json(archiver) FROM (SELECT current_setting('archive_mode') AS archive_mode, last_archived_wal,"
    " last_archived_time, last_failed_wal, last_failed_time FROM pg_stat_archiver) archiver"
)


def _utc(text):
    """An ISO 8601 time as the ledger (``...Z``) or the backup record (``+00:00``) writes it."""
    parsed = datetime.datetime.fromisoformat(text.replace("Z", "+00:00"))
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=datetime.UTC)


def _hours_between(earlier, later):
    return round((later - earlier).total_seconds() / 3600, 1)


def parse_units(output):
    """``systemctl list-units --plain --no-legend --full`` lines: unit, load, active, sub, description."""
    units = []
    for line in output.splitlines():
        fields = line.split(None, 4)
        if len(fields) >= 4:
            units.append({"name": fields[0], "loaded": fields[1], "active": fields[2], "sub": fields[3]})
    return units


def unit_problems(patterns, units):
    problems = [
        f"no unit {pattern} on this host"
        for pattern in patterns
        if not any(fnmatch.fnmatchcase(unit["name"], pattern) for unit in units)
    ]
    problems += [f"{unit['name']} is {unit['active']} ({unit['sub']})" for unit in units if unit["active"] != "active"]
    return problems


def serving_releases(environment, records, container_state):
    """The release each service of one app environment's ledger serves, with what surrounds it; a service retired
    since its last release is not run here any more."""
    entries = []
    for service in services(records):
        attempts = [record for record in records if record.get("service") == service]
        if attempts[-1].get("outcome") == RETIRED:
            continue
        entry = {"environment": environment, "service": service, "last_attempt": attempts[-1].get("outcome")}
        current = serving(attempts, service)
        if current:
            previous = next(
                (r for r in reversed(attempts) if r.get("outcome") == SUCCEEDED and r["release"] != current["release"]),
                None,
            )
            entry.update(
                release=current["release"],
                image=current.get("image"),
                image_id=current.get("image_id"),
                since=current.get("finished"),
                migration_revision=current.get("migration_revision"),
                previous_release=previous and previous["release"],
                container=container_state(f"{environment}-{service}-{current['release']}"),
            )
        entries.append(entry)
    return entries


def app_problems(apps):
    problems = []
    for app in apps:
        where = f"{app['environment']} {app['service']}"
        if "release" not in app:
            problems.append(f"{where} has no succeeded release (last attempt: {app['last_attempt']})")
        elif app["container"] != "running":
            problems.append(f"{where}: the container of release {app['release']} is {app['container']}")
    return problems


def certificate_problems(certificates, threshold_days):
    problems = []
    for certificate in certificates:
        if "error" in certificate:
            problems.append(f"certificate {certificate['name']} cannot be read: {certificate['error']}")
        elif certificate["days_left"] < threshold_days:
            problems.append(
                f"certificate {certificate['name']} expires in {certificate['days_left']} days"
                f" ({certificate['not_after']})"
            )
    return problems


def backup_entries(record, now):
    entries = []
    for kind, keyed in sorted(record.items()):
        for key, entry in sorted(keyed.items()):
            described = {"kind": kind, "key": key, "id": entry.get("id"), "time": entry.get("time")}
            if kind == "drill":
                described["passed"] = entry.get("passed")
            if entry.get("time"):
                described["age_hours"] = _hours_between(_utc(entry["time"]), now)
            entries.append(described)
    return entries


def backup_problems(entries, threshold_hours):
    problems = []
    for entry in entries:
        name = "the restore drill" if entry["kind"] == "drill" else f"the last {entry['kind']} backup ({entry['key']})"
        if entry.get("passed") is False:
            problems.append(f"{name} failed at {entry['time']}")
        elif entry.get("age_hours", threshold_hours + 1) > threshold_hours:
            problems.append(f"{name} is {entry.get('age_hours', 'of unknown')} hours old ({entry['time']})")
    return problems


def archiving_problems(archiving):
    """A problem when the archiver's newest attempt failed: WAL piles up in pg_wal until it succeeds."""
    failed, archived = archiving["last_failed_time"], archiving["last_archived_time"]
    if archiving["archive_mode"] == "off" or not failed or (archived and _utc(archived) > _utc(failed)):
        return []
    return [
        f"PostgreSQL's WAL archiving fails: {archiving['last_failed_wal']} failed at {failed}"
        f" (last archived: {archiving['last_archived_wal'] or 'none'} at {archived or 'never'});"
        " WAL stays in pg_wal until it is archived"
    ]


def memory_of(meminfo):
    fields = {line.split(":")[0]: int(line.split()[1]) for line in meminfo.splitlines() if line.strip()}
    total, available = fields["MemTotal"], fields["MemAvailable"]
    return {
        "total_mb": total // 1024,
        "available_mb": available // 1024,
        "used_percent": round(100 * (total - available) / total, 1),
    }


class HostStatus:
    def __init__(self, module, now):
        self.module, self.params, self.now = module, module.params, now

    def run(self, *argv):
        try:
            rc, out, err = self.module.run_command(list(argv), handle_exceptions=False)
        except OSError as error:
            self.module.fail_json(msg=f"{argv[0]} cannot run here: {error}", cmd=list(argv))
        if rc != 0:
            self.module.fail_json(msg=f"{argv[0]} failed ({rc}): {err.strip() or out.strip()}", cmd=list(argv))
        return out

    def units(self):
        if not self.params["units"]:
            return []
        return parse_units(
            self.run(
                "systemctl", "list-units", "--all", "--plain", "--no-legend", "--full", "--", *self.params["units"]
            )
        )

    def failed_units(self):
        output = self.run("systemctl", "list-units", "--state=failed", "--plain", "--no-legend", "--full")
        return [line.split()[0] for line in output.splitlines() if line.strip()]

    def container_state(self, name):
        """Docker's word for the container's state (``running``, ``exited``...), or ``missing``."""
        try:
            rc, out, _err = self.module.run_command(
                ["docker", "inspect", "--format", "{{.State.Status}}", name], handle_exceptions=False
            )
        except OSError:
            return "missing (no docker here)"
        return out.strip() if rc == 0 else "missing"

    def apps(self):
        ledger_dir = self.params["ledger_dir"]
        if not ledger_dir or not os.path.isdir(ledger_dir):
            return []
        apps = []
        for environment in sorted(os.listdir(ledger_dir)):
            path = ledger_path(os.path.join(ledger_dir, environment))
            if os.path.exists(path):
                try:
                    records = ReleaseLedger(path).records()
                except LedgerCorrupt as error:
                    apps.append({"environment": environment, "service": None, "error": str(error)})
                    continue
                apps.extend(serving_releases(environment, records, self.container_state))
        return apps

    def certificates(self):
        found = []
        paths = sorted({path for pattern in self.params["certificates"] for path in glob.glob(pattern)})
        for path in paths:
            name = os.path.basename(os.path.dirname(path))
            try:
                rc, out, err = self.module.run_command(
                    ["openssl", "x509", "-noout", "-enddate", "-in", path], handle_exceptions=False
                )
            except OSError as error:
                rc, err = 1, f"openssl cannot run here: {error}"
            if rc != 0:
                found.append({"name": name, "error": err.strip() or f"openssl exited {rc}"})
                continue
            not_after = datetime.datetime.strptime(out.strip().split("=", 1)[1], CERTIFICATE_TIME).replace(
                tzinfo=datetime.UTC
            )
            found.append(
                {
                    "name": name,
                    "not_after": not_after.isoformat(),
                    "days_left": (not_after - self.now).days,
                }
            )
        return found

    def backups(self):
        try:
            with open(self.params["backup_record"], encoding="utf-8") as handle:
                return backup_entries(json.load(handle), self.now)
        except FileNotFoundError:
            return None

    def disk(self):
        usage = []
        for path in self.params["disk_paths"]:
            stats = os.statvfs(path)
            total, free = stats.f_blocks * stats.f_frsize, stats.f_bavail * stats.f_frsize
            used = total - stats.f_bfree * stats.f_frsize
            usage.append(
                {
                    "path": path,
                    "used_percent": round(100 * used / (used + free), 1) if used + free else 0.0,
                    "free_gb": round(free / 2**30, 1),
                }
            )
        return usage

    def psql(self, query):
        return self.run(
            "runuser",
            "-u",
            "postgres",
            "--",
            "psql",
            "--no-psqlrc",
            "--tuples-only",
            "--no-align",
            "--port",
            str(self.params["postgresql_port"]),
            "--command",
            query,
        )

    def pending_restart(self):
        return self.psql("SELECT name FROM pg_settings WHERE pending_restart ORDER BY name").split()

    def wal_archiving(self):
        return json.loads(self.psql(WAL_ARCHIVING_QUERY))

    def report(self):
        params = self.params
        units = self.units()
        watched = {unit["name"] for unit in units}
        failed = self.failed_units()
        apps = self.apps()
        certificates = self.certificates()
        with open("/proc/meminfo", encoding="utf-8") as handle:
            memory = memory_of(handle.read())
        disk = self.disk()
        result = {
            "units": units,
            "failed_units": failed,
            "apps": apps,
            "certificates": certificates,
            "disk": disk,
            "memory": memory,
            "backups": [],
        }
        problems = unit_problems(params["units"], units) + [f"{name} failed" for name in failed if name not in watched]
        problems += [f"{app['environment']}: {app['error']}" for app in apps if "error" in app]
        problems += app_problems([app for app in apps if "error" not in app])
        problems += certificate_problems(certificates, params["certificate_days"])
        backups = self.backups() if params["backup_record"] else None
        if backups is not None:
            result["backups"] = backups
            problems += backup_problems(backups, params["backup_hours"])
        elif params["backup_required"]:
            problems.append(f"no backup recorded yet ({params['backup_record']} is missing)")
        problems += [
            f"disk {usage['path']} is {usage['used_percent']}% used"
            for usage in disk
            if usage["used_percent"] > params["disk_percent"]
        ]
        if memory["used_percent"] > params["memory_percent"]:
            problems.append(f"memory is {memory['used_percent']}% used")
        if params["postgresql_port"]:
            pending = self.pending_restart()
            result["postgresql_pending_restart"] = pending
            if pending:
                problems.append(f"PostgreSQL waits for a restart to apply: {', '.join(pending)}")
            archiving = self.wal_archiving()
            result["postgresql_wal_archiving"] = archiving
            problems += archiving_problems(archiving)
        return dict(result, problems=problems)


def argument_spec():
    return {
        "units": {"type": "list", "elements": "str", "default": []},
        "ledger_dir": {"type": "path"},
        "certificates": {"type": "list", "elements": "str", "default": []},
        "backup_record": {"type": "path"},
        "backup_required": {"type": "bool", "default": False},
        "postgresql_port": {"type": "int"},
        "disk_paths": {"type": "list", "elements": "path", "default": ["/"]},
        "disk_percent": {"type": "int", "default": 90},
        "memory_percent": {"type": "int", "default": 95},
        "certificate_days": {"type": "int", "default": 14},
        "backup_hours": {"type": "int", "default": 26},
    }


def main():
    module = AnsibleModule(argument_spec=argument_spec(), supports_check_mode=True)
    now = datetime.datetime.now(datetime.UTC)
    module.exit_json(changed=False, **HostStatus(module, now).report())


if __name__ == "__main__":
    main()
