# Copyright: (c) 2026, appstack.platform maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""What a migration tool says about a database: the revision it is at and the migrations still to apply.

Each tool has a state command (run in the release's image) whose output is parsed here; nothing here runs anything.
"""

from __future__ import annotations

import re
from collections import namedtuple

# `alembic history` lines: "<down>[, <down>] -> <revision> [(head)] [(branchpoint)], <message>"
ALEMBIC_HISTORY_LINE = re.compile(r"^(?P<down>.+?) -> (?P<revision>[^\s,]+)(?: \([^)]*\))*,")
ALEMBIC_CURRENT_LINE = re.compile(r"^(?P<revision>[0-9A-Za-z_]+)(?: \([^)]*\))*$")
# What `alembic current` prints (on stderr, exit 255) for a database at a revision the release does not ship.
ALEMBIC_UNLOCATABLE_REVISION = re.compile(r"Can't locate revision identified by '(?P<revision>[^']+)'")
# `manage.py showmigrations --plan` lines: "[X]  app.0001_initial" (applied) or "[ ]  app.0002_more" (pending);
# with -v 2 a " (applied at ...)" suffix follows.
DJANGO_PLAN_LINE = re.compile(r"^\[(?P<mark>[ X])\]\s+(?P<name>\S+)")
# What the database has applied, from Django's own recorder: `showmigrations` lists only the migrations a release
# ships, so it cannot see those a newer release applied.
DJANGO_APPLIED = (
    "from django.db import connection\n"
    "from django.db.migrations.recorder import MigrationRecorder\n"
    "for app, name in sorted(MigrationRecorder(connection).applied_migrations()):\n"
    "    print(f'{app}.{name}')"
)
# An applied migration as the recorder prints it; other lines (Django 5.2's shell announces its imports) are not.
DJANGO_MIGRATION = re.compile(r"^\w+\.\w+$")

TOOLS = ("alembic", "django", "command")
DEFAULT_TOOL_COMMANDS = {"alembic": ["alembic"], "django": ["python", "manage.py"]}


# Where a database is: ``revision`` (None when unknown or at the very start), ``pending`` in apply order, and
# ``unknown``: revisions the database is at that the release does not ship (a newer release migrated it).
State = namedtuple("State", ["revision", "pending", "unknown"], defaults=[()])


def state_commands(tool, tool_command, check_command):
    """The commands whose outputs ``parse`` reads, by name."""
    if tool == "alembic":
        return {"current": [*tool_command, "current"], "history": [*tool_command, "history"]}
    if tool == "django":
        return {
            "plan": [*tool_command, "showmigrations", "--plan"],
            "applied": [*tool_command, "shell", "-c", DJANGO_APPLIED],
        }
    return {"pending": list(check_command)}


def apply_command(tool, tool_command, user_apply_command):
    if tool == "alembic":
        return [*tool_command, "upgrade", "heads"]
    if tool == "django":
        return [*tool_command, "migrate", "--noinput"]
    return list(user_apply_command)


def parse(tool, outputs):
    if tool == "alembic":
        return parse_alembic(outputs["current"], outputs["history"])
    if tool == "django":
        return parse_django(outputs["plan"], outputs["applied"])
    return parse_command(outputs["pending"])


def parse_alembic(current_output, history_output):
    """State from `alembic current` and `alembic history` (newest first)."""
    current = [match.group("revision") for match in map(ALEMBIC_CURRENT_LINE.match, _lines(current_output)) if match]
    parents = {}
    order = []
    for line in _lines(history_output):
        match = ALEMBIC_HISTORY_LINE.match(line)
        if not match:
            continue
        revision = match.group("revision")
        downs = [down.strip() for down in match.group("down").split(",")]
        parents[revision] = [down for down in downs if down != "<base>"]
        order.append(revision)
    applied = _ancestors(current, parents)
    pending = [revision for revision in reversed(order) if revision not in applied]
    return State(",".join(current) or None, pending)


def database_ahead(tool, command_name, failed_output):
    """The state of a database a newer release migrated, from the output of a state command that failed on it.

    `alembic current` cannot name a revision its scripts lack: it fails with "Can't locate revision identified by
    '<rev>'". That is the case of a rollback behind a newer database, not an error. None for any other failure.
    """
    if tool != "alembic" or command_name != "current":
        return None
    match = ALEMBIC_UNLOCATABLE_REVISION.search(failed_output)
    if not match:
        return None
    revision = match.group("revision")
    return State(revision, [], (revision,))


def parse_django(plan_output, applied_output):
    """State from `showmigrations --plan` (what the release ships, in apply order) and the database's applied
    migrations. The revision is each app's newest applied migration (one app's head alone says nothing of the
    others); ``unknown`` the applied migrations the release does not ship."""
    shipped = [match.group("name") for match in map(DJANGO_PLAN_LINE.match, _lines(plan_output)) if match]
    applied = {line for line in _lines(applied_output) if DJANGO_MIGRATION.match(line)}
    heads = {}
    for name in sorted(applied):
        heads[name.partition(".")[0]] = name
    return State(
        ",".join(heads[app] for app in sorted(heads)) or None,
        [name for name in shipped if name not in applied],
        tuple(sorted(applied - set(shipped))),
    )


def parse_command(pending_output):
    """A user's check command prints one pending migration per line (nothing when up to date)."""
    return State(None, [line for line in _lines(pending_output) if not line.startswith("#")])


def heads_since(deployed_revision, revision):
    """The heads of ``revision`` (as a `State` joins them) that ``deployed_revision`` does not have: what a database
    gained after a release was deployed at ``deployed_revision``. Empty when either is unknown."""
    if not deployed_revision or not revision:
        return []
    return sorted(set(revision.split(",")) - set(deployed_revision.split(",")))


def applied_between(before, after):
    """Migrations pending before and no longer pending after, in apply order."""
    return [name for name in before.pending if name not in after.pending]


def _ancestors(revisions, parents):
    seen = set()
    stack = list(revisions)
    while stack:
        revision = stack.pop()
        if revision not in seen:
            seen.add(revision)
            stack.extend(parents.get(revision, []))
    return seen


def _lines(output):
    return [line.strip() for line in output.splitlines() if line.strip()]
