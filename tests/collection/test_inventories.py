"""The example inventories run as they are: their secrets are vault-encrypted and nowhere in plain text, every
environment's variables resolve to that environment's database, login, ports and site, and the playbooks accept
them."""

import pathlib
import re

import pytest
import yaml
from collection_layout import PROJECT

INVENTORIES = PROJECT / "inventories"
VAULT_PASSWORD = INVENTORIES / "example-vault-password"
# Each example inventory and the environments it runs.
EXAMPLES = {"all-in-one": ["prod", "staging"], "prod": ["prod"], "managed": ["prod"]}
# The inventories whose PostgreSQL the collection runs (managed: a provider's), and those sharing common/services.yml.
OWN_DATABASE = ["all-in-one", "prod"]
SECRET_NAMES = ("password", "passphrase", "secret")


def plain_files(inventory):
    """The inventory's variable files but its vault, with the shared ones it links to."""
    return [path for path in sorted((INVENTORIES / inventory).rglob("*.yml")) if path.name != "vault.yml"]


def leaves(value):
    if isinstance(value, dict):
        for item in value.values():
            yield from leaves(item)
    elif isinstance(value, list):
        for item in value:
            yield from leaves(item)
    else:
        yield value


def named_secrets(value, inside_secrets=False):
    """(name, value) of every entry whose name says it is a secret, and of every app secret."""
    if isinstance(value, dict):
        for name, item in value.items():
            if isinstance(item, (dict, list)):
                yield from named_secrets(item, inside_secrets or name == "app_secrets")
            elif inside_secrets or any(word in str(name).lower() for word in SECRET_NAMES):
                yield name, item
    elif isinstance(value, list):
        for item in value:
            yield from named_secrets(item, inside_secrets)


@pytest.fixture
def vault(ansible):
    def read(inventory):
        result = ansible(
            "ansible-vault",
            "view",
            "--vault-password-file",
            str(VAULT_PASSWORD),
            str(INVENTORIES / inventory / "group_vars/all/vault.yml"),
        )
        assert result.returncode == 0, result.stderr
        return yaml.safe_load(result.stdout)

    return read


@pytest.fixture
def resolve(ansible):
    """The variables an app host sees in an inventory for one environment, templated (vault included)."""

    def run(inventory, env, expression):
        result = ansible(
            "ansible",
            "app",
            "-i",
            f"inventories/{inventory}",
            "--vault-password-file",
            str(VAULT_PASSWORD),
            "-e",
            f"app_env={env}",
            "-m",
            "ansible.builtin.debug",
            "-a",
            f"msg={{{{ {expression} }}}}",
        )
        assert result.returncode == 0, result.stdout + result.stderr
        answers = re.split(r"^\S+ \| SUCCESS => ", result.stdout, flags=re.MULTILINE)[1:]
        return [yaml.safe_load(answer)["msg"] for answer in answers]

    return run


@pytest.mark.parametrize("inventory", EXAMPLES)
def test_the_vault_is_encrypted_and_its_values_are_in_no_plain_file(inventory, vault):
    assert (INVENTORIES / inventory / "group_vars/all/vault.yml").read_text().startswith("$ANSIBLE_VAULT;1.1;AES256")
    values = [str(value) for value in leaves(vault(inventory))]
    assert values
    for path in plain_files(inventory):
        text = path.read_text()
        assert [value for value in values if value in text] == [], path


@pytest.mark.parametrize("inventory", EXAMPLES)
def test_every_secret_in_a_plain_file_comes_from_the_vault(inventory):
    for path in plain_files(inventory):
        for name, value in named_secrets(yaml.safe_load(path.read_text()) or {}):
            assert "vault_" in str(value), f"{path}: {name} is not read from the vault"


@pytest.mark.parametrize(("inventory", "env"), [(i, e) for i, envs in EXAMPLES.items() for e in envs])
def test_each_environment_resolves_to_its_own_database_ports_and_site(inventory, env, resolve, vault):
    secrets = vault(inventory)
    expression = (
        "{'url': app_secrets.DATABASE_URL, 'migration': app_migration.database_url,"
        " 'ports': app_services[0].slot_ports, 'host': app_services[0].verify_headers.Host,"
        " 'databases': postgresql_databases | default([]) | map(attribute='name'),"
        " 'pools': pgbouncer_databases | map(attribute='name'), 'sites': nginx_sites,"
        " 'redis_users': redis_users | map(attribute='name')}"
    )
    for resolved in resolve(inventory, env, expression):
        database = f"myapp_{env}"
        password = secrets["vault_database_passwords"][env]
        assert resolved["url"] == f"postgresql://{database}:{password}@db:6432/{database}"
        assert resolved["migration"].startswith(f"postgresql://{database}:{password}@")
        assert resolved["migration"].endswith(f":5432/{database}")
        for names in ("databases", "pools", "redis_users") if inventory in OWN_DATABASE else ("pools", "redis_users"):
            assert database in resolved[names], names
        site = next(site for site in resolved["sites"] if site["env"] == env)
        assert resolved["host"] == site["server_names"][0]
    ports = [resolve(inventory, env, "app_services[0].slot_ports")[0] for env in EXAMPLES[inventory]]
    assert len({tuple(p) for p in ports}) == len(ports), "environments on one host need their own slot ports"


# Each group a playbook names is in every example inventory, empty where it has no host: Ansible warns of a group it
# cannot find on every run, and a warning users learn to skip hides the next one. --list-hosts loads the playbook as
# --syntax-check does (a syntax error exits 4 the same) and then matches its host patterns.
@pytest.mark.parametrize("inventory", [*EXAMPLES, "demo"])
@pytest.mark.parametrize("playbook", sorted(path.name for path in (PROJECT / "playbooks").glob("*.yml")))
def test_the_playbooks_accept_the_inventory_without_a_warning(inventory, playbook, ansible):
    result = ansible(
        "ansible-playbook",
        "--list-hosts",
        "-i",
        f"inventories/{inventory}",
        "--vault-password-file",
        str(VAULT_PASSWORD),
        f"playbooks/{playbook}",
    )
    assert result.returncode == 0 and "WARNING" not in result.stderr, result.stdout + result.stderr


def test_the_shared_files_are_linked_not_copied():
    for inventory in EXAMPLES:
        for shared in ("app.yml", "services.yml") if inventory in OWN_DATABASE else ("app.yml",):
            link = INVENTORIES / inventory / "group_vars/all" / shared
            assert link.is_symlink() and link.resolve() == (INVENTORIES / "common" / shared).resolve()
    assert pathlib.Path(VAULT_PASSWORD).read_text().strip()


def test_the_managed_inventory_reaches_the_provider_through_verified_tls(resolve):
    expression = (
        "{'migration': app_migration.database_url, 'server': pgbouncer_server_host,"
        " 'sslmode': pgbouncer_server_tls_sslmode | default('verify-full'), 'groups': group_names,"
        " 'logins': pgbouncer_server_users | map(attribute='name'), 'dumps': backup_database_dumps}"
    )
    (resolved,) = resolve("managed", "prod", expression)
    assert "db" not in resolved["groups"] and "pgbouncer" in resolved["groups"]
    assert resolved["migration"].split("@")[1].startswith(resolved["server"] + ":5432/")
    assert resolved["sslmode"] == "verify-full"
    assert resolved["logins"] == ["myapp_prod"]
    assert resolved["dumps"] is True
