"""Every role, module and filter of the collection renders in ansible-doc with all its options."""

import pytest
import yaml
from collection_layout import PROJECT, ROLES

MODULES = sorted(path.stem for path in (PROJECT / "plugins/modules").glob("*.py") if path.stem != "__init__")
FILTERS = sorted(path.stem for path in (PROJECT / "plugins/filter").glob("*.yml"))


@pytest.mark.parametrize("role", ROLES)
def test_role_documents_every_variable(ansible, role):
    specs = yaml.safe_load((PROJECT / "roles" / role / "meta/argument_specs.yml").read_text())
    result = ansible("ansible-doc", "-t", "role", f"appstack.platform.{role}")
    assert result.returncode == 0, result.stderr
    for option in specs["argument_specs"]["main"]["options"]:
        assert option in result.stdout, f"{option} missing from ansible-doc of {role}"


def test_every_role_has_argument_specs():
    assert sorted(path.name for path in (PROJECT / "roles").iterdir() if path.is_dir()) == ROLES


@pytest.mark.parametrize("module", MODULES)
def test_module_renders(ansible, module):
    result = ansible("ansible-doc", f"appstack.platform.{module}")
    assert result.returncode == 0, result.stderr
    assert "EXAMPLES" in result.stdout and "RETURN VALUES" in result.stdout


@pytest.mark.parametrize("name", FILTERS)
def test_filter_renders_with_every_option(ansible, name):
    options = yaml.safe_load((PROJECT / "plugins/filter" / f"{name}.yml").read_text())["DOCUMENTATION"]["options"]
    result = ansible("ansible-doc", "-t", "filter", f"appstack.platform.{name}")
    assert result.returncode == 0, result.stderr
    for option in set(options) - {"_input"}:
        assert option in result.stdout, f"{option} missing from ansible-doc of {name}"
