"""The backup role's host program: its decisions before anything changes, against pgBackRest's real JSON shape.

What it does to real PostgreSQL, pgBackRest, restic and Redis is proven in molecule/stack (verify-backups.yml).
"""

import datetime
import json
import types

import pytest

from ansible_collections.appstack.platform.tests.unit.roles import role_program

program = role_program.load("roles/backup/files/appstack-backup", "appstack_backup")

# The shape `pgbackrest info --output=json` prints (2.55), trimmed to what the program reads.
FULL_STOP = int(datetime.datetime(2026, 12, 1, 2, 0, 30, tzinfo=datetime.UTC).timestamp())


def backup(label, stop, repo=1, kind="full"):
    return {
        "label": label,
        "type": kind,
        "database": {"id": 1, "repo-key": repo},
        "timestamp": {"start": stop - 30, "stop": stop},
        "info": {"size": 23734685, "repository": {"delta": 2818912, "size": 2818912}},
    }


INFO = {
    "name": "main",
    "repo": [{"key": 1, "cipher": "aes-256-cbc", "status": {"code": 0, "message": "ok"}}],
    "backup": [
        backup("20261201-020000F", FULL_STOP),
        backup("20261201-020000F_20261201-120000I", FULL_STOP + 36000, kind="incr"),
        backup("20261201-020500F", FULL_STOP + 300, repo=2),
    ],
}


def test_backups_of_one_repository_or_all():
    assert [b["label"] for b in program.backups_of(INFO, 2)] == ["20261201-020500F"]
    assert len(program.backups_of(INFO)) == 3


@pytest.mark.parametrize(
    ("value", "problem"),
    [
        ("yesterday", "is not an ISO 8601 time"),
        ("2026-12-01T10:00:00", "has no UTC offset"),
        ("2026-12-01T01:59:00+00:00", r"before the end of the oldest backup \(20261201-020000F"),
        ("2999-01-01T00:00:00+00:00", "is in the future"),
    ],
)
def test_a_target_time_no_backup_can_reach_is_refused(value, problem):
    with pytest.raises(program.Failure, match=problem):
        program.target_time(value, INFO)


def test_a_target_time_after_the_oldest_backup_is_given_to_postgresql_as_it_reads_it():
    assert program.target_time("2026-12-01T11:00:00+01:00", INFO) == "2026-12-01 11:00:00+01:00"


def restore_args(**target):
    return types.SimpleNamespace(**{"latest": False, "set": None, "time": None, "repository": None, **target})


def test_a_named_backup_restores_to_its_end_and_an_unknown_one_lists_the_known():
    options, described = program.restore_target(INFO, None, restore_args(set="20261201-020000F"))
    assert options == ["--set=20261201-020000F", "--type=immediate", "--target-action=promote"]
    assert described == "backup 20261201-020000F"
    with pytest.raises(program.Failure, match=r"no backup 20200101-000000F .*there are: 20261201-020000F, "):
        program.restore_target(INFO, None, restore_args(set="20200101-000000F"))


def test_a_time_target_is_a_point_in_time_recovery_and_latest_replays_the_whole_archive():
    options, _described = program.restore_target(INFO, 2, restore_args(time="2026-12-01T03:00:00+00:00"))
    assert options == ["--repo=2", "--type=time", "--target=2026-12-01 03:00:00+00:00", "--target-action=promote"]
    assert program.restore_target(INFO, None, restore_args(latest=True)) == ([], "the newest archived state")


def test_a_repository_is_named_and_an_unknown_name_lists_the_known():
    pg = {"repos": {"local": 1, "sftp": 2}}
    assert program.pgbackrest_repo_named(pg, "sftp") == 2 and program.pgbackrest_repo_named(pg, None) is None
    with pytest.raises(program.Failure, match=r"no pgBackRest repository 's3' \(there are: local, sftp\)"):
        program.pgbackrest_repo_named(pg, "s3")


def test_the_repositories_of_another_cluster_are_named(monkeypatch):
    # A new host: its own cluster is 7001; S3 and SFTP hold the old host's (6001, upgraded once: two db entries).
    monkeypatch.setattr(program, "sql", lambda pg, query: "7001")
    pg = {"repos": {"local": 1, "s3": 2, "sftp": 3}}
    info = {
        "db": [
            {"id": 2, "repo-key": 3, "system-id": 6001},
            {"id": 1, "repo-key": 3, "system-id": 5001},
            {"id": 1, "repo-key": 2, "system-id": 6001},
        ]
    }
    assert program.foreign_repositories(pg, info) == ["s3", "sftp"]
    assert program.foreign_repositories(pg, {"db": [{"id": 1, "repo-key": 1, "system-id": 7001}]}) == []


def test_setup_on_a_new_host_names_the_repository_of_the_lost_cluster_and_changes_nothing(monkeypatch):
    monkeypatch.setattr(program, "sql", lambda pg, query: "7001")
    monkeypatch.setattr(
        program, "pgbackrest_info", lambda pg, **kwargs: {"db": [{"id": 1, "repo-key": 2, "system-id": 6001}]}
    )
    monkeypatch.setattr(program, "run", pytest.fail)
    expected = (
        r"the sftp repository holds the backups of another cluster than this host's: .* "
        r"-e backup_restore_repository=sftp\), then run this again"
    )
    with pytest.raises(program.Failure, match=expected):
        program.setup({"postgresql": {"repos": {"local": 1, "sftp": 2}}}, None)


def test_a_restore_without_confirmation_changes_nothing(monkeypatch):
    monkeypatch.setattr(program, "run", pytest.fail)
    with pytest.raises(program.Failure, match="pass --confirm"):
        program.restore_postgresql({"postgresql": {}}, restore_args(latest=True, confirm=False))


def test_an_unreadable_repository_is_named_with_the_first_line_of_its_error(monkeypatch):
    # A wrong passphrase: pgBackRest decrypts garbage into its message (and its JSON).
    garbled = {
        "repo": [
            {"key": 1, "status": {"code": 99, "message": "[FormatError] unable to load info file\n$\x0c\x8e"}},
            {"key": 2, "status": {"code": 0, "message": "ok"}},
        ]
    }
    output = json.dumps([garbled]).replace("\\f", "\f")
    monkeypatch.setattr(program, "pgbackrest", lambda *a, **k: types.SimpleNamespace(stdout=output, returncode=0))
    with pytest.raises(program.Failure) as failure:
        program.pgbackrest_info({"stanza": "main"})
    assert "\x8e" not in str(failure.value)
    assert str(failure.value).endswith(
        "wrong passphrase); nothing was changed: repo1: [FormatError] unable to load info file"
    )


def test_a_repository_without_the_stanza_yet_passes_the_check_of_a_candidate_configuration(monkeypatch):
    new = {
        "repo": [
            {"key": 1, "status": {"code": 1, "message": "missing stanza path"}},
            {"key": 2, "status": {"code": 2, "message": "no valid backups"}},
        ]
    }
    monkeypatch.setattr(
        program, "pgbackrest", lambda *a, **k: types.SimpleNamespace(stdout=json.dumps([new]), returncode=0)
    )
    args = types.SimpleNamespace(pgbackrest_config="/tmp/c/pgbackrest.conf", pgbackrest_include="/tmp/c/conf.d")
    assert program.check_config({"postgresql": {"stanza": "main"}}, args) is None
    with pytest.raises(program.Failure, match="missing stanza path"):
        program.pgbackrest_info({"stanza": "main"})


def test_the_record_keeps_the_last_good_backup_of_each_kind(tmp_path):
    config = {"record_file": str(tmp_path / "backups.json")}
    program.update_record(config, "postgresql", "repo1", {"id": "a"})
    program.update_record(config, "files", "local", {"id": "b"})
    program.update_record(config, "postgresql", "repo1", {"id": "c"})
    assert json.loads((tmp_path / "backups.json").read_text()) == {
        "postgresql": {"repo1": {"id": "c"}},
        "files": {"local": {"id": "b"}},
    }


def test_the_record_is_written_as_metrics_where_the_textfile_collector_reads(tmp_path):
    record = {
        "postgresql": {"repo1": {"id": "a", "time": "2026-12-02T10:00:00+00:00"}},
        "files": {"local": {"id": "b", "time": "2026-12-02T11:00:00+00:00"}},
        "drill": {"last": {"time": "2026-12-02T12:00:00+00:00", "passed": False}},
    }
    program.write_metrics(record, str(tmp_path / "absent"))
    assert not (tmp_path / "absent").exists()
    program.write_metrics(record, str(tmp_path))
    lines = (tmp_path / "appstack-backups.prom").read_text().splitlines()
    assert 'appstack_backup_last_success_timestamp_seconds{kind="files",key="local"} 1796209200' in lines
    assert 'appstack_backup_last_success_timestamp_seconds{kind="postgresql",key="repo1"} 1796205600' in lines
    assert "appstack_backup_drill_timestamp_seconds 1796212800" in lines
    assert "appstack_backup_drill_passed 0" in lines
    assert [path.name for path in tmp_path.iterdir()] == ["appstack-backups.prom"]


def test_a_redis_instance_is_read_from_its_own_configuration(tmp_path, monkeypatch):
    conf = tmp_path / "redis-broker.conf"
    conf.write_text('port 6380\ndir /var/lib/redis/broker\nappendonly yes\nappenddirname "aof"\n')
    real_open = open
    monkeypatch.setattr(
        "builtins.open", lambda path, *a, **k: real_open(conf if "redis-" in str(path) else path, *a, **k)
    )
    assert program.redis_instance("broker") == {
        "port": "6380",
        "dir": "/var/lib/redis/broker",
        "appendonly": "yes",
        "appenddirname": "aof",
    }


def test_a_host_that_backs_up_only_database_dumps_runs_no_files_backup(monkeypatch):
    # restic is configured for the dumps; nothing else is backed up.
    config = {
        "postgresql": None,
        "database_dumps": True,
        "files": False,
        "restic": {"repositories": [{"name": "local"}]},
    }
    monkeypatch.setattr(program, "restic_backup", pytest.fail)
    assert program.backup_all(config, types.SimpleNamespace(type="full")) is None
    with pytest.raises(program.Failure, match="this host backs up no files"):
        program.backup_files(config, types.SimpleNamespace())


def test_a_restic_repository_gets_its_options_and_no_secret_on_the_command_line(monkeypatch):
    calls = []
    monkeypatch.setattr(program, "run", lambda argv, **options: calls.append((argv, options["env"])))
    sftp = {"name": "sftp", "url": "sftp://u@h:23//b/restic", "options": ["sftp.args=-i /k -o BatchMode=yes"]}
    program.restic({"restic": {"password_file": "/p"}}, sftp, "snapshots")
    assert calls == [
        (
            ["restic", "--no-cache", "-o", "sftp.args=-i /k -o BatchMode=yes", "snapshots"],
            {"RESTIC_PASSWORD_FILE": "/p", "RESTIC_REPOSITORY": "sftp://u@h:23//b/restic"},
        )
    ]


def test_a_lock_another_pgbackrest_process_holds_is_waited_for_then_named(monkeypatch):
    answers = [(50, "ERROR: [050]: unable to acquire lock"), (50, "ERROR: [050]: unable to acquire lock"), (0, "")]
    calls = []

    def pgbackrest_answers(argv, **options):
        calls.append(argv)
        code, stderr = answers.pop(0) if answers else (50, "ERROR: [050]: unable to acquire lock")
        return types.SimpleNamespace(returncode=code, stdout="", stderr=stderr)

    monkeypatch.setattr(program, "run", pgbackrest_answers)
    monkeypatch.setattr(program.time, "sleep", lambda seconds: None)
    assert program.pgbackrest({"stanza": "main"}, "stanza-create").returncode == 0
    assert len(calls) == 3
    clock = iter(range(0, 1000, 30))
    monkeypatch.setattr(program.time, "monotonic", lambda: next(clock))
    with pytest.raises(program.Failure, match=r"exited with 50:\nERROR: \[050\]: unable to acquire lock"):
        program.pgbackrest({"stanza": "main"}, "stanza-create")
    # Tried at once and 30 s later; at 60 s the wait is over.
    assert len(calls) == 3 + 2
