"""postgresql_objects' logic: SCRAM verifiers as PostgreSQL makes and checks them, and the statements it plans from a
cluster's state. Its sessions with a real cluster are proven in molecule/postgresql, pgbouncer and stack."""

import pytest

from ansible_collections.appstack.platform.plugins.modules import postgresql_objects as objects

# Made by PostgreSQL 17 (Debian 13): `CREATE ROLE ... PASSWORD '...'` with password_encryption=scram-sha-256, read back
# from pg_authid.
POSTGRESQL_VERIFIERS = {
    "correct horse": "SCRAM-SHA-256$4096:znEEgiNYUGFZoBBU+xPbsg==$ix1mvq9LuVXLerYkI98Qj6pK+PvsqHced3u7SjSMKlE="
    ":WZs9Rh1wBKvjs74sgBstMa2rOX0nqWHt2ked8Qwb64s=",
    # SASLprep's NFKC turns the ligature into "fi" before hashing.
    "pässwörd \ufb01": "SCRAM-SHA-256$4096:GeyfXQzLJFVu71x98j3aOQ==$zbhJtwCnI6G/qj+ZUWQ3hIpweZ51Gv1zDXAIo9Br1kc="
    ":4HW0SRRMfogcX6bVqxka5oRSKRpdq2k7GUd0ac9OzFc=",
    # A control character is prohibited: PostgreSQL hashes the password as it is.
    "bad\u0007bell": "SCRAM-SHA-256$4096:/WvjNm926LnbBvDtnMBLJg==$hsMcy1AA1eROdHF53VlEwB19DA5RUQoZ2jqWYVe0vfQ="
    ":R5SEFEbhv8w/HSfubLmNj+0ArK2O1Mt2znDgURARpHE=",
    # scram_iterations=1000.
    "x": "SCRAM-SHA-256$1000:Y6j3P+tUTE7gpBacH2pd6g==$KV5yfLIa2fe43xR/l+oy7748bDpW48myJn40Qn9dz6g="
    ":cKIpcTNTDJ/b4Ybr6JpzjvJJyx23XzwPASdC7zPZyFY=",
}
LOGIN_ONLY = {column: column == "rolcanlogin" for column in objects.ATTRIBUTES.values()}


def role(name, **options):
    return {"name": name, "password": None, "attributes": "LOGIN", "member_of": [], "state": "present", **options}


def database(name, **options):
    return {"name": name, "owner": "postgres", "encoding": "UTF8", "extensions": [], "state": "present", **options}


def rendered(actions):
    return [(action.description, action.statement.as_string(), action.database) for action in actions]


@pytest.mark.parametrize(("password", "verifier"), POSTGRESQL_VERIFIERS.items())
def test_verifiers_postgresql_made_match_their_password_and_no_other(password, verifier):
    assert objects.password_matches(verifier, password)
    assert not objects.password_matches(verifier, password + "!")


def test_a_verifier_made_here_has_postgresql_form_and_matches():
    verifier = objects.scram_verifier("pässwörd \ufb01", 4096)
    assert objects.SCRAM_VERIFIER.match(verifier) and verifier.startswith("SCRAM-SHA-256$4096:")
    assert objects.password_matches(verifier, "pässwörd fi")
    stored = POSTGRESQL_VERIFIERS["correct horse"]
    salt = objects.base64.b64decode(stored.split("$")[1].split(":")[1])
    assert objects.scram_verifier("correct horse", 4096, salt) == stored


def test_a_verifier_given_as_the_password_is_compared_as_it_is():
    stored = POSTGRESQL_VERIFIERS["x"]
    assert objects.password_matches(stored, stored)
    assert not objects.password_matches(stored, POSTGRESQL_VERIFIERS["correct horse"])


def test_md5_or_no_password_never_matches_so_a_scram_verifier_replaces_it():
    assert not objects.password_matches("md5" + "0" * 32, "x")
    assert not objects.password_matches(None, "x")


def test_attributes_parse_to_catalog_columns_and_unknown_ones_are_named():
    assert objects.parse_attributes("login, NOSUPERUSER,noinherit,") == {
        "rolcanlogin": True,
        "rolsuper": False,
        "rolinherit": False,
    }
    with pytest.raises(ValueError, match="'NOLOGON'"):
        objects.parse_attributes("LOGIN,NOLOGON")


def test_a_new_role_is_created_with_its_attributes_a_verifier_and_its_memberships():
    actions = objects.plan_roles(
        [role("my-app", password="secret", attributes="LOGIN,NOSUPERUSER", member_of=["pg_monitor"])], {}, {}, 4096
    )
    (create, create_sql, create_database), grant = rendered(actions)
    assert create == "CREATE ROLE my-app WITH LOGIN NOSUPERUSER PASSWORD (new)"
    assert create_sql.startswith('CREATE ROLE "my-app" WITH LOGIN NOSUPERUSER PASSWORD \'SCRAM-SHA-256$4096:')
    assert "secret" not in create_sql and create_database is None
    verifier = create_sql.split("PASSWORD ")[1].strip("'")
    assert objects.password_matches(verifier, "secret")
    assert grant == ("GRANT pg_monitor TO my-app", 'GRANT "pg_monitor" TO "my-app"', None)


def test_a_role_as_declared_needs_nothing():
    row = {**LOGIN_ONLY, "rolname": "app", "rolpassword": POSTGRESQL_VERIFIERS["x"]}
    assert objects.plan_roles([role("app", password="x")], {"app": row}, {}, 1000) == []
    # No password declared: the stored one is left alone.
    assert objects.plan_roles([role("app")], {"app": {**row, "rolpassword": None}}, {}, 4096) == []


def test_a_password_stored_with_another_iteration_count_than_the_servers_is_stored_again():
    row = {**LOGIN_ONLY, "rolname": "app", "rolpassword": POSTGRESQL_VERIFIERS["x"]}
    ((description, statement, database_name),) = rendered(
        objects.plan_roles([role("app", password="x")], {"app": row}, {}, 4096)
    )
    assert description == "ALTER ROLE app WITH PASSWORD (same, 4096 iterations)" and database_name is None
    assert objects.password_matches(statement.split("PASSWORD ")[1].strip("'"), "x")
    # A verifier given as the password is kept as given, whatever its count.
    given = POSTGRESQL_VERIFIERS["x"]
    assert objects.plan_roles([role("app", password=given)], {"app": row}, {}, 4096) == []


def test_a_role_gets_only_the_attributes_and_password_that_differ():
    row = {**LOGIN_ONLY, "rolname": "app", "rolsuper": True, "rolpassword": POSTGRESQL_VERIFIERS["x"]}
    plan = objects.plan_roles(
        [role("app", password="y", attributes="LOGIN,NOSUPERUSER", member_of=["readers"])],
        {"app": row},
        {"app": {"readers"}},
        1000,
    )
    ((description, statement, database_name),) = rendered(plan)
    assert description == "ALTER ROLE app WITH NOSUPERUSER PASSWORD (new)" and database_name is None
    assert statement.startswith('ALTER ROLE "app" WITH NOSUPERUSER PASSWORD \'SCRAM-SHA-256$1000:')


def test_absent_roles_are_dropped_only_when_they_exist_and_after_the_rest():
    roles = [role("gone", state="absent"), role("never", state="absent")]
    assert objects.plan_roles(roles, {"gone": LOGIN_ONLY}, {}, 4096) == []
    assert rendered(objects.plan_role_drops(roles, {"gone": LOGIN_ONLY})) == [
        ("DROP ROLE gone", 'DROP ROLE "gone"', None)
    ]


def test_a_new_database_is_created_from_template0_and_closed_to_public():
    plan = objects.plan_databases([database("my shop", owner="shop", encoding="LATIN1")], {})
    assert rendered(plan) == [
        (
            "CREATE DATABASE my shop OWNER shop",
            'CREATE DATABASE "my shop" OWNER "shop" ENCODING \'LATIN1\' TEMPLATE template0',
            None,
        ),
        ("REVOKE CONNECT ON DATABASE my shop FROM PUBLIC", 'REVOKE CONNECT ON DATABASE "my shop" FROM PUBLIC', None),
    ]


def test_an_existing_database_gets_its_owner_and_connect_fixed_and_absent_ones_are_dropped():
    existing = {"kept": ("shop", False), "moved": ("postgres", False), "open": ("shop", True), "old": ("x", False)}
    plan = objects.plan_databases(
        [
            database("kept", owner="shop"),
            database("moved", owner="shop"),
            database("open", owner="shop"),
            database("old", state="absent"),
            database("missing", state="absent"),
        ],
        existing,
    )
    assert [action.description for action in plan] == [
        "ALTER DATABASE moved OWNER TO shop",
        "REVOKE CONNECT ON DATABASE open FROM PUBLIC",
        "DROP DATABASE old",
    ]


def test_missing_extensions_are_created_in_their_database():
    plan = objects.plan_extensions("shop", ["vector", "pg_stat_statements"], {"pg_stat_statements"})
    assert rendered(plan) == [("CREATE EXTENSION vector in shop", 'CREATE EXTENSION IF NOT EXISTS "vector"', "shop")]


def test_extensions_older_than_their_package_are_updated():
    rows = [("vector", "0.7.4", "0.8.0"), ("pg_trgm", "1.6", "1.6")]
    assert rendered(objects.plan_extension_updates("shop", rows)) == [
        ("ALTER EXTENSION vector UPDATE in shop (0.7.4 to 0.8.0)", 'ALTER EXTENSION "vector" UPDATE', "shop")
    ]
