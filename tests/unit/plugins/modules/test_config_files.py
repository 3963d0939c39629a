"""config_files on real files in a temporary directory, as the user running the tests."""

import grp
import os
import pwd
import stat

import pytest
from ansible.module_utils.common.arg_spec import ArgumentSpecValidator

from ansible_collections.appstack.platform.plugins.modules import config_files
from ansible_collections.appstack.platform.tests.unit.plugins.modules.fake_module import Failed, FakeModule

USER = pwd.getpwuid(os.getuid()).pw_name
GROUP = grp.getgrgid(os.getgid()).gr_name


def files_module(check_mode=False, diff=False, **params):
    module = FakeModule(config_files.argument_spec(), params, check_mode)
    module._diff = diff
    for entry in module.params["files"] + module.params["secret_files"]:
        entry.setdefault("force", True)
    return module


def entry(path, content, **attributes):
    return {"dest": str(path), "content": content, "owner": USER, "group": GROUP, "mode": "0640", **attributes}


def mode_of(path):
    return stat.S_IMODE(os.stat(path).st_mode)


def test_writes_directories_and_files_then_changes_nothing_on_a_second_run(tmp_path):
    params = {
        "directories": [{"path": str(tmp_path / "conf.d" / "sites"), "mode": "0750"}],
        "files": [entry(tmp_path / "main.conf", "a = 1\n"), entry(tmp_path / "conf.d" / "sites" / "shop.conf", "b\n")],
    }
    first = config_files.run(files_module(**params))
    assert first["changed"] and first["changed_directories"] == [str(tmp_path / "conf.d" / "sites")]
    assert first["changed_files"] == [str(tmp_path / "main.conf"), str(tmp_path / "conf.d" / "sites" / "shop.conf")]
    assert (tmp_path / "main.conf").read_text() == "a = 1\n" and mode_of(tmp_path / "main.conf") == 0o640
    assert mode_of(tmp_path / "conf.d" / "sites") == 0o750
    assert config_files.run(files_module(**params)) == {
        "changed": False,
        "changed_files": [],
        "removed_files": [],
        "changed_directories": [],
    }
    assert sorted(os.listdir(tmp_path / "conf.d" / "sites")) == ["shop.conf"], "no candidate is left behind"


def test_a_new_mode_alone_is_a_change(tmp_path):
    config_files.run(files_module(files=[entry(tmp_path / "a.conf", "x\n")]))
    result = config_files.run(files_module(files=[entry(tmp_path / "a.conf", "x\n", mode="0600")]))
    assert result["changed_files"] == [str(tmp_path / "a.conf")] and mode_of(tmp_path / "a.conf") == 0o600


def test_check_mode_reports_with_a_diff_and_writes_nothing(tmp_path):
    (tmp_path / "a.conf").write_text("old\n")
    os.chmod(tmp_path / "a.conf", 0o640)
    module = files_module(
        check_mode=True,
        diff=True,
        directories=[{"path": str(tmp_path / "new")}],
        files=[entry(tmp_path / "a.conf", "new\n"), entry(tmp_path / "b.conf", "b\n")],
        validate_commands=[["false"]],
    )
    result = config_files.run(module)
    assert result["changed_files"] == [str(tmp_path / "a.conf"), str(tmp_path / "b.conf")]
    assert result["changed_directories"] == [str(tmp_path / "new")]
    assert result["diff"][0] == {
        "before_header": str(tmp_path / "a.conf"),
        "after_header": str(tmp_path / "a.conf"),
        "before": "old\n",
        "after": "new\n",
    }
    assert (tmp_path / "a.conf").read_text() == "old\n" and sorted(os.listdir(tmp_path)) == ["a.conf"]
    assert module.commands == [], "check mode checks nothing"


def test_a_refused_set_puts_every_file_back_and_shows_the_checks_output(tmp_path):
    (tmp_path / "a.conf").write_text("old\n")
    os.chmod(tmp_path / "a.conf", 0o600)
    (tmp_path / "kept.conf").write_text("same\n")
    os.chmod(tmp_path / "kept.conf", 0o640)
    module = files_module(
        files=[
            entry(tmp_path / "kept.conf", "same\n"),
            entry(tmp_path / "a.conf", "new\n"),
            entry(tmp_path / "b.conf", "b\n"),
        ],
        validate_commands=[["true"], ["sh", "-c", "echo 'line 2: unknown directive' >&2; exit 1"]],
    )
    with pytest.raises(Failed) as failed:
        config_files.run(module)
    assert failed.value.result["output"] == "line 2: unknown directive"
    assert failed.value.result["msg"].endswith(":\nline 2: unknown directive")
    assert (
        failed.value.result["refused_by"][:2] == ["sh", "-c"]
        and "previous files are back" in failed.value.result["msg"]
    )
    assert failed.value.result["refused_files"] == [str(tmp_path / "a.conf"), str(tmp_path / "b.conf")]
    assert (tmp_path / "a.conf").read_text() == "old\n" and mode_of(tmp_path / "a.conf") == 0o600
    assert sorted(os.listdir(tmp_path)) == ["a.conf", "kept.conf"], "the file the task created is gone"


def test_the_checks_run_as_the_validate_user_and_only_when_a_file_changed(tmp_path):
    params = {
        "files": [entry(tmp_path / "a.conf", "x\n")],
        "validate_commands": [["check", "-c"]],
        "validate_user": "postgres",
    }
    module = files_module(**params)
    module.answers["runuser"] = [(0, "", "")]
    config_files.run(module)
    assert module.commands == [["runuser", "-u", "postgres", "--", "check", "-c"]]
    unchanged = files_module(**params)
    config_files.run(unchanged)
    assert unchanged.commands == []


def test_a_file_refused_by_its_own_check_leaves_the_live_one_untouched(tmp_path):
    (tmp_path / "users.acl").write_text("user default off\n")
    os.chmod(tmp_path / "users.acl", 0o640)
    module = files_module(
        files=[entry(tmp_path / "users.acl", "user broken\n", validate="checker --acl %s")],
    )
    module.answers["checker"] = [(1, "", "Error in user declaration 'broken'")]
    with pytest.raises(Failed) as failed:
        config_files.run(module)
    checked = module.commands[0]
    assert checked[:2] == ["checker", "--acl"] and checked[2].startswith(str(tmp_path / ".users.acl."))
    assert failed.value.result["output"] == "Error in user declaration 'broken'"
    assert (tmp_path / "users.acl").read_text() == "user default off\n"
    assert sorted(os.listdir(tmp_path)) == ["users.acl"]


def test_a_file_written_only_when_missing_is_left_as_it_is(tmp_path):
    (tmp_path / "upstream.conf").write_text("server 10.0.0.2:8000;\n")
    module = files_module(files=[entry(tmp_path / "upstream.conf", "server 127.0.0.1:9 down;\n", force=False)])
    assert config_files.run(module)["changed"] is False
    assert (tmp_path / "upstream.conf").read_text() == "server 10.0.0.2:8000;\n"


def test_a_file_without_content_names_what_it_needs(tmp_path):
    with pytest.raises(Failed, match="give content, template or src"):
        config_files.run(files_module(files=[{"dest": str(tmp_path / "a.conf")}]))


def test_purge_removes_what_is_not_declared_and_a_refused_set_brings_it_back(tmp_path):
    sites = tmp_path / "sites"
    sites.mkdir()
    (sites / "old.conf").write_text("server old;\n")
    (sites / "keep.d").mkdir()
    declared = {"files": [entry(sites / "shop.conf", "server shop;\n")], "purge": [str(sites)]}
    planned = config_files.run(files_module(check_mode=True, **declared))
    assert planned["removed_files"] == [str(sites / "old.conf")] and (sites / "old.conf").exists()
    with pytest.raises(Failed) as failed:
        config_files.run(files_module(validate_commands=[["false"]], **declared))
    assert failed.value.result["refused_files"] == [str(sites / "shop.conf"), str(sites / "old.conf")]
    assert sorted(os.listdir(sites)) == ["keep.d", "old.conf"] and (sites / "old.conf").read_text() == "server old;\n"
    applied = config_files.run(files_module(validate_commands=[["true"]], **declared))
    assert applied["removed_files"] == [str(sites / "old.conf")] and sorted(os.listdir(sites)) == [
        "keep.d",
        "shop.conf",
    ]


def test_an_owner_the_host_lacks_is_a_change_in_check_mode_and_an_error_outside_it(tmp_path):
    params = {"files": [entry(tmp_path / "a.conf", "x\n", owner="appstack-no-such-user")]}
    assert config_files.run(files_module(check_mode=True, **params))["changed_files"] == [str(tmp_path / "a.conf")]
    with pytest.raises(Failed, match="no such user appstack-no-such-user on the host: nothing was written"):
        config_files.run(files_module(**params))
    assert not (tmp_path / "a.conf").exists()


def test_a_numeric_owner_is_taken_as_an_id(tmp_path):
    # The app's secret files belong to its container's uid, which the host need not know by name.
    result = config_files.run(
        files_module(files=[entry(tmp_path / "a", "x", owner=str(os.getuid()), group=str(os.getgid()))])
    )
    assert result["changed_files"] == [str(tmp_path / "a")] and os.stat(tmp_path / "a").st_uid == os.getuid()


def test_a_check_that_cannot_run_refuses_the_file_and_leaves_nothing_behind(tmp_path):
    (tmp_path / "a.conf").write_text("old\n")
    module = files_module(files=[entry(tmp_path / "a.conf", "new\n", validate="checker %s")])
    module.answers["checker"] = None
    with pytest.raises(Failed) as failed:
        config_files.run(module)
    assert "could not run" in failed.value.result["msg"] and failed.value.result["refused_by"][0] == "checker"
    assert sorted(os.listdir(tmp_path)) == ["a.conf"] and (tmp_path / "a.conf").read_text() == "old\n"


def test_secret_files_are_written_first_and_left_out_of_the_diff(tmp_path):
    (tmp_path / "app.env").write_text("OLD=1\n")
    module = files_module(
        diff=True,
        files=[entry(tmp_path / "app.env", "MODE=production\n")],
        secret_files=[entry(tmp_path / "PASSWORD", "hunter2", mode="0600")],
    )
    result = config_files.run(module)
    assert result["changed_files"] == [str(tmp_path / "PASSWORD"), str(tmp_path / "app.env")]
    assert [diff["after_header"] for diff in result["diff"]] == [str(tmp_path / "app.env")]
    assert (tmp_path / "PASSWORD").read_text() == "hunter2" and mode_of(tmp_path / "PASSWORD") == 0o600


def test_the_argument_spec_masks_secret_contents_and_only_those():
    validated = ArgumentSpecValidator(config_files.argument_spec()).validate(
        {
            "files": [{"dest": "/etc/app/app.env", "content": "MODE=production\n"}],
            "secret_files": [{"dest": "/etc/app/PASSWORD", "content": "hunter2"}],
        }
    )
    assert validated.error_messages == []
    assert validated._no_log_values == {"hunter2"}
    assert "validate" not in config_files.argument_spec()["secret_files"]["options"], "a check's output may quote it"
