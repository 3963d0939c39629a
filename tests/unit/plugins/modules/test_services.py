"""services' decisions from systemd's answers. The answers are what systemctl printed on a Debian 13 host
(the demo host); the units' real starts and stops are proven by every Molecule scenario."""

import pytest

from ansible_collections.appstack.platform.plugins.modules import services
from ansible_collections.appstack.platform.tests.unit.plugins.modules.fake_module import Failed, FakeModule

SHOW = """Id=postgresql@17-main.service
LoadState=loaded
ActiveState=active
UnitFileState=enabled

Id=redis-server.service
LoadState=loaded
ActiveState=inactive
UnitFileState=disabled

Id=apt-daily.service
LoadState=loaded
ActiveState=inactive
UnitFileState=static

Id=appstack-backup-postgresql.timer
LoadState=not-found
ActiveState=inactive
UnitFileState=
"""
NAMES = ["postgresql@17-main.service", "redis-server.service", "apt-daily.service", "appstack-backup-postgresql.timer"]
FAILED_START = (
    "Job for appstack-fails.service failed because the control process exited with error code.\n"
    'See "systemctl status appstack-fails.service" and "journalctl -xeu appstack-fails.service" for details.\n'
)
FAILED_STATUS = """\u00d7 appstack-fails.service
     Loaded: loaded (/run/systemd/system/appstack-fails.service; static)
     Active: failed (Result: exit-code) since Thu 2026-12-03 10:21:15 UTC; 20ms ago
    Process: 8225 ExecStart=/bin/false (code=exited, status=1/FAILURE)

Dec 03 10:21:15 appstack-demo systemd[1]: appstack-fails.service: Main process exited, code=exited, status=1/FAILURE
Dec 03 10:21:15 appstack-demo systemd[1]: Failed to start appstack-fails.service.
"""


def services_module(answers, check_mode=False, **params):
    module = FakeModule(services.argument_spec(), params, check_mode)
    module.answers["systemctl"] = answers
    return module


def units(show, names):
    """The blocks of SHOW for these units, in this order."""
    blocks = {block.splitlines()[0][3:]: block for block in show.strip().split("\n\n")}
    return "\n\n".join(blocks[name] for name in names) + "\n"


def test_units_as_wanted_are_one_question_and_no_change():
    module = services_module([(0, units(SHOW, NAMES[:1]), "")], names=NAMES[:1], enabled=True)
    result = services.run(module)
    assert result == {"changed": False, "disabled": [], "stopped": [], "enabled": [], "started": []}
    assert module.commands == [
        ["systemctl", "show", "--property=Id,LoadState,ActiveState,UnitFileState", "--", NAMES[0]]
    ]


def test_only_the_units_that_differ_are_acted_on_one_command_per_action():
    module = services_module([(0, units(SHOW, NAMES[:3]), ""), (0, "", "")], names=NAMES[:3], enabled=True)
    result = services.run(module)
    assert result["enabled"] == ["redis-server.service"], "a static unit has nothing to enable"
    assert result["started"] == ["redis-server.service", "apt-daily.service"] and result["changed"]
    assert module.commands[1:] == [
        ["systemctl", "enable", "--", "redis-server.service"],
        ["systemctl", "start", "--", "redis-server.service", "apt-daily.service"],
    ]


def test_stopping_and_disabling():
    module = services_module(
        [(0, units(SHOW, NAMES[:2]), ""), (0, "", "")], names=NAMES[:2], state="stopped", enabled=False
    )
    result = services.run(module)
    assert result["disabled"] == result["stopped"] == ["postgresql@17-main.service"]
    assert [argv[1] for argv in module.commands] == ["show", "disable", "stop"]


def test_a_unit_systemd_does_not_know_fails_outside_check_mode_and_would_start_in_it():
    answers = [(0, units(SHOW, NAMES[3:]), "")]
    with pytest.raises(Failed, match=r"systemd has no unit appstack-backup-postgresql\.timer"):
        services.run(services_module(list(answers), names=NAMES[3:], enabled=True))
    checked = services_module(list(answers), check_mode=True, names=NAMES[3:], enabled=True, daemon_reload=True)
    assert services.run(checked)["started"] == NAMES[3:]
    assert [argv[1] for argv in checked.commands] == ["show"], "check mode neither reloads nor starts"


def test_a_failed_start_shows_the_units_status_and_journal():
    show = "Id=appstack-fails.service\nLoadState=loaded\nActiveState=failed\nUnitFileState=static\n"
    module = services_module(
        [(0, "", ""), (0, show, ""), (1, "", FAILED_START), (3, FAILED_STATUS, "")],
        names=["appstack-fails.service"],
        daemon_reload=True,
    )
    with pytest.raises(Failed) as failed:
        services.run(module)
    assert (
        "status=1/FAILURE" in failed.value.result["msg"]
        and "failed because the control process" in failed.value.result["msg"]
    )
    assert [argv[1] for argv in module.commands] == ["daemon-reload", "show", "start", "status"]
