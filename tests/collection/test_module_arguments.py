"""Wrong module arguments fail before anything runs, with a message that names the mistake."""

import json
import sys

import pytest

BAD_ARGUMENTS = [
    (
        "db_migrate",
        {"app": "demo", "env": "prod", "tool": "flyway", "image": "demo:v2", "database_url": "postgresql:///demo"},
        "value of tool must be one of: alembic, django, command, got: flyway",
    ),
    (
        "db_migrate",
        {"app": "demo", "env": "prod", "tool": "command", "image": "demo:v2", "database_url": "postgresql:///demo"},
        "tool=command needs apply_command and check_command",
    ),
    (
        "db_migrate",
        {
            "app": "demo",
            "env": "prod",
            "tool": "alembic",
            "image": "demo:v2",
            "database_url": "postgresql:///demo",
            "apply_command": ["./migrate"],
        },
        "apply_command only apply to tool=command",
    ),
    ("db_migrate", {"app": "demo", "env": "prod", "tool": "alembic", "image": "demo:v2"}, "database_url"),
    ("app_rollout", {"app": "demo", "env": "prod", "service": "web", "image": "demo:v2"}, "slot_ports"),
]


@pytest.mark.parametrize(("module", "arguments", "message"), BAD_ARGUMENTS)
def test_bad_arguments_fail_with_a_clear_message(ansible, module, arguments, message):
    result = ansible(
        "ansible",
        "localhost",
        "-i",
        "localhost,",
        "-c",
        "local",
        "-e",
        f"ansible_python_interpreter={sys.executable}",
        "-m",
        f"appstack.platform.{module}",
        "-a",
        json.dumps(arguments),
    )
    output = result.stdout + result.stderr
    assert result.returncode != 0, output
    assert message in output, output
