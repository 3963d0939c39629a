"""What the release ledger costs a rollout as it grows, with and without trimming, in one run.

A rollout of one service reads the ledger four times and writes it twice (``tests/unit``'s fake engine counts it:
append the attempt in progress, update its outcome). This replays that work with ``release_ledger.ReleaseLedger`` on
ledgers of records like molecule/app's (about 870 bytes each; one per rollout of a service) and prints, side by side,
a ledger that kept every record (before trimming) and the same history as the writes now keep it (its newest records
per service). Runs on the controller; needs nothing but Python. Not a test: it asserts nothing.
    python3 benchmarks/release_ledger.py [RECORDS ...]     (default 100 1000 11000)
"""

import importlib.util
import json
import pathlib
import sys
import tempfile
import time

ROOT = pathlib.Path(__file__).resolve().parent.parent
SPEC = importlib.util.spec_from_file_location("release_ledger", ROOT / "plugins/module_utils/release_ledger.py")
release_ledger = importlib.util.module_from_spec(SPEC)
SPEC.loader.exec_module(release_ledger)

SERVICES = ("web", "worker", "beat")
ROUNDS = 9


def record(number, service):
    release = f"{number:012x}"
    return {
        "attempt": f"2026-12-04T23:59:27Z-101514-{release}",
        "config_hash": "8bfa6b406e748a4da98f23c5354efad524dacbb8afb862eca238cc0844c4250a",
        "env_file": "/etc/appstack/demo-prod/releases/418c63f89cee/app.env",
        "env_secrets_dir": None,
        "finished": "2026-12-04T23:59:40Z",
        "image": "registry.example.com/demo@sha256:" + "9c1d" * 16,
        "image_id": "sha256:" + "56b2" * 16,
        "migration_revision": "0003",
        "outcome": "succeeded",
        "phases": {"gate": 1.6, "prune": 0.3, "smoke": 0.1, "start": 0.4, "switch": 0.2, "verify": 9.7},
        "previous_release": f"{number - 1:012x}",
        "release": release,
        "rollback_to": None,
        "secrets_dir": "/etc/appstack/demo-prod/releases/418c63f89cee/secrets",
        "service": service,
        "started": "2026-12-04T23:59:27Z",
    }


def rollout(ledger, number):
    """One service's rollout: the reads and writes app_rollout makes of its ledger."""
    ledger.records()
    ledger.records()
    attempt = dict(record(number, "web"), outcome=release_ledger.IN_PROGRESS)
    ledger.append(attempt)
    ledger.update(attempt["attempt"], outcome=release_ledger.SUCCEEDED)


def milliseconds_per_rollout(path, records, trimming):
    """The median time of a rollout's ledger work on ``records``, and the file's size in KiB."""
    trim = release_ledger.trimmed
    if trimming:
        records = trim(records)
    else:
        release_ledger.trimmed = lambda records: records
    try:
        timings = []
        for round_number in range(ROUNDS):
            path.write_text(json.dumps(records, indent=1, sort_keys=True))
            ledger = release_ledger.ReleaseLedger(str(path))
            started = time.perf_counter()
            rollout(ledger, len(records) + round_number)
            timings.append(time.perf_counter() - started)
        return 1000 * sorted(timings)[ROUNDS // 2], path.stat().st_size / 1024
    finally:
        release_ledger.trimmed = trim


def main(sizes):
    print(f"{'history':>8} {'every record kept':>28} {'trimmed':>28}")
    with tempfile.TemporaryDirectory() as directory:
        path = pathlib.Path(directory) / "releases.json"
        for size in sizes:
            records = [record(number, SERVICES[number % len(SERVICES)]) for number in range(size)]
            grown_ms, grown_kib = milliseconds_per_rollout(path, records, trimming=False)
            trimmed_ms, trimmed_kib = milliseconds_per_rollout(path, records, trimming=True)
            kept = len(release_ledger.trimmed(records))
            print(
                f"{size:>8} {size:>7} records {grown_kib:>6.0f} KiB {grown_ms:>5.0f} ms"
                f" {kept:>7} records {trimmed_kib:>6.0f} KiB {trimmed_ms:>5.0f} ms"
            )
    print(
        f"(the ledger work of one service's rollout, median of {ROUNDS}; {len(SERVICES)} services;"
        f" each write keeps {release_ledger.RECORDS_KEPT_PER_SERVICE} records per service)"
    )


if __name__ == "__main__":
    main([int(argument) for argument in sys.argv[1:]] or [100, 1000, 11000])
