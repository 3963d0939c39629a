"""config_files' action plugin, run by ansible-playbook on this machine: templates and files read on the controller."""

import sys

import yaml


def test_templates_with_their_vars_and_files_are_written_in_one_task(ansible, tmp_path):
    (tmp_path / "templates").mkdir()
    (tmp_path / "templates" / "site.conf.j2").write_text("server_name {{ site.name }}.{{ domain }};\n")
    (tmp_path / "files").mkdir()
    (tmp_path / "files" / "checker").write_text("#!/bin/sh\nexit 0\n")
    out = tmp_path / "out"
    task = {
        "appstack.platform.config_files": {
            "directories": [{"path": str(out)}],
            "files": [
                {"dest": str(out / f"{name}.conf"), "template": "site.conf.j2", "vars": {"site": {"name": name}}}
                for name in ("shop", "blog")
            ]
            + [{"dest": str(out / "checker"), "src": "checker", "mode": "0755"}],
        },
        "register": "written",
    }
    report = {"ansible.builtin.debug": {"msg": "changed={{ written.changed_files | length }}"}}
    play = {"hosts": "localhost", "connection": "local", "gather_facts": False, "vars": {"domain": "example.com"}}
    (tmp_path / "play.yml").write_text(yaml.safe_dump([{**play, "tasks": [task, report]}]))
    run = ["ansible-playbook", "-i", "localhost,", "-e", f"ansible_python_interpreter={sys.executable}", "play.yml"]
    first = ansible(*run, cwd=tmp_path)
    assert first.returncode == 0, first.stdout + first.stderr
    assert '"msg": "changed=3"' in first.stdout
    assert (out / "shop.conf").read_text() == "server_name shop.example.com;\n"
    assert (out / "blog.conf").read_text() == "server_name blog.example.com;\n"
    assert (out / "checker").read_text() == "#!/bin/sh\nexit 0\n" and (out / "checker").stat().st_mode & 0o777 == 0o755
    again = ansible(*run, cwd=tmp_path)
    assert (
        again.returncode == 0 and '"msg": "changed=0"' in again.stdout and "changed=0" in again.stdout.split("RECAP")[1]
    )


def test_an_entry_with_two_sources_fails_naming_them(ansible, tmp_path):
    task = {"appstack.platform.config_files": {"files": [{"dest": str(tmp_path / "a"), "content": "x", "src": "a"}]}}
    play = {"hosts": "localhost", "connection": "local", "gather_facts": False, "tasks": [task]}
    (tmp_path / "play.yml").write_text(yaml.safe_dump([play]))
    run = ["ansible-playbook", "-i", "localhost,", "-e", f"ansible_python_interpreter={sys.executable}", "play.yml"]
    result = ansible(*run, cwd=tmp_path)
    assert result.returncode == 2
    assert "give exactly one of content, template, src (got ['content', 'src'])" in result.stdout
    assert not (tmp_path / "a").exists()
