import json
import os
import pathlib

import pytest

from ansible_collections.appstack.platform.plugins.module_utils.release_ledger import (
    RECORDS_KEPT_PER_SERVICE,
    LedgerCorrupt,
    ReleaseLedger,
    serving,
    trimmed,
)


def record(release, outcome="succeeded", service="web"):
    return {"service": service, "release": release, "outcome": outcome}


def test_a_missing_ledger_is_empty(tmp_path):
    assert ReleaseLedger(str(tmp_path / "app" / "releases.json")).records() == []


def test_append_creates_the_directory_and_keeps_every_attempt(tmp_path):
    ledger = ReleaseLedger(str(tmp_path / "app" / "releases.json"))
    ledger.append(record("a"))
    ledger.append(record("b", "failed"))
    assert [r["release"] for r in json.loads((tmp_path / "app" / "releases.json").read_text())] == ["a", "b"]
    assert oct(os.stat(tmp_path / "app" / "releases.json").st_mode & 0o777) == "0o640"
    assert [p.name for p in (tmp_path / "app").iterdir()] == ["releases.json"]


def test_previous_good_skips_failures_other_services_and_the_current_release(tmp_path):
    ledger = ReleaseLedger(str(tmp_path / "releases.json"))
    for entry in [record("v1"), record("v2"), record("w1", service="worker"), record("v3", "failed"), record("v2")]:
        ledger.append(entry)
    assert ledger.previous_good("web", current_release="v2")["release"] == "v1"
    assert ledger.previous_good("web", current_release="v1")["release"] == "v2"
    assert ledger.previous_good("worker", current_release="w1") is None


def test_find_returns_only_succeeded_records(tmp_path):
    ledger = ReleaseLedger(str(tmp_path / "releases.json"))
    ledger.append(record("v3", "failed"))
    assert ledger.find("web", "v3") is None
    ledger.append(record("v3"))
    assert ledger.find("web", "v3")["outcome"] == "succeeded"


@pytest.mark.parametrize(
    "content", ['[{"release": "a", "outc', '{"release": "a"}', '[{"outcome": "succeeded"}]', "\xff"]
)
def test_a_corrupt_ledger_is_refused_and_can_be_moved_aside(tmp_path, content):
    path = tmp_path / "releases.json"
    path.write_bytes(content.encode("latin-1"))
    ledger = ReleaseLedger(str(path))
    with pytest.raises(LedgerCorrupt, match=str(path)):
        ledger.records()
    aside = ledger.move_aside()
    assert not path.exists() and pathlib.Path(aside).read_bytes() == content.encode("latin-1")
    assert ledger.records() == []


def test_an_attempt_in_progress_gets_its_outcome_in_place(tmp_path):
    ledger = ReleaseLedger(str(tmp_path / "releases.json"))
    ledger.append(record("a"))
    ledger.append(dict(record("b", "in_progress"), attempt="t-1-b"))
    assert [r["release"] for r in ledger.unfinished("web")] == ["b"]
    ledger.update("t-1-b", outcome="succeeded", finished="now")
    assert ledger.unfinished("web") == []
    assert ledger.records()[1] == {**record("b"), "attempt": "t-1-b", "finished": "now"}
    assert [r["release"] for r in ledger.succeeded("web")] == ["b", "a"]


def test_the_serving_release_is_the_newest_succeeded_unless_retired_since():
    assert serving([], "web") is None
    assert serving([record("a"), record("b", "failed"), record("w", service="worker")], "web")["release"] == "a"
    assert serving([record("a"), record("a", "retired"), record("b", "failed")], "web") is None
    assert serving([record("a"), record("a", "retired"), record("c")], "web")["release"] == "c"
    assert serving([record("a"), record("a", "retired")], "worker") is None


def test_each_service_keeps_its_newest_records_when_the_ledger_is_written(tmp_path):
    ledger = ReleaseLedger(str(tmp_path / "releases.json"))
    ledger.append(record("w1", service="worker"))
    for number in range(RECORDS_KEPT_PER_SERVICE + 20):
        ledger.append(record(f"v{number}"))
    releases = [r["release"] for r in ledger.records()]
    assert releases == ["w1"] + [f"v{number}" for number in range(20, RECORDS_KEPT_PER_SERVICE + 20)]


def test_a_trimmed_ledger_keeps_what_rollouts_read_however_old():
    records = [
        dict(record("v1"), migration_revision="0001"),
        record("v2"),
        dict(record("v1"), rollback_to="v1"),
        record("v3", "in_progress"),
        record("v4", "failed"),
        record("v5", "failed"),
        record("v6", "failed"),
    ]
    kept = trimmed(records, kept=2)
    # The serving release (v1, by a rollback) with its deploy record, the one before it, the unfinished attempt,
    # and the newest two.
    assert kept == [records[0], records[1], records[2], records[3], records[5], records[6]]
    assert serving(kept, "web") == records[2]
    assert trimmed(kept, kept=2) == kept


def test_a_retired_service_keeps_its_retirement():
    records = [record("v1"), record(None, "retired"), record("v2", "failed"), record("v3", "failed")]
    kept = trimmed(records, kept=1)
    assert serving(kept, "web") is None
    assert kept == [records[0], records[1], records[3]]
