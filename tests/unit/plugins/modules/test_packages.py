"""packages against the controller's real dpkg: what it reports as installed, and what the module does about it."""

import os

import pytest

from ansible_collections.appstack.platform.plugins.modules import packages
from ansible_collections.appstack.platform.tests.unit.plugins.modules.fake_module import Failed, FakeModule

UNKNOWN = "appstack-no-such-package"


def packages_module(check_mode=False, **params):
    return FakeModule(packages.argument_spec(), params, check_mode)


@pytest.fixture
def fresh_index(tmp_path, monkeypatch):
    """apt's lists directory, refreshed a moment ago, in place of the controller's."""
    lists = tmp_path / "lists"
    lists.mkdir()
    (lists / "deb.debian.org_debian_dists_trixie_main_binary-amd64_Packages").write_text("")
    monkeypatch.setattr(packages, "APT_LISTS", str(lists))
    return lists


def test_installed_packages_are_nothing_to_do_and_need_no_apt():
    module = packages_module(names=["dpkg", "coreutils", "dpkg"])
    assert packages.run(module) == {"changed": False, "missing": [], "refreshed_index": False}
    assert [argv[0] for argv in module.commands] == ["dpkg-query"]


def test_check_mode_reports_what_is_missing_and_runs_no_apt():
    module = packages_module(check_mode=True, names=["dpkg", UNKNOWN])
    assert packages.run(module) == {"changed": True, "missing": [UNKNOWN], "refreshed_index": False}
    assert [argv[0] for argv in module.commands] == ["dpkg-query"]


def test_a_failed_install_fails_with_apts_own_words(fresh_index):
    module = packages_module(names=[UNKNOWN], install_recommends=False)
    module.answers["apt-get"] = [(100, "Reading package lists...\n", f"E: Unable to locate package {UNKNOWN}\n")]
    try:
        packages.run(module)
    except Failed as failed:
        assert f"E: Unable to locate package {UNKNOWN}" in failed.result["msg"]
        install = module.commands[-1]
        assert install[-2:] == ["install", UNKNOWN] and "APT::Install-Recommends=false" in install
        assert all(
            options["environ_update"]["DEBIAN_FRONTEND"] == "noninteractive" for options in module.command_options
        )
    else:
        raise AssertionError("the install of an unknown package did not fail")


def test_a_stale_index_is_refreshed_before_the_install(fresh_index):
    os.utime(fresh_index, (0, 0))
    module = packages_module(names=["dpkg", UNKNOWN])
    module.answers["apt-get"] = [(0, "", "")]
    with pytest.raises(Failed):
        packages.run(module)
    assert [argv[-1] for argv in module.commands] == [UNKNOWN, "update", UNKNOWN, UNKNOWN]
    assert not packages.index_is_stale(str(fresh_index), 3600, os.stat(fresh_index).st_mtime)


def test_an_install_that_apt_reports_done_is_checked_with_dpkg(fresh_index):
    module = packages_module(names=["dpkg", UNKNOWN])
    module.answers["apt-get"] = [(0, "", "")]
    try:
        packages.run(module)
    except Failed as failed:
        assert failed.result["msg"].endswith(f"[{UNKNOWN!r}]")
    else:
        raise AssertionError("a package dpkg does not know was reported installed")


def test_the_index_is_stale_when_old_or_absent(tmp_path):
    lists = tmp_path / "lists"
    assert packages.index_is_stale(str(lists), 3600, now=0)
    lists.mkdir()
    now = os.stat(lists).st_mtime
    assert packages.index_is_stale(str(lists), 3600, now), "an emptied lists directory holds no index"
    (lists / "deb.debian.org_debian_dists_trixie_main_binary-amd64_Packages").write_text("")
    now = os.stat(lists).st_mtime
    assert not packages.index_is_stale(str(lists), 3600, now + 60)
    assert packages.index_is_stale(str(lists), 3600, now + 3601)
