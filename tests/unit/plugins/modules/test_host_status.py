"""host_status against real files (ledgers, backup records, certificates made by openssl) and systemctl, docker
and psql scripted with what they print."""

import datetime
import json
import subprocess

import pytest

from ansible_collections.appstack.platform.plugins.modules import host_status
from ansible_collections.appstack.platform.tests.unit.plugins.modules.fake_module import Failed, FakeModule

NOW = datetime.datetime(2026, 12, 2, 12, 0, tzinfo=datetime.UTC)

# `systemctl list-units --all --plain --no-legend --full -- 'redis-server@*.service' nginx.service` on a stack host
# with the cache instance stopped.
UNITS = (
    "nginx.service loaded active running A high performance web server and a reverse proxy server\n"
    "redis-server@broker.service loaded active running Advanced key-value store (broker)\n"
    "redis-server@cache.service loaded inactive dead Advanced key-value store (cache)\n"
)


def release(service, release_id, outcome, finished, revision=None):
    return {
        "service": service,
        "release": release_id,
        "image": f"demo:{release_id}",
        "image_id": f"sha256:{release_id}",
        "outcome": outcome,
        "started": finished,
        "finished": finished,
        "migration_revision": revision,
    }


@pytest.fixture
def ledger_dir(tmp_path):
    directory = tmp_path / "ledgers"
    (directory / "demo-prod").mkdir(parents=True)
    records = [
        release("web", "r1", "succeeded", "2026-12-01T10:00:00Z", "0001"),
        release("worker", "r1", "succeeded", "2026-12-01T10:00:05Z", "0001"),
        release("web", "r2", "succeeded", "2026-12-02T09:00:00Z", "0002"),
        release("web", "r3", "failed", "2026-12-02T10:00:00Z", "0002"),
    ]
    (directory / "demo-prod" / "releases.json").write_text(json.dumps(records))
    # An environment whose only attempt failed, and a ledger that is not JSON.
    (directory / "shop-prod").mkdir()
    (directory / "shop-prod" / "releases.json").write_text(json.dumps([release("web", "s1", "failed", "x")]))
    (directory / "cms-prod").mkdir()
    (directory / "cms-prod" / "releases.json").write_text("{half")
    return directory


def certificate(path, days):
    path.parent.mkdir(parents=True)
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
         "-keyout", str(path.parent / "privkey.pem"), "-out", str(path), "-days", str(days), "-subj", "/CN=test"],
        check=True, capture_output=True,
    )  # fmt: skip


def status_module(**params):
    module = FakeModule(host_status.argument_spec(), params)
    module.answers["systemctl"] = [(0, UNITS, "")]
    return module


def report(module, now=None):
    return host_status.HostStatus(module, now or datetime.datetime.now(datetime.UTC)).report()


def test_units_read_and_a_stopped_or_missing_one_is_a_problem():
    module = status_module(units=["redis-server@*.service", "nginx.service", "pgbouncer.service"])
    module.answers["systemctl"] = [(0, UNITS, ""), (0, "", "")]
    result = report(module)
    assert [unit["name"] for unit in result["units"]] == [
        "nginx.service",
        "redis-server@broker.service",
        "redis-server@cache.service",
    ]
    assert result["problems"] == [
        "no unit pgbouncer.service on this host",
        "redis-server@cache.service is inactive (dead)",
    ]
    assert module.commands[0][:2] == ["systemctl", "list-units"]
    assert module.commands[0][-4:] == ["--", "redis-server@*.service", "nginx.service", "pgbouncer.service"]


def test_failed_units_are_problems_once():
    module = status_module(units=["redis-server@*.service"])
    module.answers["systemctl"] = [
        (0, UNITS, ""),
        (0, "redis-server@cache.service loaded failed failed Advanced key-value store (cache)\n"
            "apt-daily.service loaded failed failed Daily apt download activities\n", ""),
    ]  # fmt: skip
    result = report(module)
    assert result["failed_units"] == ["redis-server@cache.service", "apt-daily.service"]
    assert "apt-daily.service failed" in result["problems"]
    assert "redis-server@cache.service failed" not in result["problems"]


def test_serving_release_per_service_with_its_container(ledger_dir):
    module = status_module(ledger_dir=str(ledger_dir))
    module.answers["systemctl"] = [(0, "", "")]
    # `docker inspect --format {{.State.Status}}`: the web release runs, the worker's container is gone.
    module.answers["docker"] = [(0, "running\n", ""), (1, "", "Error: No such object: demo-prod-worker-r1\n")]
    result = report(module)
    by_service = {(app["environment"], app["service"]): app for app in result["apps"]}
    web = by_service[("demo-prod", "web")]
    assert web == {
        "environment": "demo-prod",
        "service": "web",
        "release": "r2",
        "image": "demo:r2",
        "image_id": "sha256:r2",
        "since": "2026-12-02T09:00:00Z",
        "migration_revision": "0002",
        "previous_release": "r1",
        "container": "running",
        "last_attempt": "failed",
    }
    assert by_service[("demo-prod", "worker")]["previous_release"] is None
    assert ["docker", "inspect", "--format", "{{.State.Status}}", "demo-prod-web-r2"] in module.commands
    assert result["problems"] == [
        "cms-prod: " + result["apps"][0]["error"],
        "demo-prod worker: the container of release r1 is missing",
        "shop-prod web has no succeeded release (last attempt: failed)",
    ]
    assert "is not JSON" in result["apps"][0]["error"]


def test_certificates_expiring_within_the_threshold(tmp_path):
    certificate(tmp_path / "certs" / "long" / "fullchain.pem", 90)
    certificate(tmp_path / "certs" / "short" / "fullchain.pem", 3)
    (tmp_path / "certs" / "broken").mkdir()
    (tmp_path / "certs" / "broken" / "fullchain.pem").write_text("not a certificate")
    module = status_module(certificates=[str(tmp_path / "certs" / "*" / "fullchain.pem")])
    module.answers["systemctl"] = [(0, "", "")]
    result = report(module)
    by_name = {found["name"]: found for found in result["certificates"]}
    assert by_name["long"]["days_left"] in (89, 90)
    assert by_name["short"]["days_left"] in (2, 3)
    assert "error" in by_name["broken"]
    assert result["problems"][0].startswith("certificate broken cannot be read: ")
    assert result["problems"][1].startswith("certificate short expires in ")


def test_backups_too_old_a_failed_drill_and_a_missing_record(tmp_path):
    record = tmp_path / "backups.json"
    record.write_text(
        json.dumps(
            {
                "postgresql": {"repo1": {"id": "20261202-110000F", "time": "2026-12-02T11:00:00+00:00"}},
                "files": {"local": {"id": "ab12", "time": "2026-11-29T12:00:00+00:00"}},
                "drill": {"last": {"time": "2026-12-02T11:30:00+00:00", "passed": False}},
            }
        )
    )
    module = status_module(backup_record=str(record), backup_required=True)
    module.answers["systemctl"] = [(0, "", "")]
    result = report(module, NOW)
    assert [(b["kind"], b["key"], b["age_hours"]) for b in result["backups"]] == [
        ("drill", "last", 0.5),
        ("files", "local", 72.0),
        ("postgresql", "repo1", 1.0),
    ]
    assert result["problems"] == [
        "the restore drill failed at 2026-12-02T11:30:00+00:00",
        "the last files backup (local) is 72.0 hours old (2026-11-29T12:00:00+00:00)",
    ]
    record.unlink()
    assert report(module, NOW)["problems"] == [f"no backup recorded yet ({record} is missing)"]
    module.params["backup_required"] = False
    assert report(module, NOW)["problems"] == []


def test_pending_restart_and_thresholds_of_disk_and_memory():
    module = status_module(postgresql_port=5433, disk_percent=0, memory_percent=0)
    module.answers["systemctl"] = [(0, "", "")]
    # psql --tuples-only --no-align: one setting a line.
    module.answers["runuser"] = [(0, "max_connections\nshared_buffers\n", ""), (0, ARCHIVING_OFF, "")]
    result = report(module)
    assert result["postgresql_pending_restart"] == ["max_connections", "shared_buffers"]
    assert "PostgreSQL waits for a restart to apply: max_connections, shared_buffers" in result["problems"]
    assert any(problem.startswith("disk / is ") for problem in result["problems"])
    assert any(problem.startswith("memory is ") for problem in result["problems"])
    assert module.commands[-1][8:10] == ["--port", "5433"]


# What PostgreSQL 17 answers host_status.WAL_ARCHIVING_QUERY (psql --tuples-only --no-align): archiving off, then
# on with archive_command failing, then succeeding again.
ARCHIVING_OFF = (
    '{"archive_mode":"off","last_archived_wal":null,"last_archived_time":null,"last_failed_wal":null,'
    '"last_failed_time":null}\n'
)
ARCHIVING_FAILS = (
    '{"archive_mode":"on","last_archived_wal":null,"last_archived_time":null,'
    '"last_failed_wal":"000000010000000000000001","last_failed_time":"2026-12-04T23:54:12.670163+00:00"}\n'
)
ARCHIVING_RECOVERED = (
    '{"archive_mode":"on","last_archived_wal":"000000010000000000000002",'
    '"last_archived_time":"2026-12-04T23:54:15.048287+00:00","last_failed_wal":"000000010000000000000001",'
    '"last_failed_time":"2026-12-04T23:54:12.670163+00:00"}\n'
)


@pytest.mark.parametrize(
    ("answer", "problems"),
    [
        (ARCHIVING_OFF, []),
        (
            ARCHIVING_FAILS,
            [
                "PostgreSQL's WAL archiving fails: 000000010000000000000001 failed at 2026-12-04T23:54:12.670163+00:00"
                " (last archived: none at never); WAL stays in pg_wal until it is archived"
            ],
        ),
        (ARCHIVING_RECOVERED, []),
    ],
)
def test_wal_archiving_is_a_problem_while_its_newest_attempt_failed(answer, problems):
    module = status_module(postgresql_port=5432)
    module.answers["systemctl"] = [(0, "", "")]
    module.answers["runuser"] = [(0, "", ""), (0, answer, "")]
    result = report(module)
    assert [p for p in result["problems"] if "WAL" in p] == problems
    assert result["postgresql_wal_archiving"]["archive_mode"] in ("on", "off")


def test_wal_archiving_failing_again_after_a_success_is_a_problem():
    archiving = json.loads(ARCHIVING_RECOVERED) | {"last_failed_time": "2026-12-04T23:59:00.5+00:00"}
    assert host_status.archiving_problems(archiving) == [
        "PostgreSQL's WAL archiving fails: 000000010000000000000001 failed at 2026-12-04T23:59:00.5+00:00"
        " (last archived: 000000010000000000000002 at 2026-12-04T23:54:15.048287+00:00);"
        " WAL stays in pg_wal until it is archived"
    ]


def test_memory_from_meminfo():
    meminfo = "MemTotal:       24576000 kB\nMemFree:         1000000 kB\nMemAvailable:   12288000 kB\n"
    assert host_status.memory_of(meminfo) == {"total_mb": 24000, "available_mb": 12000, "used_percent": 50.0}


def test_a_missing_program_fails_with_its_name():
    module = status_module(units=["nginx.service"])
    module.answers["systemctl"] = None
    with pytest.raises(Failed) as failed:
        report(module)
    assert failed.value.result["msg"].startswith("systemctl cannot run here: ")


def test_a_retired_service_is_left_out(ledger_dir):
    ledger = ledger_dir / "demo-prod" / "releases.json"
    retired = {"service": "worker", "release": "r1", "outcome": "retired", "finished": "2026-12-03T08:00:00Z"}
    ledger.write_text(json.dumps([*json.loads(ledger.read_text()), retired]))
    module = status_module(ledger_dir=str(ledger_dir))
    module.answers["systemctl"] = [(0, "", "")]
    module.answers["docker"] = [(0, "running\n", "")]
    result = report(module)
    assert [app["service"] for app in result["apps"] if app["environment"] == "demo-prod"] == ["web"]
    assert not [problem for problem in result["problems"] if "worker" in problem]


def test_a_service_retired_then_failing_to_come_back_serves_no_release(ledger_dir):
    ledger = ledger_dir / "demo-prod" / "releases.json"
    retired = {"service": "worker", "release": "r1", "outcome": "retired", "finished": "2026-12-03T08:00:00Z"}
    failed = {"service": "worker", "release": "r2", "outcome": "failed", "finished": "2026-12-03T09:00:00Z"}
    ledger.write_text(json.dumps([*json.loads(ledger.read_text()), retired, failed]))
    module = status_module(ledger_dir=str(ledger_dir))
    module.answers["systemctl"] = [(0, "", "")]
    module.answers["docker"] = [(0, "running\n", "")]
    result = report(module)
    assert "demo-prod worker has no succeeded release (last attempt: failed)" in result["problems"]
    assert ["docker", "inspect", "--format", "{{.State.Status}}", "demo-prod-worker-r1"] not in module.commands
