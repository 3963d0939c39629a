"""db_migrate's flow against a fake Docker engine that plays an Alembic project, and a fake lock connection."""

import threading

import pytest

from ansible_collections.appstack.platform.plugins.module_utils import advisory_lock, schema_fingerprint
from ansible_collections.appstack.platform.plugins.modules import db_migrate
from ansible_collections.appstack.platform.tests.unit.plugins.modules.fake_docker import FakeEngine
from ansible_collections.appstack.platform.tests.unit.plugins.modules.fake_module import FakeModule

HISTORY = "0002 -> 0003 (head), create tags\n0001 -> 0002, add title\n<base> -> 0001, create notes\n"


class FakeAlembicEngine(FakeEngine):
    """One-off containers of demo:v2 answer as `alembic current|history|upgrade heads` would."""

    def __init__(self, revision=None, fail_upgrade=False, hang=False, hang_state=False):
        super().__init__({"demo:v2": "sha256:222"}, one_off=self.alembic)
        self.revision = revision  # a revision HISTORY lacks: the database is ahead of the release
        self.fail_upgrade = fail_upgrade
        self.hang = hang
        self.hang_state = hang_state

    def alembic(self, command):
        verb = command[-1] if command[-1] != "heads" else "upgrade"
        if verb == "current":
            return self.current()
        if verb == "history":
            return 0, HISTORY, ""
        if self.hang:
            return None, "", "INFO  Running upgrade 0002 -> 0003\n"
        if self.fail_upgrade:
            return 1, "", "INFO  Running upgrade -> 0001\nsqlalchemy.exc.ProgrammingError: boom\n"
        self.revision = "0003"
        return 0, "", "INFO  Running upgrade -> 0001\nINFO  Running upgrade 0002 -> 0003\n"

    def current(self):
        if self.hang_state:
            return None, "", ""
        if self.revision and f"-> {self.revision}" not in HISTORY:
            # What Alembic 1.13 prints, on stderr with exit status 255, for a revision its scripts lack.
            unlocatable = f"Can't locate revision identified by '{self.revision}'"
            return 255, "", f"ERROR [alembic.util.messaging] {unlocatable}\n  FAILED: {unlocatable}\n"
        return 0, f"{self.revision}\n" if self.revision else "", ""


def migration_module(check_mode=False, **params):
    module = FakeModule(
        db_migrate.argument_spec(),
        {
            "app": "demo",
            "deployment": "prod",
            "tool": "alembic",
            "image": "demo:v2",
            "database_url": "postgresql:///demo",
            **params,
        },
        check_mode,
    )
    # pg_dump is recorded, not run (no server); other backup programs (echo, false) run.
    module.answers["pg_dump"] = [(0, "", "")]
    return module


class LockConnection:
    """Grants the advisory lock, answers the schema fingerprint query from ``schemas`` (in order, the last one
    repeats), and remembers the calls."""

    def __init__(self, free=True, schemas=("fingerprint-1",), extensions=()):
        self.free = free
        self.schemas = list(schemas)
        self.extensions = list(extensions)
        self.calls = []

    def cursor(self):
        return self

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False

    def execute(self, sql, parameters=None):
        if sql == schema_fingerprint.FINGERPRINT_QUERY:
            self.result = [(self.schemas.pop(0) if len(self.schemas) > 1 else self.schemas[0],)]
            return
        if sql == db_migrate.EXTENSIONS_QUERY:
            self.result = [row for row in self.extensions if row[0] in parameters[0]]
            return
        self.calls.append(sql.split("(")[0].strip())
        self.result = [(self.free,)] if "pg_try" in sql else []

    def fetchall(self):
        return self.result


def migration(engine, **params):
    return db_migrate.Migration(migration_module(**params), engine)


def test_fresh_database_gets_every_revision_after_a_backup():
    engine = FakeAlembicEngine()
    connection = LockConnection()
    result = migration(engine, backup_command=["echo", "backup-42"]).run(connection)
    assert result["changed"] is True
    assert (result["revision_before"], result["revision_after"]) == (None, "0003")
    assert result["pending"] == result["applied"] == ["0001", "0002", "0003"]
    assert result["backup_id"] == "backup-42"
    assert "INFO  Running upgrade 0002 -> 0003" in result["output"]
    assert connection.calls == ["SELECT pg_try_advisory_lock", "SELECT pg_advisory_unlock"]
    commands = [run[1][-1] for run in engine.runs]
    assert commands == ["current", "history", "heads", "current", "history"]
    assert all(run[0] == "demo:v2" for run in engine.runs)


def test_a_backup_command_finds_the_database_in_its_environment_and_no_password_on_its_command_line():
    module = migration_module(
        backup_command=["echo", "backup-5"],
        database_url="postgresql://shop:s3cret@db.provider.test:5432/shop?sslmode=verify-full",
    )
    db_migrate.Migration(module, FakeAlembicEngine()).run(LockConnection())

    environment = module.command_options[module.commands.index(["echo", "backup-5"])]["environ_update"]
    assert environment["PGPASSWORD"] == "s3cret"
    assert "s3cret" not in environment["APPSTACK_DATABASE"]
    assert "host=db.provider.test" in environment["APPSTACK_DATABASE"]
    assert "sslmode=verify-full" in environment["APPSTACK_DATABASE"]


def test_up_to_date_database_is_unchanged_and_not_backed_up():
    engine = FakeAlembicEngine(revision="0003")
    result = migration(engine, backup_command=["false"]).run(LockConnection())
    assert result["changed"] is False
    assert result["applied"] == [] and result["backup_id"] is None


def test_failed_migration_carries_output_backup_and_what_the_database_looks_like():
    engine = FakeAlembicEngine(revision="0001", fail_upgrade=True)
    connection = LockConnection()
    with pytest.raises(db_migrate.MigrationFailed) as raised:
        migration(engine, backup_command=["echo", "backup-7"]).run(connection)
    message = str(raised.value)
    assert "exited with 1" in message and "nothing was switched" in message
    assert "still at revision 0001" in message and "Backup taken before: backup-7" in message
    assert raised.value.details["backup_id"] == "backup-7"
    assert raised.value.details["output"][-1] == "sqlalchemy.exc.ProgrammingError: boom"
    assert connection.calls[-1] == "SELECT pg_advisory_unlock"


def test_failed_backup_applies_nothing():
    engine = FakeAlembicEngine()
    with pytest.raises(db_migrate.MigrationFailed, match="backup before migrating failed"):
        migration(engine, backup_command=["false"]).run(LockConnection())
    assert [run[1][-1] for run in engine.runs] == ["current", "history"]


def test_a_hanging_migration_is_stopped_and_reported():
    engine = FakeAlembicEngine(revision="0002", hang=True)
    with pytest.raises(db_migrate.MigrationFailed, match="did not finish within 5 s") as raised:
        migration(engine, backup=False, timeout=5).run(LockConnection())
    assert raised.value.details["output"] == ["INFO  Running upgrade 0002 -> 0003"]


def test_lock_timeout_names_the_holder(monkeypatch):
    monkeypatch.setattr(advisory_lock.time, "sleep", lambda seconds: None)
    engine = FakeAlembicEngine()
    with pytest.raises(db_migrate.MigrationFailed, match="another migration holds the lock") as raised:
        migration(engine, lock_timeout=0).run(LockConnection(free=False))
    assert engine.runs == []
    assert "lock_holder" in raised.value.details


def test_check_mode_plan_lists_pending_and_runs_only_state_commands():
    engine = FakeAlembicEngine(revision="0002")
    result = migration(engine).plan()
    assert result["changed"] is True and result["pending"] == ["0003"] and result["applied"] == []
    assert [run[1][-1] for run in engine.runs] == ["current", "history"]


def test_a_database_ahead_of_the_release_is_left_alone_with_a_warning():
    engine = FakeAlembicEngine(revision="0009")
    subject = migration(engine)
    assert subject.plan()["changed"] is False
    assert "0009" in subject.module.warnings[0]


def test_pg_dump_backup_file_is_private_and_named_after_the_revision(tmp_path):
    subject = migration(
        FakeAlembicEngine(), backup_dir=str(tmp_path / "dumps"), database_url="postgresql://demo:s3cret@db:5432/demo"
    )
    backup = subject.backup(db_migrate.migration_state.State("0002", ["0003"]))
    assert backup["backup_id"].startswith("demo-prod-") and backup["backup_id"].endswith("-at-0002.dump")
    argv, options = subject.module.commands[0], subject.module.command_options[0]
    assert options == {"environ_update": {"PGPASSWORD": "s3cret"}, "umask": 0o077}
    assert argv[0] == "pg_dump" and "s3cret" not in " ".join(argv)
    assert (tmp_path / "dumps").stat().st_mode & 0o777 == 0o700


def test_a_backup_program_that_is_not_installed_fails_before_any_migration(tmp_path):
    subject = migration(FakeAlembicEngine(), backup_command=["/nonexistent/pgbackrest", "backup"])
    with pytest.raises(db_migrate.MigrationFailed, match=r"could not start .*no migration was applied"):
        subject.backup(db_migrate.migration_state.State("0002", ["0003"]))


@pytest.mark.parametrize(
    ("params", "problem"),
    [
        ({"tool": "command"}, "tool=command needs apply_command and check_command"),
        ({"tool": "command", "apply_command": ["x"]}, "tool=command needs check_command"),
        ({"tool": "command", "apply_command": ["x"], "check_command": ["y"]}, None),
        (
            {"tool": "alembic", "apply_command": ["x"]},
            "apply_command only apply to tool=command; alembic has its own commands",
        ),
        ({"tool": "django"}, None),
    ],
)
def test_commands_belong_to_the_command_tool(params, problem):
    values = {"apply_command": None, "check_command": None}
    values.update(params)
    assert db_migrate.argument_problems(values) == problem


def test_a_database_ahead_of_the_release_warns_and_applies_nothing():
    module = migration_module(image="demo:v1", backup_command=["false"])
    result = db_migrate.Migration(module, FakeAlembicEngine(revision="0004")).run(LockConnection())
    assert result["changed"] is False and result["pending"] == [] and result["applied"] == []
    assert result["revision_before"] == result["revision_after"] == "0004"
    assert module.warnings == [
        "the database has 0004 applied, which demo:v1 does not ship (a newer release migrated it, and a rollback "
        "never reverts migrations): nothing to apply"
    ]


@pytest.mark.parametrize(
    ("revision", "label"),
    [
        (None, "base"),
        ("0004", "0004"),
        ("0004,0007", "0004+0007"),
        ("admin.0003_logentry,auth.0012_alter_user,notes.0002_note_pinned", "state-"),
    ],
)
def test_a_backup_file_names_the_revision_or_a_hash_of_a_long_one(revision, label):
    assert db_migrate._file_label(revision).startswith(label)
    assert len(db_migrate._file_label(revision)) <= 40


def test_any_other_failure_to_read_the_state_still_fails_with_the_output():
    class BrokenEngine(FakeAlembicEngine):
        def alembic(self, command):
            return 1, "", "sqlalchemy.exc.OperationalError: connection refused\n"

    with pytest.raises(db_migrate.MigrationFailed, match="reading the migration state failed") as raised:
        migration(BrokenEngine()).run(LockConnection())
    assert raised.value.details["output"] == ["sqlalchemy.exc.OperationalError: connection refused"]


def test_a_failure_that_committed_part_of_the_schema_says_so_although_the_revision_did_not_move():
    engine = FakeAlembicEngine(revision="0001", fail_upgrade=True)
    with pytest.raises(db_migrate.MigrationFailed) as raised:
        migration(engine, backup_command=["echo", "backup-9"]).run(LockConnection(schemas=["before", "after"]))
    message = str(raised.value)
    assert "still at revision 0001, but the schema changed although the revision did not" in message
    assert "restore backup backup-9 or repair by hand" in message
    assert "rolled back" not in message
    assert raised.value.details["schema_changed"] is True


def test_a_failure_that_left_the_schema_as_it_was_says_it_is_unchanged():
    engine = FakeAlembicEngine(revision="0001", fail_upgrade=True)
    with pytest.raises(db_migrate.MigrationFailed) as raised:
        migration(engine, backup_command=["echo", "backup-9"]).run(LockConnection(schemas=["same", "same"]))
    assert "still at revision 0001 and its schema is unchanged" in str(raised.value)
    assert raised.value.details["schema_changed"] is False


def test_a_hanging_state_read_is_stopped_after_its_own_short_timeout_not_the_migrations():
    engine = FakeAlembicEngine(hang_state=True)
    with pytest.raises(db_migrate.MigrationFailed, match="did not finish within 7 s"):
        migration(engine, timeout=1800, state_timeout=7).run(LockConnection())
    # Both reads (current and history) ran, each with the short timeout.
    assert engine.timeouts == [7, 7]


class SideBySideEngine(FakeAlembicEngine):
    """Each state read answers only once the other one has started: read one after the other, they never would."""

    def __init__(self):
        super().__init__()
        self.both_started = threading.Barrier(2, timeout=10)

    def alembic(self, command):
        if command[-1] in ("current", "history"):
            self.both_started.wait()
        return super().alembic(command)


def test_the_state_is_read_by_its_commands_side_by_side():
    result = migration(SideBySideEngine()).plan()
    assert result["pending"] == ["0001", "0002", "0003"]


def test_the_secrets_are_masked_in_everything_the_module_returns(tmp_path):
    secrets = tmp_path / "secrets"
    secrets.mkdir()
    (secrets / "DATABASE_URL").write_text("postgresql://app:s3cret@db/app\n")
    module = migration_module(secrets_dir=str(secrets))
    db_migrate.Migration(module, FakeAlembicEngine())
    assert "postgresql://app:s3cret@db/app" in module.no_log_values


class Exited(Exception):
    def __init__(self, result):
        super().__init__(result.get("msg"))
        self.result = result


def run_main(monkeypatch, module, engine):
    def leave(**result):
        raise Exited(result)

    module.exit_json = module.fail_json = leave
    monkeypatch.setattr(db_migrate, "AnsibleModule", lambda **kwargs: module)
    monkeypatch.setattr(db_migrate.docker, "from_env", lambda: engine)
    with pytest.raises(Exited) as leaving:
        db_migrate.main()
    return leaving.value.result


@pytest.mark.parametrize("check_mode", [True, False])
def test_a_release_configuration_not_written_yet_is_reported_and_nothing_runs(tmp_path, monkeypatch, check_mode):
    engine = FakeAlembicEngine()
    env_file = str(tmp_path / "releases" / "b" / "app.env")
    module = migration_module(check_mode=check_mode, env_file=env_file)
    result = run_main(monkeypatch, module, engine)
    assert engine.runs == []
    if check_mode:
        assert result["changed"] and result["pending"] is None
        assert "releases/b/app.env) is not written yet" in module.warnings[0]
    else:
        assert result["msg"].endswith("releases/b/app.env) is not on this host: write it first")


def test_the_one_off_containers_get_the_services_environment_and_secrets(tmp_path):
    secrets, env_secrets = tmp_path / "secrets", tmp_path / "env-secrets"
    secrets.mkdir()
    env_secrets.mkdir()
    (secrets / "DATABASE_URL").write_text("postgresql://app:pw@db/app")
    (env_secrets / "SECRET_KEY").write_text("s3cret-key")
    engine = FakeAlembicEngine()
    migration(
        engine, secrets_dir=str(secrets), env_secrets_dir=str(env_secrets), environment={"LOG_LEVEL": "info"}
    ).plan()
    options = engine.runs[0][2]
    assert options["environment"] == {
        "LOG_LEVEL": "info",
        "SECRET_KEY": "s3cret-key",
        "DATABASE_URL_FILE": "/run/secrets/DATABASE_URL",
    }
    assert options["volumes"] == {str(secrets): {"bind": "/run/secrets", "mode": "ro"}}


def test_only_the_migration_itself_mounts_the_apps_data(tmp_path, monkeypatch):
    engine = FakeAlembicEngine()
    made = []
    monkeypatch.setattr(
        db_migrate.app_container, "ensure_volumes", lambda client, params: made.append(params["volumes"])
    )
    media = [{"name": "media", "host_path": None, "path": "/app/media", "read_only": False}]
    migration(engine, volumes=media, backup=False).run(LockConnection())
    mounts = [run[2].get("volumes", {}) for run in engine.runs]
    commands = [run[1][-1] for run in engine.runs]
    assert [bool(m) for m in mounts] == [command == "heads" for command in commands]
    assert made == [media]


def test_the_extensions_the_release_needs_are_checked_and_their_versions_returned():
    engine = FakeAlembicEngine()
    connection = LockConnection(extensions=[("vector", "0.8.0"), ("pg_trgm", "1.6")])
    result = migration(engine, backup_command=["echo", "backup-1"], required_extensions=["vector"]).run(connection)
    assert result["extensions"] == {"vector": "0.8.0"}
    assert result["applied"] == ["0001", "0002", "0003"]


def test_a_missing_extension_stops_the_run_before_any_backup_or_migration():
    engine = FakeAlembicEngine()
    connection = LockConnection(extensions=[("pg_trgm", "1.6")])
    with pytest.raises(db_migrate.MigrationFailed, match=r"no extension vector: .* the provider enables extensions"):
        migration(engine, backup_command=["echo", "backup-1"], required_extensions=["vector"]).run(connection)
    assert engine.runs == []
    assert connection.calls == ["SELECT pg_try_advisory_lock", "SELECT pg_advisory_unlock"]
