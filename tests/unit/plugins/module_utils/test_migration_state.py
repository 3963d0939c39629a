import pytest

from ansible_collections.appstack.platform.plugins.module_utils import migration_state
from ansible_collections.appstack.platform.plugins.module_utils.migration_state import State

HISTORY = """\
0002 -> 0003 (head), create tags
0001 -> 0002, add note title
<base> -> 0001, create notes
"""


@pytest.mark.parametrize(
    ("current", "expected"),
    [
        ("", State(None, ["0001", "0002", "0003"])),
        ("0001\n", State("0001", ["0002", "0003"])),
        ("0002\n", State("0002", ["0003"])),
        ("0003 (head)\n", State("0003", [])),
    ],
)
def test_alembic_pending_is_what_follows_the_current_revision(current, expected):
    assert migration_state.parse_alembic(current, HISTORY) == expected


def test_alembic_ignores_log_lines_and_follows_branches_and_merges():
    history = """\
INFO  [alembic.runtime.migration] Context impl PostgresqlImpl.
b1, c1 -> m1 (head) (mergepoint), merge
a1 -> c1, branch c
a1 -> b1, branch b
<base> -> a1 (branchpoint), start
"""
    assert migration_state.parse_alembic("b1\n", history) == State("b1", ["c1", "m1"])


# What `alembic current` (Alembic 1.13, Debian's python3-alembic) prints on stderr, exit status 255, when the
# database is at a revision the release's scripts lack; molecule/stack proves it against the real CLI.
UNLOCATABLE = """\
ERROR [alembic.util.messaging] Can't locate revision identified by '0004'
  FAILED: Can't locate revision identified by '0004'
"""


def test_a_database_a_newer_release_migrated_is_ahead_with_nothing_to_apply():
    assert migration_state.database_ahead("alembic", "current", UNLOCATABLE) == State("0004", [], ("0004",))


@pytest.mark.parametrize(
    ("tool", "command", "output"),
    [
        ("alembic", "current", "sqlalchemy.exc.OperationalError: connection refused"),
        ("alembic", "history", UNLOCATABLE),
        ("django", "plan", UNLOCATABLE),
    ],
)
def test_other_failures_of_a_state_command_are_not_a_database_ahead(tool, command, output):
    assert migration_state.database_ahead(tool, command, output) is None


# What Django 4.2's `showmigrations --plan` printed for the test site's v1 (tests/django_app), shortened.
DJANGO_V1_PLAN = """\
[X]  contenttypes.0001_initial
[X]  auth.0001_initial
[X]  notes.0001_initial
[ ]  sessions.0001_initial
[X]  tags.0001_initial
"""


def test_django_state_is_each_app_s_newest_applied_migration_and_what_is_pending():
    applied = "auth.0001_initial\ncontenttypes.0001_initial\nnotes.0001_initial\ntags.0001_initial\n"
    assert migration_state.parse_django(DJANGO_V1_PLAN, applied) == State(
        "auth.0001_initial,contenttypes.0001_initial,notes.0001_initial,tags.0001_initial", ["sessions.0001_initial"]
    )
    assert migration_state.parse_django("[ ]  notes.0001_initial\n", "") == State(None, ["notes.0001_initial"])


def test_a_django_database_a_newer_release_migrated_names_what_the_release_does_not_ship():
    # v2 applied notes.0002_note_pinned, then the site was rolled back to v1; Django 5.2 announces its imports.
    applied = (
        "6 objects imported automatically (use -v 2 for details).\n"
        "auth.0001_initial\ncontenttypes.0001_initial\nnotes.0001_initial\nnotes.0002_note_pinned\n"
        "sessions.0001_initial\ntags.0001_initial\n"
    )
    state = migration_state.parse_django(DJANGO_V1_PLAN, applied)
    assert state.unknown == ("notes.0002_note_pinned",)
    assert state.pending == []
    assert "notes.0002_note_pinned" in state.revision.split(",")


def test_command_output_lists_pending_migrations_one_per_line():
    assert migration_state.parse_command("# pending:\n  20260101_users\n\n20260102_orders\n") == State(
        None, ["20260101_users", "20260102_orders"]
    )
    assert migration_state.parse_command("") == State(None, [])


@pytest.mark.parametrize(
    ("tool", "state_commands", "apply"),
    [
        (
            "alembic",
            {"current": ["alembic", "current"], "history": ["alembic", "history"]},
            ["alembic", "upgrade", "heads"],
        ),
        (
            "django",
            {
                "plan": ["python", "manage.py", "showmigrations", "--plan"],
                "applied": ["python", "manage.py", "shell", "-c", migration_state.DJANGO_APPLIED],
            },
            ["python", "manage.py", "migrate", "--noinput"],
        ),
        ("command", {"pending": ["./migrate", "pending"]}, ["./migrate", "up"]),
    ],
)
def test_commands_of_each_tool(tool, state_commands, apply):
    tool_command = migration_state.DEFAULT_TOOL_COMMANDS.get(tool, [])
    assert migration_state.state_commands(tool, tool_command, ["./migrate", "pending"]) == state_commands
    assert migration_state.apply_command(tool, tool_command, ["./migrate", "up"]) == apply


def test_parse_dispatches_on_the_tool():
    assert migration_state.parse("alembic", {"current": "0003\n", "history": HISTORY}) == State("0003", [])
    assert migration_state.parse("django", {"plan": "[X]  a.0001\n", "applied": "a.0001\n"}) == State("a.0001", [])
    assert migration_state.parse("command", {"pending": "x\n"}) == State(None, ["x"])


def test_applied_between_keeps_apply_order():
    before = State("0001", ["0002", "0003", "0004"])
    after = State("0003", ["0004"])
    assert migration_state.applied_between(before, after) == ["0002", "0003"]


def test_heads_since_a_deploy_are_the_database_s_heads_it_was_not_deployed_at():
    assert migration_state.heads_since("0002", "0003") == ["0003"]
    assert migration_state.heads_since("admin.0003,notes.0001_initial", "admin.0003,notes.0002_pinned,tags.0001") == [
        "notes.0002_pinned",
        "tags.0001",
    ]
    assert migration_state.heads_since("0003", "0003") == []
    assert migration_state.heads_since(None, "0003") == migration_state.heads_since("0002", None) == []
