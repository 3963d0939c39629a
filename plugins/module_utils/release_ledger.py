# Copyright: (c) 2026, appstack.platform maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The release ledger: one JSON record per rollout attempt, written atomically, read by rollback and status.

An attempt is recorded ``in_progress`` before traffic moves and gets its outcome afterwards, so a run that dies in
between leaves a record the next run reconciles. Writers hold the service lock (``service_lock``).
"""

from __future__ import annotations

import json
import os
import tempfile
import time

SUCCEEDED = "succeeded"
IN_PROGRESS = "in_progress"
# The service no longer runs on the host (app_retire stopped and removed its containers).
RETIRED = "retired"
# Each service keeps its newest records (about as many rollouts), and older ones only where a rollout reads them
# (``trimmed``). A rollout reads the ledger four times and writes it twice: benchmarks/release_ledger.py measured about
# 1 s of it per service rollout on a ledger that kept 11 000 records (a year of ten deploys a day of three services,
# 9.3 MiB), 20 ms on the 300 records the same history keeps trimmed.
RECORDS_KEPT_PER_SERVICE = 100


# The options of a module that reads an app environment's ledger (documentation fragment release_ledger).
ARGUMENT_SPEC = {
    "app": {"type": "str", "required": True},
    "deployment": {"type": "str", "required": True, "aliases": ["env"]},
    "ledger_dir": {"type": "path", "default": "/var/lib/appstack"},
}


def now():
    """The ledger's time stamps: UTC, to the second."""
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())


def environment_dir(ledger_dir, app, deployment):
    """Where an app environment's ledger and its services' lock files are."""
    return os.path.join(ledger_dir, f"{app}-{deployment}")


def environment_of(params):
    """The ``environment_dir`` of a module with the options of ``ARGUMENT_SPEC``."""
    return environment_dir(params["ledger_dir"], params["app"], params["deployment"])


def ledger_path(environment):
    """The ledger file of an ``environment_dir``."""
    return os.path.join(environment, "releases.json")


def lock_path(environment, service):
    """The lock file of one service (``service_lock``), in its ``environment_dir``."""
    return os.path.join(environment, f"{service}.lock")


def pulled_images_dir(environment):
    """Where the app role records each registry image it pulled on the host for an ``environment_dir``'s deploys (a
    file named by the image ID's digits): a deploy that fails before its release starts on the host (a migration, a
    release command, an earlier host's health gate) leaves no ledger record of the image, and app_prune_images
    finds it here."""
    return os.path.join(environment, "pulled-images")


def services(records):
    """Every service the ledger's ``records`` name, in the order they first appear."""
    return list(dict.fromkeys(r["service"] for r in records if r.get("service")))


def serving(records, service):
    """The record of the release ``service`` serves: its newest succeeded one, or None when it never succeeded or
    was retired since (its containers are gone then, whatever failed after)."""
    settled = [r for r in records if r.get("service") == service and r.get("outcome") in (SUCCEEDED, RETIRED)]
    return settled[-1] if settled and settled[-1]["outcome"] == SUCCEEDED else None


def trimmed(records, kept=RECORDS_KEPT_PER_SERVICE):
    """``records`` less each service's records older than its newest ``kept``, except the ones rollouts read: its
    unfinished attempts, its newest settled record (``serving``), and for its two newest succeeded releases (the one
    serving and the one a rollback to ``previous`` goes back to) the newest record of each and of its deploy."""
    needed = set()
    for service in services(records):
        own = [index for index, record in enumerate(records) if record.get("service") == service]
        needed.update(own[-kept:])
        needed.update(index for index in own if records[index].get("outcome") == IN_PROGRESS)
        needed.update([index for index in own if records[index].get("outcome") in (SUCCEEDED, RETIRED)][-1:])
        succeeded = [index for index in reversed(own) if records[index].get("outcome") == SUCCEEDED]
        for release in list(dict.fromkeys(records[index]["release"] for index in succeeded))[:2]:
            of_release = [index for index in succeeded if records[index]["release"] == release]
            needed.add(of_release[0])
            needed.update([index for index in of_release if not records[index].get("rollback_to")][:1])
    return [record for index, record in enumerate(records) if index in needed or not record.get("service")]


class LedgerCorrupt(Exception):
    pass


class ReleaseLedger:
    def __init__(self, path):
        self.path = path

    @classmethod
    def of(cls, environment):
        """The ledger of an ``environment_dir``."""
        return cls(ledger_path(environment))

    def records(self):
        try:
            with open(self.path, encoding="utf-8") as handle:
                records = json.load(handle)
        except FileNotFoundError:
            return []
        except (ValueError, UnicodeDecodeError) as error:
            raise LedgerCorrupt(f"{self.path} is not JSON ({error})") from None
        if not isinstance(records, list) or not all(isinstance(r, dict) and "release" in r for r in records):
            raise LedgerCorrupt(f"{self.path} is not a list of release records")
        return records

    def move_aside(self):
        """Rename a corrupt ledger out of the way; returns its new path."""
        aside = f"{self.path}.corrupt-{time.strftime('%Y%m%dT%H%M%SZ', time.gmtime())}"
        os.replace(self.path, aside)
        _fsync_directory(os.path.dirname(self.path))
        return aside

    def append(self, record):
        self._write([*self.records(), record])
        return record

    def update(self, attempt, **fields):
        """Give the record of ``attempt`` (its ``attempt`` field) these fields, e.g. its outcome."""
        records = self.records()
        for record in records:
            if record.get("attempt") == attempt:
                record.update(fields)
        self._write(records)

    def unfinished(self, service):
        return [r for r in self.records() if r.get("service") == service and r.get("outcome") == IN_PROGRESS]

    def _write(self, records):
        records = trimmed(records)
        directory = os.path.dirname(self.path)
        os.makedirs(directory, mode=0o750, exist_ok=True)
        handle, temporary = tempfile.mkstemp(dir=directory, prefix=".releases.")
        try:
            with os.fdopen(handle, "w", encoding="utf-8") as output:
                json.dump(records, output, indent=1, sort_keys=True)
                output.flush()
                os.fsync(output.fileno())
            os.chmod(temporary, 0o640)
            os.replace(temporary, self.path)
        except BaseException:
            os.unlink(temporary)
            raise
        _fsync_directory(directory)

    def succeeded(self, service):
        """Succeeded releases of ``service``, newest first."""
        return [
            record
            for record in reversed(self.records())
            if record.get("service") == service and record.get("outcome") == SUCCEEDED
        ]

    def previous_good(self, service, current_release):
        """The newest succeeded release of ``service`` other than ``current_release``, or None."""
        return next((r for r in self.succeeded(service) if r["release"] != current_release), None)

    def find(self, service, release, deployed=False):
        """The newest succeeded record of ``release`` for ``service`` (with ``deployed``, of a deploy, not a
        rollback), or None."""
        return next(
            (r for r in self.succeeded(service) if r["release"] == release and not (deployed and r.get("rollback_to"))),
            None,
        )


def _fsync_directory(directory):
    descriptor = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(descriptor)
    finally:
        os.close(descriptor)
