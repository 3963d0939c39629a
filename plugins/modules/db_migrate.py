#!/usr/bin/python
# Copyright: (c) 2026, appstack.platform maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: db_migrate
short_description: Run an application's database migrations from its new release image, once, under a lock
version_added: 0.1.0
description:
  - Runs the migration tool of an application (Alembic, Django, or commands of your own) in a one-off container of
    the B(new) release image, with the same environment file, variables, secret files and network as the app's
    containers. Meant to run after the release is configured on the host and before any traffic is switched.
  - A PostgreSQL session advisory lock serialises migrations of one app environment; a second run waits for it up
    to O(lock_timeout), then fails naming the session that holds it. The state is read after the lock is taken,
    so a run that waited finds the migrations already applied and changes nothing.
  - When migrations are pending, a backup is taken first (C(pg_dump) in custom format, or O(backup_command)) and its
    id is returned and carried by any error.
  - On failure nothing is switched (the caller stops); the error shows the tool's output and says what is known of
    the database, its revision and whether its schema changed, by a fingerprint of the catalog (relations, columns,
    constraints, indexes, functions, types, extensions) taken before and after. Alembic and Django on PostgreSQL run
    DDL in transactions, but a migration can commit outside them (Alembic's C(autocommit_block), Django's
    C(atomic = False)), so "schema unchanged" is said only when the fingerprint says so.
  - A database at a revision the release does not ship (a newer release migrated it, and this one is a rollback
    or an older image) is a warning with nothing to apply, reported in RV(database_ahead); Alembic's
    C(current) fails on such a database, which is read from its "Can't locate revision" message.
  - The module's own connections (the lock, the catalog's fingerprint, C(pg_dump)) use libpq's environment
    (C(PGSSLMODE), C(PGSSLROOTCERT)) like the containers do; a connection that fails for a TLS reason (the server's
    certificate not signed by the trusted CA, a certificate for another host name, a server that refuses plain
    connections) says so before libpq's words, so a TLS problem is not taken for an SQL one.
  - Changed only when migrations were applied.
author: appstack.platform maintainers (@appstack)
extends_documentation_fragment:
  - appstack.platform.app_container
requirements:
  - psycopg 3 (C(python3-psycopg) on Debian), for the lock
  - C(pg_dump) of the server's major version or newer (C(postgresql-client)), unless O(backup_command) or
    O(backup=false)
attributes:
  check_mode:
    support: full
    description: Reads the state with the new image and reports the pending migrations; takes no lock, no backup.
  diff_mode:
    support: none
    description: The pending and applied migrations are returned in RV(pending) and RV(applied).
options:
  app:
    description: Application name (names the one-off containers, the lock and the backup files).
    type: str
    required: true
  deployment:
    description:
      - The app's deployment environment (for example C(prod)); with O(app) it names the one-off containers, the
        lock and the backup files. Not the containers' variables (O(environment), O(env_file)).
    type: str
    required: true
    aliases: [env]
  tool:
    description:
      - C(alembic) applies with C(upgrade heads) and reads C(current) and C(history).
      - C(django) applies with C(migrate --noinput) and reads C(showmigrations --plan).
      - C(command) runs O(apply_command), and O(check_command), which prints one pending migration per line.
    type: str
    required: true
    choices: [alembic, django, command]
  image:
    description: Image of the new release (present on the host).
    type: str
    required: true
  tool_command:
    description: How the tool is called in the image; C([alembic]) or C([python, manage.py]) when not set.
    type: list
    elements: str
  apply_command:
    description: Command that applies the migrations (O(tool=command) only).
    type: list
    elements: str
  check_command:
    description: Command that prints the pending migrations, one per line (O(tool=command) only).
    type: list
    elements: str
  database_url:
    description:
      - libpq URL of the database, used for the lock and the backup from this host. It must reach PostgreSQL
        directly; an advisory lock through PgBouncer in transaction pooling would not be held by this session.
    type: str
    required: true
  network:
    description: Docker network of the container; the default bridge when not set.
    type: str
  lock_name:
    description: Name of the advisory lock; C(appstack.db_migrate:<app>-<env>) when not set.
    type: str
  lock_timeout:
    description: Seconds to wait for the lock before failing.
    type: float
    default: 300
  timeout:
    description: Seconds the migration may run before it is stopped and reported as failed.
    type: float
    default: 1800
  state_timeout:
    description:
      - Seconds each command that reads the state (C(alembic current), C(showmigrations), O(check_command)) may
        run. Short, so a hung read cannot hold the lock for the length of a migration.
    type: float
    default: 120
  backup:
    description: Take a backup before applying migrations.
    type: bool
    default: true
  backup_dir:
    description: Directory of the C(pg_dump) backups (made C(0700), files C(0600)).
    type: path
    default: /var/backups/appstack/migrations
  backup_command:
    description:
      - Command run on the host instead of C(pg_dump) (for example the backup role's); the last line it prints is
        returned as the backup id.
      - It finds the database in its environment, as the module's own C(pg_dump) would reach it - C(APPSTACK_DATABASE)
        (libpq's connection string without the password) and C(PGPASSWORD) - with libpq's TLS settings
        (C(PGSSLMODE), C(PGSSLROOTCERT)) from the task's environment; never on a command line.
    type: list
    elements: str
  output_lines:
    description: Lines of the tool's output returned and shown on failure.
    type: int
    default: 40
  required_extensions:
    description:
      - Extensions the release needs in the database (for example C(vector)), checked (present, and their version
        returned) under the lock before anything is migrated. A missing one fails the run, naming it and who
        enables it; the module never creates extensions (on a managed PostgreSQL the provider does).
    type: list
    elements: str
    default: []
"""

EXAMPLES = r"""
- name: Migrate the database from the new release, before it takes traffic
  appstack.platform.db_migrate:
    app: demo
    deployment: prod
    tool: alembic
    tool_command: [python3, -m, alembic]
    image: registry.example.com/demo:2026.11.2
    env_file: /etc/appstack/demo-prod/releases/5d41402abc4b/app.env
    secrets_dir: /etc/appstack/demo-prod/releases/5d41402abc4b/secrets
    database_url: "{{ vault_demo_migration_database_url }}"
  run_once: true
  register: migration

- name: A project with its own migration commands
  appstack.platform.db_migrate:
    app: shop
    deployment: staging
    tool: command
    image: shop:1.4.0
    apply_command: [./bin/migrate, up]
    check_command: [./bin/migrate, pending]
    database_url: "{{ vault_shop_database_url }}"
    backup_command: [/usr/local/bin/backup-now, shop-staging]
"""

RETURN = r"""
extensions:
  description: Version of each of O(required_extensions) in the database (when the migrations ran or were checked).
  returned: when not in check mode
  type: dict
  sample: {vector: 0.8.0}
revision_before:
  description: Revision the database was at (Alembic revision, last applied Django migration; null for C(command)).
  returned: always
  type: str
revision_after:
  description: Revision the database is at now.
  returned: always
  type: str
pending:
  description: Migrations that were pending, in apply order (what check mode would apply).
  returned: always
  type: list
  elements: str
database_ahead:
  description: Revisions the database is at that the release does not ship (a newer release migrated it); nothing
    is applied then.
  returned: always
  type: list
  elements: str
schema_changed:
  description: On a failed migration, whether the schema's fingerprint differs from before the migration ran.
  returned: failure of the migration command
  type: bool
applied:
  description: Migrations applied by this run.
  returned: always
  type: list
  elements: str
backup_id:
  description: Id of the backup taken before applying (the dump's file name with C(pg_dump)); null when none was taken.
  returned: always
  type: str
backup_path:
  description: Path of the C(pg_dump) backup.
  returned: when a pg_dump backup was taken
  type: str
duration:
  description: Seconds the migration command ran.
  returned: always
  type: float
lock_waited:
  description: Seconds spent waiting for the lock.
  returned: when not in check mode
  type: float
output:
  description: Last O(output_lines) lines of the tool's output.
  returned: always
  type: list
  elements: str
"""

import hashlib
import os
import socket
import time
import traceback
from concurrent.futures import ThreadPoolExecutor

from ansible.module_utils.basic import AnsibleModule, missing_required_lib

from ansible_collections.appstack.platform.plugins.module_utils import (
    advisory_lock,
    app_container,
    database_errors,
    migration_state,
    schema_fingerprint,
)

try:
    import docker
except ImportError:
    DOCKER_IMPORT_ERROR = traceback.format_exc()
else:
    DOCKER_IMPORT_ERROR = None

try:
    import psycopg
except ImportError:
    PSYCOPG_IMPORT_ERROR = traceback.format_exc()
else:
    PSYCOPG_IMPORT_ERROR = None


EXTENSIONS_QUERY = "SELECT extname, extversion FROM pg_extension WHERE extname = ANY(%s)"


class MigrationFailed(Exception):
    def __init__(self, message, **details):
        super().__init__(message)
        self.details = details


class Migration:
    def __init__(self, module, client):
        self.module = module
        self.params = module.params
        self.client = client
        self.instance = f"{self.params['app']}-{self.params['deployment']}"
        self.tool_command = self.params["tool_command"] or migration_state.DEFAULT_TOOL_COMMANDS.get(
            self.params["tool"], []
        )
        # The same for every one-off container of the run: read the env file and the secrets once.
        config = app_container.config_of(self.params)
        module.no_log_values.update(app_container.secret_values(config))
        common = {
            "labels": {f"{app_container.LABEL}.migration": self.instance},
            **({"network": self.params["network"]} if self.params["network"] else {}),
        }
        # Reading the state needs no app data; applying may write some (uploads of a data migration).
        self.state_options = {**app_container.container_options(config, self.params, data=False), **common}
        self.apply_options = {**app_container.container_options(config, self.params), **common}

    # The one-off containers

    def run_in_image(self, argv, timeout, options):
        """Runs ``argv`` in a container of the release; returns (exit code, stdout, stdout and stderr)."""
        status, stdout, combined = app_container.run_one_off(
            self.client, self.params["image"], f"{self.instance}-migrate", argv, options, timeout
        )
        if status is None:
            raise MigrationFailed(
                f"{' '.join(argv)} did not finish within {timeout:.0f} s and was stopped", output=self.tail(combined)
            )
        return status, stdout, combined

    def state(self):
        commands = migration_state.state_commands(self.params["tool"], self.tool_command, self.params["check_command"])
        # The reads are independent: one container each, side by side.
        with ThreadPoolExecutor(max_workers=len(commands)) as pool:
            runs = {
                name: pool.submit(self.run_in_image, argv, self.params["state_timeout"], self.state_options)
                for name, argv in commands.items()
            }
        outputs = {}
        state = None
        for name, argv in commands.items():
            status, stdout, combined = runs[name].result()
            if status != 0:
                state = migration_state.database_ahead(self.params["tool"], name, combined)
                if state:
                    break
                raise MigrationFailed(
                    f"reading the migration state failed: {' '.join(argv)} exited with {status}",
                    output=self.tail(combined),
                )
            outputs[name] = stdout
        state = state or migration_state.parse(self.params["tool"], outputs)
        if state.unknown:
            self.module.warn(
                f"the database has {', '.join(state.unknown)} applied, which {self.params['image']} does not ship "
                "(a newer release migrated it, and a rollback never reverts migrations): "
                + (f"still applying {', '.join(state.pending)}" if state.pending else "nothing to apply")
            )
        return state

    # The run

    def plan(self):
        before = self.state()
        return dict(self.plan_of(before), changed=bool(before.pending))

    def run(self, connection):
        lock_name = self.params["lock_name"] or f"appstack.db_migrate:{self.instance}"
        try:
            waited = advisory_lock.acquire(connection, lock_name, self.params["lock_timeout"])
        except advisory_lock.LockTimeout as timeout:
            raise MigrationFailed(str(timeout), lock_holder=timeout.holder) from None
        try:
            extensions = self.check_extensions(connection)
            return dict(self.apply(connection), lock_waited=round(waited, 2), extensions=extensions)
        finally:
            advisory_lock.release(connection, lock_name)

    def check_extensions(self, connection):
        """The versions of the extensions the release needs; a missing one stops the run before anything changes
        (on a server the collection does not run, the provider enables extensions)."""
        wanted = self.params["required_extensions"]
        if not wanted:
            return {}
        with connection.cursor() as cursor:
            cursor.execute(EXTENSIONS_QUERY, (wanted,))
            found = dict(cursor.fetchall())
        missing = [name for name in wanted if name not in found]
        if missing:
            raise MigrationFailed(
                f"the database has no extension {', '.join(missing)}: the release needs it and nothing was migrated. "
                "On a managed PostgreSQL the provider enables extensions (its console, or CREATE EXTENSION as its "
                "admin role); on the inventory's db hosts, list it in postgresql_databases[].extensions",
                extensions=found,
            )
        return found

    def apply(self, connection):
        before = self.state()
        result = self.plan_of(before)
        if not before.pending:
            return result
        backup = self.backup(before) if self.params["backup"] else {"backup_id": None}
        result.update(backup)
        schema_before = schema_fingerprint.fingerprint(connection)
        argv = migration_state.apply_command(self.params["tool"], self.tool_command, self.params["apply_command"])
        started = time.monotonic()
        app_container.ensure_volumes(self.client, self.params)
        try:
            status, _stdout, combined = self.run_in_image(argv, self.params["timeout"], self.apply_options)
        except MigrationFailed as failure:
            failure.details.update(backup)
            raise
        result["duration"] = round(time.monotonic() - started, 2)
        result["output"] = self.tail(combined)
        after = self.state()
        result.update(revision_after=after.revision, applied=migration_state.applied_between(before, after))
        if status != 0:
            schema_changed = schema_fingerprint.fingerprint(connection) != schema_before
            raise MigrationFailed(
                f"the migration failed ({' '.join(argv)} exited with {status}); nothing was switched. "
                + self.describe_database(before, after, schema_changed, backup["backup_id"]),
                schema_changed=schema_changed,
                **result,
            )
        return dict(result, changed=True)

    @staticmethod
    def plan_of(state):
        return {
            "changed": False,
            "revision_before": state.revision,
            "revision_after": state.revision,
            "pending": state.pending,
            "database_ahead": list(state.unknown),
            "applied": [],
            "backup_id": None,
            "duration": 0.0,
            "output": [],
        }

    @staticmethod
    def describe_database(before, after, schema_changed, backup_id):
        """What is known of the database after a failed migration: its revision, and its schema's fingerprint."""
        restore = f"restore backup {backup_id} or repair by hand" if backup_id else "repair by hand (no backup)"
        if after.revision == before.revision and after.pending == before.pending:
            if not schema_changed:
                return (
                    f"The database is still at revision {before.revision or 'base'} and its schema is unchanged: "
                    f"the failing transaction was rolled back. Backup taken before: {backup_id or 'none'}."
                )
            return (
                f"The database is still at revision {before.revision or 'base'}, but the schema changed although the "
                f"revision did not (part of the migration committed outside its transaction): {restore}."
            )
        applied = migration_state.applied_between(before, after)
        return (
            f"The database moved from revision {before.revision or 'base'} to {after.revision or 'base'} "
            f"({', '.join(applied) or 'partly'} committed before the failure); "
            f"still pending: {', '.join(after.pending) or 'nothing'}. Backup taken before: {backup_id or 'none'}."
        )

    def backup(self, state):
        conninfo, password = self.conninfo_and_password()
        if self.params["backup_command"]:
            argv = self.params["backup_command"]
            rc, out, err = self.run_backup(argv, environ_update={"APPSTACK_DATABASE": conninfo, "PGPASSWORD": password})
            if rc != 0:
                raise MigrationFailed(
                    f"the backup before migrating failed ({' '.join(argv)} exited with {rc}); no migration was applied",
                    output=self.tail(out + err),
                )
            lines = out.strip().splitlines()
            return {"backup_id": lines[-1].strip() if lines else None}
        return self.pg_dump(state, conninfo, password)

    def conninfo_and_password(self):
        """The database's connection string without its password, and the password: a password goes in the
        environment, never on a command line."""
        connection = psycopg.conninfo.conninfo_to_dict(self.params["database_url"])
        password = str(connection.pop("password", "") or "")
        return psycopg.conninfo.make_conninfo(**connection), password

    def pg_dump(self, state, conninfo, password):
        directory = self.params["backup_dir"]
        os.makedirs(directory, mode=0o700, exist_ok=True)
        stamp = time.strftime("%Y%m%dT%H%M%SZ", time.gmtime())
        name = f"{self.instance}-{stamp}-at-{_file_label(state.revision)}.dump"
        path = os.path.join(directory, name)
        argv = ["pg_dump", "--format=custom", f"--file={path}", f"--dbname={conninfo}"]
        # The dump is readable by root only.
        rc, _out, err = self.run_backup(argv, environ_update={"PGPASSWORD": password}, umask=0o077)
        if rc != 0:
            raise MigrationFailed(
                f"the backup before migrating failed (pg_dump exited with {rc}); no migration was applied",
                output=self.tail(err),
            )
        return {"backup_id": name, "backup_path": path}

    def run_backup(self, argv, **options):
        """Run a backup program; one that is not installed is a failed backup, not a crash."""
        try:
            return self.module.run_command(argv, handle_exceptions=False, **options)
        except OSError as error:
            hint = "postgresql-client" if argv[0] == "pg_dump" else "the backup role"
            raise MigrationFailed(
                f"the backup before migrating could not start ({argv[0]}: {error.strerror}; install {hint}, set "
                "backup_command, or set backup=false); no migration was applied"
            ) from None

    def tail(self, text):
        return text.rstrip().splitlines()[-self.params["output_lines"] :]


def argument_spec():
    return {
        "app": {"type": "str", "required": True},
        "deployment": {"type": "str", "required": True, "aliases": ["env"]},
        "tool": {"type": "str", "required": True, "choices": list(migration_state.TOOLS)},
        "image": {"type": "str", "required": True},
        "tool_command": {"type": "list", "elements": "str"},
        "apply_command": {"type": "list", "elements": "str"},
        "check_command": {"type": "list", "elements": "str"},
        "database_url": {"type": "str", "required": True, "no_log": True},
        **app_container.ARGUMENT_SPEC,
        "network": {"type": "str"},
        "lock_name": {"type": "str"},
        "lock_timeout": {"type": "float", "default": 300},
        "timeout": {"type": "float", "default": 1800},
        "state_timeout": {"type": "float", "default": 120},
        "backup": {"type": "bool", "default": True},
        "backup_dir": {"type": "path", "default": "/var/backups/appstack/migrations"},
        "backup_command": {"type": "list", "elements": "str"},
        "output_lines": {"type": "int", "default": 40},
        "required_extensions": {"type": "list", "elements": "str", "default": []},
    }


def argument_problems(params):
    """What the argument spec cannot say: which commands belong to which tool."""
    if params["tool"] == "command":
        missing = [name for name in ("apply_command", "check_command") if not params[name]]
        return f"tool=command needs {' and '.join(missing)}" if missing else None
    given = [name for name in ("apply_command", "check_command") if params[name]]
    if given:
        return f"{' and '.join(given)} only apply to tool=command; {params['tool']} has its own commands"
    return None


def _file_label(revision):
    """The database's revision in a file name: as it is when short (an Alembic revision), else a hash of it (every
    app's head of a Django project)."""
    if not revision:
        return "base"
    label = revision.replace(",", "+")
    return label if len(label) <= 40 else "state-" + hashlib.sha256(revision.encode()).hexdigest()[:12]


def main():
    module = AnsibleModule(argument_spec=argument_spec(), supports_check_mode=True)
    problem = argument_problems(module.params)
    if problem:
        module.fail_json(msg=problem)
    if DOCKER_IMPORT_ERROR:
        if module.check_mode:
            exit_unplanned(module, "Docker SDK not installed yet: assuming every migration is pending")
        module.fail_json(msg=missing_required_lib("docker (python3-docker)"), exception=DOCKER_IMPORT_ERROR)
    if PSYCOPG_IMPORT_ERROR and not module.check_mode:
        module.fail_json(msg=missing_required_lib("psycopg (python3-psycopg)"), exception=PSYCOPG_IMPORT_ERROR)
    try:
        client = docker.from_env()
        client.images.get(module.params["image"])
    except docker.errors.ImageNotFound:
        if module.check_mode:
            exit_unplanned(
                module, f"image {module.params['image']} is not on this host yet: cannot list pending migrations"
            )
        module.fail_json(msg=f"image {module.params['image']} is not on this host: pull or load it first")
    except docker.errors.DockerException as error:
        module.fail_json(msg=f"Docker error: {error}", exception=traceback.format_exc())
    missing = app_container.missing(app_container.config_of(module.params))
    if missing:
        if module.check_mode:
            # A changed configuration gets a directory of its own, which check mode did not write.
            exit_unplanned(
                module,
                f"the release's configuration ({', '.join(missing)}) is not written yet: cannot read the migrations",
            )
        module.fail_json(msg=f"the release's configuration ({', '.join(missing)}) is not on this host: write it first")
    migration = Migration(module, client)
    try:
        result = migration.plan() if module.check_mode else run_locked(module, migration)
    except MigrationFailed as failure:
        module.fail_json(msg=str(failure), **failure.details)
    except docker.errors.DockerException as error:
        module.fail_json(msg=f"Docker error: {error}", exception=traceback.format_exc())
    module.exit_json(**result)


def exit_unplanned(module, why):
    """Check mode that cannot read the state: every migration is possibly pending, so a change is reported."""
    module.warn(why)
    module.exit_json(changed=True, pending=None, applied=[], backup_id=None)


def run_locked(module, migration):
    # Named in pg_stat_activity, so a run waiting for the lock can say who holds it.
    application = f"db_migrate {migration.instance} on {socket.gethostname()} pid {os.getpid()}"[:63]
    try:
        connection = psycopg.connect(
            module.params["database_url"], autocommit=True, application_name=application, connect_timeout=10
        )
    except psycopg.Error as error:
        raise MigrationFailed(
            f"cannot reach the database for the migration lock: {database_errors.explain(str(error).strip())}"
        ) from None
    with connection:
        return migration.run(connection)


if __name__ == "__main__":
    main()
