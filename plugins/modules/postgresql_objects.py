#!/usr/bin/python
# Copyright: (c) 2026, appstack.platform maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: postgresql_objects
short_description: Keep a cluster's login roles, databases and extensions as declared, in one connection
version_added: 0.1.0
description:
  - Reads the roles, memberships, databases and extensions it is given from the catalogs in one session (one more
    per database whose extensions it checks) and runs only the statements that make them as declared. The
    community.postgresql modules take a module run per role, database and extension; on a host with a few of each
    that is seconds per converge for no change.
  - Roles come first (a database's owner must exist), then databases, their extensions and C(CONNECT), then the
    roles to drop (a role that owns a database cannot be dropped before it), then O(update_extensions).
  - PUBLIC's C(CONNECT) is revoked on every database of O(databases) it keeps, since PostgreSQL lets every role connect
    to every database and environments sharing a cluster would reach each other's. The owner, superusers and roles
    granted C(CONNECT) still connect.
  - Passwords are sent as SCRAM-SHA-256 verifiers made here (SASLprep, the server's C(scram_iterations)), so a
    password never reaches the server's log; a stored verifier is checked against the password the same way a
    login is. A password stored as MD5, or with another iteration count than the server's C(scram_iterations) now
    is, is stored again (the count decides what each login costs the client, and an attacker who has the verifier).
  - Connects as the task's user (C(become_user=postgres)) over PostgreSQL's Unix socket.
author: appstack.platform maintainers (@appstack)
requirements:
  - psycopg 3 (C(python3-psycopg) on Debian)
attributes:
  check_mode:
    support: full
    description: Reports in RV(actions) what it would run; runs nothing.
  diff_mode:
    support: none
    description: Reports no diff; RV(actions) names each statement it ran.
options:
  port:
    description: The port of the cluster (it names the socket).
    type: int
    default: 5432
  roles:
    description: Roles and their attributes, passwords and memberships.
    type: list
    elements: dict
    default: []
    suboptions:
      name:
        description: Role name.
        type: str
        required: true
      password:
        description:
          - Password in plain text, or a SCRAM-SHA-256 verifier (stored as given).
          - Unset, the role's password is left as it is.
        type: str
      attributes:
        description:
          - Comma-separated attributes as C(CREATE ROLE) takes them (C(LOGIN), C(NOSUPERUSER), C(CREATEDB), ...).
          - Attributes not named are left as they are on an existing role (PostgreSQL's defaults on a new one).
        type: str
        default: LOGIN
      member_of:
        description: Roles this role is made a member of (memberships it has besides are kept).
        type: list
        elements: str
        default: []
      state:
        description: Whether the role exists. An absent role is dropped after the databases.
        type: str
        choices: [present, absent]
        default: present
  databases:
    description: Databases with their owners and extensions.
    type: list
    elements: dict
    default: []
    suboptions:
      name:
        description: Database name.
        type: str
        required: true
      owner:
        description: Role that owns the database.
        type: str
        default: postgres
      encoding:
        description: Encoding of a new database (created from C(template0)); an existing database keeps its own.
        type: str
        default: UTF8
      extensions:
        description: Extensions created in the database when missing (their package's default version).
        type: list
        elements: str
        default: []
      state:
        description: Whether the database exists. C(absent) drops it with its data.
        type: str
        choices: [present, absent]
        default: present
  update_extensions:
    description:
      - Extensions updated to their installed package's default version in every database that allows connections,
        including databases not in O(databases) (an extension lives in each database that created it).
    type: list
    elements: str
    default: []
"""

EXAMPLES = r"""
- name: Manage the app's login role and database
  appstack.platform.postgresql_objects:
    roles:
      - {name: shop, password: "{{ shop_db_password }}"}
    databases:
      - {name: shop, owner: shop, extensions: [vector]}
    update_extensions: [vector]
  become: true
  become_user: postgres
  no_log: true

- name: Let the exporter log in as a member of pg_monitor
  appstack.platform.postgresql_objects:
    port: 5433
    roles:
      - name: metrics
        password: "{{ metrics_password }}"
        attributes: LOGIN,NOSUPERUSER,NOCREATEDB,NOCREATEROLE
        member_of: [pg_monitor]
  become: true
  become_user: postgres
  no_log: true
"""

RETURN = r"""
actions:
  description: What was run (in check mode, would be), in order; passwords are not shown.
  returned: always
  type: list
  elements: str
  sample: ["CREATE ROLE shop", "CREATE DATABASE shop OWNER shop", "CREATE EXTENSION vector in shop",
           "REVOKE CONNECT ON DATABASE shop FROM PUBLIC", "ALTER EXTENSION vector UPDATE in shop (0.7.4 to 0.8.0)"]
"""

import base64
import hashlib
import hmac
import os
import re
import stringprep
import traceback
import unicodedata

from ansible.module_utils.basic import AnsibleModule, missing_required_lib

try:
    import psycopg
    from psycopg import sql
    from psycopg.rows import dict_row
except ImportError:
    PSYCOPG_IMPORT_ERROR = traceback.format_exc()
else:
    PSYCOPG_IMPORT_ERROR = None

# CREATE ROLE's keywords and the pg_authid columns they set.
ATTRIBUTES = {
    "SUPERUSER": "rolsuper",
    "CREATEDB": "rolcreatedb",
    "CREATEROLE": "rolcreaterole",
    "INHERIT": "rolinherit",
    "LOGIN": "rolcanlogin",
    "REPLICATION": "rolreplication",
    "BYPASSRLS": "rolbypassrls",
}
SCRAM_VERIFIER = re.compile(r"^SCRAM-SHA-256\$(\d+):([A-Za-z0-9+/=]+)\$([A-Za-z0-9+/=]+):([A-Za-z0-9+/=]+)$")
# PostgreSQL's default before scram_iterations existed (16).
DEFAULT_SCRAM_ITERATIONS = 4096
SALT_BYTES = 16

ROLES_QUERY = f"SELECT rolname, rolpassword, {', '.join(ATTRIBUTES.values())} FROM pg_authid WHERE rolname = ANY(%s)"
MEMBERSHIPS_QUERY = """
SELECT member.rolname, parent.rolname FROM pg_auth_members m
JOIN pg_roles member ON member.oid = m.member JOIN pg_roles parent ON parent.oid = m.roleid
WHERE member.rolname = ANY(%s)
"""
DATABASES_QUERY = """
SELECT d.datname, pg_get_userbyid(d.datdba),
       d.datacl IS NULL
       OR EXISTS (SELECT 1 FROM aclexplode(d.datacl) a WHERE a.grantee = 0 AND a.privilege_type = 'CONNECT')
FROM pg_database d WHERE d.datname = ANY(%s)
"""
CONNECTABLE_DATABASES_QUERY = (
    "SELECT datname FROM pg_database WHERE datallowconn AND NOT datistemplate ORDER BY datname"
)
EXTENSIONS_QUERY = """
SELECT e.extname, e.extversion, a.default_version FROM pg_extension e
JOIN pg_available_extensions a ON a.name = e.extname WHERE e.extname = ANY(%s)
"""


def argument_spec():
    return {
        "port": {"type": "int", "default": 5432},
        "roles": {
            "type": "list",
            "elements": "dict",
            "default": [],
            "options": {
                "name": {"type": "str", "required": True},
                "password": {"type": "str", "no_log": True},
                "attributes": {"type": "str", "default": "LOGIN"},
                "member_of": {"type": "list", "elements": "str", "default": []},
                "state": {"type": "str", "choices": ["present", "absent"], "default": "present"},
            },
        },
        "databases": {
            "type": "list",
            "elements": "dict",
            "default": [],
            "options": {
                "name": {"type": "str", "required": True},
                "owner": {"type": "str", "default": "postgres"},
                "encoding": {"type": "str", "default": "UTF8"},
                "extensions": {"type": "list", "elements": "str", "default": []},
                "state": {"type": "str", "choices": ["present", "absent"], "default": "present"},
            },
        },
        "update_extensions": {"type": "list", "elements": "str", "default": []},
    }


def parse_attributes(text):
    """{pg_authid column: wanted value} of a comma-separated attribute list; ValueError names an unknown one."""
    wanted = {}
    for word in (part.strip().upper() for part in text.split(",")):
        if not word:
            continue
        keyword, value = (word[2:], False) if word.startswith("NO") and word[2:] in ATTRIBUTES else (word, True)
        if keyword not in ATTRIBUTES:
            raise ValueError(f"unknown role attribute {word!r} (known: {', '.join(ATTRIBUTES)} and their NO forms)")
        wanted[ATTRIBUTES[keyword]] = value
    return wanted


def attribute_keywords(columns):
    names = {column: keyword for keyword, column in ATTRIBUTES.items()}
    return [names[column] if value else f"NO{names[column]}" for column, value in columns.items()]


def saslprep(password):
    """The password as PostgreSQL's pg_saslprep prepares it before hashing (RFC 4013), so that a verifier made here
    matches what a client's login computes; a password SASLprep prohibits is used as it is, as PostgreSQL does."""
    mapped = "".join(
        " " if stringprep.in_table_c12(char) else char for char in password if not stringprep.in_table_b1(char)
    )
    prepared = unicodedata.normalize("NFKC", mapped)
    prohibited = (
        stringprep.in_table_c12,
        stringprep.in_table_c21_c22,
        stringprep.in_table_c3,
        stringprep.in_table_c4,
        stringprep.in_table_c5,
        stringprep.in_table_c6,
        stringprep.in_table_c7,
        stringprep.in_table_c8,
        stringprep.in_table_c9,
        stringprep.in_table_a1,
    )
    if any(check(char) for char in prepared for check in prohibited):
        return password
    right_to_left = [stringprep.in_table_d1(char) for char in prepared]
    if any(right_to_left) and (
        any(stringprep.in_table_d2(char) for char in prepared) or not (right_to_left[0] and right_to_left[-1])
    ):
        return password
    return prepared


def _scram_keys(password, salt, iterations):
    salted = hashlib.pbkdf2_hmac("sha256", saslprep(password).encode(), salt, iterations)
    stored_key = hashlib.sha256(hmac.new(salted, b"Client Key", "sha256").digest()).digest()
    server_key = hmac.new(salted, b"Server Key", "sha256").digest()
    return stored_key, server_key


def scram_verifier(password, iterations, salt=None):
    """The SCRAM-SHA-256 verifier PostgreSQL stores in pg_authid.rolpassword."""
    salt = os.urandom(SALT_BYTES) if salt is None else salt
    stored_key, server_key = _scram_keys(password, salt, iterations)
    salt_text, stored_text, server_text = (base64.b64encode(value).decode() for value in (salt, stored_key, server_key))
    return f"SCRAM-SHA-256${iterations}:{salt_text}${stored_text}:{server_text}"


def iterations_of(verifier):
    return int(SCRAM_VERIFIER.match(verifier).group(1))


def password_matches(stored, password):
    """Whether a login with ``password`` would pass the stored verifier (or ``password`` is that verifier)."""
    if stored is None:
        return False
    if SCRAM_VERIFIER.match(password):
        return stored == password
    match = SCRAM_VERIFIER.match(stored)
    if not match:
        return False
    iterations, salt, stored_key, server_key = match.groups()
    keys = _scram_keys(password, base64.b64decode(salt), int(iterations))
    return hmac.compare_digest(keys[0], base64.b64decode(stored_key)) and hmac.compare_digest(
        keys[1], base64.b64decode(server_key)
    )


def password_to_store(stored, password, scram_iterations):
    """(verifier, why) when ``password`` is to be stored over ``stored``; None when the stored one is it."""
    if password is None:
        return None
    if SCRAM_VERIFIER.match(password):
        return None if stored == password else (password, "new")
    if not password_matches(stored, password):
        return scram_verifier(password, scram_iterations), "new"
    if iterations_of(stored) != scram_iterations:
        return scram_verifier(password, scram_iterations), f"same, {scram_iterations} iterations"
    return None


class Action:
    """A statement, the database it runs in (None: the maintenance connection) and how the result names it."""

    def __init__(self, description, statement, database=None):
        self.description, self.statement, self.database = description, statement, database


def plan_roles(roles, existing, memberships, scram_iterations):
    """Statements for the present roles: ``existing`` maps a role name to its pg_authid row (a dict), ``memberships``
    a role name to the roles it is a member of."""
    actions = []
    for role in roles:
        if role["state"] != "present":
            continue
        name, password, row = role["name"], role["password"], existing.get(role["name"])
        wanted = parse_attributes(role["attributes"])
        if row is not None:
            wanted = {column: value for column, value in wanted.items() if row[column] != value}
        clauses, described = [], []
        if wanted:
            keywords = " ".join(attribute_keywords(wanted))
            clauses.append(sql.SQL(keywords))
            described.append(keywords)
        new_password = password_to_store(row and row["rolpassword"], password, scram_iterations)
        if new_password:
            verifier, why = new_password
            clauses.append(sql.SQL("PASSWORD {}").format(sql.Literal(verifier)))
            described.append(f"PASSWORD ({why})")
        if row is None or clauses:
            verb = "CREATE ROLE" if row is None else "ALTER ROLE"
            statement = sql.SQL("{} {}").format(sql.SQL(verb), sql.Identifier(name))
            if clauses:
                statement += sql.SQL(" WITH ") + sql.SQL(" ").join(clauses)
            actions.append(Action(" ".join([verb, name, *(["WITH"] if described else []), *described]), statement))
        actions.extend(
            Action(
                f"GRANT {parent} TO {name}",
                sql.SQL("GRANT {} TO {}").format(sql.Identifier(parent), sql.Identifier(name)),
            )
            for parent in role["member_of"]
            if parent not in memberships.get(name, ())
        )
    return actions


def plan_role_drops(roles, existing):
    return [
        Action(f"DROP ROLE {role['name']}", sql.SQL("DROP ROLE {}").format(sql.Identifier(role["name"])))
        for role in roles
        if role["state"] == "absent" and role["name"] in existing
    ]


def plan_databases(databases, existing):
    """Statements for the databases: ``existing`` maps a name to (owner, whether PUBLIC may connect)."""
    actions = []
    for database in databases:
        name, owner = database["name"], database["owner"]
        identifier = sql.Identifier(name)
        if database["state"] == "absent":
            if name in existing:
                actions.append(Action(f"DROP DATABASE {name}", sql.SQL("DROP DATABASE {}").format(identifier)))
            continue
        current_owner, public_connect = existing.get(name, (None, True))
        if name not in existing:
            actions.append(
                Action(
                    f"CREATE DATABASE {name} OWNER {owner}",
                    sql.SQL("CREATE DATABASE {} OWNER {} ENCODING {} TEMPLATE template0").format(
                        identifier, sql.Identifier(owner), sql.Literal(database["encoding"])
                    ),
                )
            )
        elif current_owner != owner:
            actions.append(
                Action(
                    f"ALTER DATABASE {name} OWNER TO {owner}",
                    sql.SQL("ALTER DATABASE {} OWNER TO {}").format(identifier, sql.Identifier(owner)),
                )
            )
        if public_connect:
            actions.append(
                Action(
                    f"REVOKE CONNECT ON DATABASE {name} FROM PUBLIC",
                    sql.SQL("REVOKE CONNECT ON DATABASE {} FROM PUBLIC").format(identifier),
                )
            )
    return actions


def plan_extensions(database, wanted, installed):
    """CREATE EXTENSION for each of ``wanted`` not in ``installed`` (the extension names the database has)."""
    return [
        Action(
            f"CREATE EXTENSION {extension} in {database}",
            sql.SQL("CREATE EXTENSION IF NOT EXISTS {}").format(sql.Identifier(extension)),
            database,
        )
        for extension in wanted
        if extension not in installed
    ]


def plan_extension_updates(database, rows):
    """ALTER EXTENSION UPDATE for each (name, version, default version) row whose version is not the default."""
    return [
        Action(
            f"ALTER EXTENSION {name} UPDATE in {database} ({version} to {default})",
            sql.SQL("ALTER EXTENSION {} UPDATE").format(sql.Identifier(name)),
            database,
        )
        for name, version, default in rows
        if version != default
    ]


class Cluster:
    """Sessions over the socket as the task's user, one per database, opened when first needed."""

    def __init__(self, port):
        self.port, self.sessions = port, {}

    def session(self, database="postgres"):
        if database not in self.sessions:
            self.sessions[database] = psycopg.connect(
                dbname=database, port=self.port, autocommit=True, application_name="appstack postgresql_objects"
            )
        return self.sessions[database]

    def rows(self, query, parameters=(), database="postgres", row_factory=None):
        with self.session(database).cursor(row_factory=row_factory) as cursor:
            cursor.execute(query, parameters)
            return cursor.fetchall()

    def run(self, action):
        with self.session(action.database or "postgres").cursor() as cursor:
            cursor.execute(action.statement)

    def close(self):
        for session in self.sessions.values():
            session.close()


def converge(module, cluster):
    params, done = module.params, []
    check_mode = module.check_mode

    def apply(actions):
        for action in actions:
            if not check_mode:
                try:
                    cluster.run(action)
                except psycopg.Error as error:
                    module.fail_json(
                        msg=f"{action.description} failed: {str(error).strip()}",
                        actions=[item.description for item in done],
                    )
            done.append(action)

    role_names = [role["name"] for role in params["roles"]]
    existing_roles = {row["rolname"]: row for row in cluster.rows(ROLES_QUERY, (role_names,), row_factory=dict_row)}
    memberships = {}
    for member, parent in cluster.rows(MEMBERSHIPS_QUERY, (role_names,)):
        memberships.setdefault(member, set()).add(parent)
    iterations = cluster.rows("SELECT current_setting('scram_iterations', true)")[0][0]
    apply(plan_roles(params["roles"], existing_roles, memberships, int(iterations or DEFAULT_SCRAM_ITERATIONS)))

    names = [database["name"] for database in params["databases"]]
    existing = {name: (owner, public) for name, owner, public in cluster.rows(DATABASES_QUERY, (names,))}
    apply(plan_databases(params["databases"], existing))
    for database in params["databases"]:
        if database["state"] != "present" or not database["extensions"]:
            continue
        if database["name"] in existing or not check_mode:
            installed = {row[0] for row in cluster.rows(EXTENSIONS_QUERY, (database["extensions"],), database["name"])}
        else:
            installed = set()
        apply(plan_extensions(database["name"], database["extensions"], installed))

    apply(plan_role_drops(params["roles"], existing_roles))
    if params["update_extensions"]:
        for (name,) in cluster.rows(CONNECTABLE_DATABASES_QUERY):
            rows = cluster.rows(EXTENSIONS_QUERY, (params["update_extensions"],), name)
            apply(plan_extension_updates(name, rows))
    return {"changed": bool(done), "actions": [action.description for action in done]}


def main():
    module = AnsibleModule(argument_spec=argument_spec(), supports_check_mode=True)
    if PSYCOPG_IMPORT_ERROR and module.check_mode:
        # Check mode before the run that installs it (an upgrade from a release that used psycopg2).
        module.warn("psycopg is not installed yet: cannot read the cluster's roles and databases")
        module.exit_json(changed=True, actions=[])
    if PSYCOPG_IMPORT_ERROR:
        module.fail_json(msg=missing_required_lib("psycopg (python3-psycopg)"), exception=PSYCOPG_IMPORT_ERROR)
    for role in module.params["roles"]:
        try:
            parse_attributes(role["attributes"])
        except ValueError as error:
            module.fail_json(msg=f"role {role['name']}: {error}")
    cluster = Cluster(module.params["port"])
    try:
        result = converge(module, cluster)
    except psycopg.Error as error:
        module.fail_json(msg=f"PostgreSQL on port {module.params['port']}: {str(error).strip()}")
    finally:
        cluster.close()
    module.exit_json(**result)


if __name__ == "__main__":
    main()
