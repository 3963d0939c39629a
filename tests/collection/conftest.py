import os
import pathlib
import re
import subprocess
import sys

import pytest
import yaml
from collection_layout import PROJECT


@pytest.fixture
def ansible():
    """Run an ansible CLI with this checkout as appstack.platform; return the completed process."""
    environment = dict(os.environ, ANSIBLE_COLLECTIONS_PATH=str(PROJECT / ".cache/src"), ANSIBLE_NOCOLOR="1")

    def run(command, *arguments, cwd=PROJECT):
        executable = pathlib.Path(sys.executable).parent / command
        return subprocess.run(
            [executable, *arguments], check=False, cwd=cwd, env=environment, capture_output=True, text=True, timeout=120
        )

    return run


@pytest.fixture
def run_role(ansible, tmp_path):
    """Run a role of the collection on this machine with these variables; return ansible-playbook's output, its
    exit code, and the names of the role's tasks that ran."""

    def run(role, variables):
        playbook = tmp_path / "play.yml"
        play = {"name": f"Run {role}", "hosts": "localhost", "connection": "local", "gather_facts": True}
        play["roles"] = [{"role": f"appstack.platform.{role}", "vars": variables}]
        playbook.write_text(yaml.safe_dump([play]))
        result = ansible(
            "ansible-playbook",
            "-i",
            "localhost,",
            "-e",
            f"ansible_python_interpreter={sys.executable}",
            str(playbook),
            cwd=tmp_path,
        )
        output = result.stdout + result.stderr
        return output, result.returncode, re.findall(rf"TASK \[appstack\.platform\.{role} : (.*?)\]", output)

    return run
