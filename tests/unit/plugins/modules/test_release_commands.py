"""release_commands against a fake Docker engine whose one-off containers answer by command."""

import hashlib
import json

import pytest

from ansible_collections.appstack.platform.plugins.modules import release_commands
from ansible_collections.appstack.platform.tests.unit.plugins.modules.fake_docker import FakeEngine
from ansible_collections.appstack.platform.tests.unit.plugins.modules.fake_module import Failed, FakeModule
from ansible_collections.appstack.platform.tests.unit.plugins.modules.test_app_retire import retire
from ansible_collections.appstack.platform.tests.unit.plugins.modules.test_app_rollout import WORKER, roll_out


def commands_engine(answers):
    """Each one-off container answers with ``answers[command[0]]``: (exit code or None for a hang, output)."""
    return FakeEngine(
        {"shop:v2": "sha256:shop:v2", "shop:v3": "sha256:shop:v3"}, one_off=lambda command: (*answers[command[0]], "")
    )


def commands_module(tmp_path, check_mode=False, **params):
    params = {"app": "shop", "deployment": "prod", "image": "shop:v2", "ledger_dir": str(tmp_path / "ledger"), **params}
    params["commands"] = [{"timeout": 600, **command} for command in params["commands"]]
    return FakeModule(release_commands.argument_spec(), params, check_mode)


COMMANDS = [{"name": "admin user", "command": ["admin"]}, {"name": "initial data", "command": ["load"]}]


@pytest.fixture
def secrets(tmp_path):
    directory = tmp_path / "secrets"
    directory.mkdir()
    (directory / "DATABASE_URL").write_text("postgresql://shop:pw@db/shop")
    return directory


def test_commands_run_in_order_with_the_release_configuration_then_not_again(tmp_path, secrets):
    engine = commands_engine({"admin": (0, "admin created\n"), "load": (0, "42 objects\n")})
    first = release_commands.run(commands_module(tmp_path, commands=COMMANDS, secrets_dir=str(secrets)), engine)
    assert first["changed"] and [r["name"] for r in first["ran"]] == ["admin user", "initial data"]
    assert first["ran"][1]["output"] == ["42 objects"]
    assert [run[1] for run in engine.runs] == [["admin"], ["load"]]
    assert engine.runs[0][2]["environment"] == {"DATABASE_URL_FILE": "/run/secrets/DATABASE_URL"}
    again = release_commands.run(commands_module(tmp_path, commands=COMMANDS, secrets_dir=str(secrets)), engine)
    assert again == {"changed": False, "ran": []} and len(engine.runs) == 2


def test_a_new_secret_value_or_image_runs_them_again(tmp_path, secrets):
    engine = commands_engine({"admin": (0, ""), "load": (0, "")})
    release_commands.run(commands_module(tmp_path, commands=COMMANDS, secrets_dir=str(secrets)), engine)
    (secrets / "DATABASE_URL").write_text("postgresql://shop:rotated@db/shop")
    assert release_commands.run(commands_module(tmp_path, commands=COMMANDS, secrets_dir=str(secrets)), engine)[
        "changed"
    ]
    assert release_commands.run(
        commands_module(tmp_path, commands=COMMANDS, secrets_dir=str(secrets), image="shop:v3"), engine
    )["changed"]
    assert len(engine.runs) == 6


def test_a_failing_command_stops_the_run_with_its_output_and_is_not_recorded(tmp_path, secrets):
    engine = commands_engine({"admin": (3, "Traceback\nIntegrityError: duplicate key\n"), "load": (0, "")})
    module = commands_module(tmp_path, commands=COMMANDS, secrets_dir=str(secrets))
    with pytest.raises(Failed, match="'admin user' \\(admin\\) exited with 3; nothing was switched") as failure:
        release_commands.run(module, engine)
    assert failure.value.result["ran"][0]["output"][-1] == "IntegrityError: duplicate key"
    assert [run[1] for run in engine.runs] == [["admin"]]
    assert not (tmp_path / "ledger/shop-prod/release-commands.json").exists()


def test_a_command_not_run_once_runs_every_time_and_leaves_no_record(tmp_path, secrets):
    engine = commands_engine({"admin": (0, "2 sessions cleared\n")})
    for _round in ("first", "second"):
        result = release_commands.run(
            commands_module(tmp_path, commands=COMMANDS[:1], secrets_dir=str(secrets), once=False), engine
        )
        assert result["changed"] and result["ran"][0]["output"] == ["2 sessions cleared"]
    assert len(engine.runs) == 2
    assert not (tmp_path / "ledger/shop-prod/release-commands.json").exists()


def test_a_failing_command_not_run_once_fails_with_its_last_lines(tmp_path):
    engine = commands_engine({"admin": (1, "Traceback\nCommandError: no such user\n")})
    module = commands_module(tmp_path, commands=COMMANDS[:1], once=False)
    expected = "command 'admin user' (admin) exited with 1; its last lines: Traceback / CommandError: no such user"
    with pytest.raises(Failed) as failure:
        release_commands.run(module, engine)
    assert failure.value.result["msg"] == expected


def test_a_command_that_hangs_is_stopped_after_its_timeout(tmp_path):
    engine = commands_engine({"admin": (None, "waiting for the database\n")})
    module = commands_module(tmp_path, commands=[{"name": "admin user", "command": ["admin"], "timeout": 5}])
    with pytest.raises(Failed, match="did not finish within 5 s"):
        release_commands.run(module, engine)


def test_check_mode_says_they_would_run_and_runs_nothing(tmp_path):
    engine = commands_engine({})
    result = release_commands.run(commands_module(tmp_path, check_mode=True, commands=COMMANDS), engine)
    assert result == {"changed": True, "ran": []} and engine.runs == []


def test_secret_values_are_masked_and_the_record_holds_none(tmp_path, secrets):
    engine = commands_engine({"admin": (0, "connected to postgresql://shop:pw@db/shop\n"), "load": (0, "")})
    module = commands_module(tmp_path, commands=COMMANDS, secrets_dir=str(secrets))
    release_commands.run(module, engine)
    assert "postgresql://shop:pw@db/shop" in module.no_log_values
    record = (tmp_path / "ledger/shop-prod/release-commands.json").read_text()
    assert json.loads(record)["image_id"] == "sha256:shop:v2"


def test_an_identity_recorded_before_volumes_existed_is_still_the_same(tmp_path):
    image = "sha256:abc"
    config = {"env_file": None, "secrets_dir": None, "env_secrets_dir": None}
    before_volumes = hashlib.sha256(json.dumps({"image": image, "commands": COMMANDS}, sort_keys=True).encode())
    assert release_commands.identity(image, config, COMMANDS, []) == before_volumes.hexdigest()
    assert release_commands.identity(image, config, COMMANDS, [{"name": "media"}]) != before_volumes.hexdigest()


def serving_module(host, service="web"):
    params = {"app": "demo", "deployment": "prod", "serving_release_of": service, "once": False}
    params["commands"] = [{"name": "sessions", "command": ["clearsessions"], "timeout": 600}]
    return FakeModule(release_commands.argument_spec(), dict(params, ledger_dir=str(host.tmp / "ledger")))


def test_a_command_runs_in_the_release_the_service_serves_with_its_image_and_configuration(host):
    first = roll_out(host)
    roll_out(host, image="demo:v2")
    back = roll_out(host, image=None, rollback_to="previous")
    assert back["release"] == first["release"]
    host.engine.one_off = lambda command: (0, "2 sessions cleared\n", "")
    module = serving_module(host)
    release = release_commands.use_serving_release(module)
    result = release_commands.run(module, host.engine, release)
    assert release == first["release"] and result["release"] == release
    image, command, options = host.engine.runs[-1]
    assert (image, command) == ("sha256:111", ["clearsessions"])
    assert options["environment"] == {"DATABASE_URL_FILE": "/run/secrets/DATABASE_URL"}
    assert result["ran"][0]["output"] == ["2 sessions cleared"]


def test_a_failure_in_the_serving_release_names_it(host):
    release = roll_out(host)["release"]
    host.engine.one_off = lambda command: (1, "CommandError: no such table\n", "")
    module = serving_module(host)
    with pytest.raises(Failed) as failure:
        release_commands.run(module, host.engine, release_commands.use_serving_release(module))
    assert f"(clearsessions) in release {release} exited with 1" in failure.value.result["msg"]
    assert failure.value.result["release"] == release


def test_a_service_retired_or_never_deployed_serves_no_release_and_nothing_starts(host):
    roll_out(host)
    roll_out(host, **WORKER)
    retire(host, ["web"])
    runs = len(host.engine.runs)
    for service, why in (("worker", "has its retirement last"), ("beat", "has no succeeded release")):
        with pytest.raises(Failed) as failure:
            release_commands.use_serving_release(serving_module(host, service))
        assert failure.value.result["msg"] == (
            f"no release of demo-prod-{service} serves on this host (its release ledger {why}): deploy it first, "
            "or name another service"
        )
    assert len(host.engine.runs) == runs
