"""A firewall opening the argument spec cannot judge (a port name, a malformed CIDR) stops the role at its first
task, before nftables is installed or any file written, naming the opening and the value."""

import re
import sys

import pytest
import yaml


@pytest.mark.parametrize(
    ("opening", "message"),
    [
        (
            {"name": "exporter", "ports": ["node-exporter"], "from": ["10.0.0.0/8"]},
            "exporter: 'node-exporter' is not a port",
        ),
        (
            {"name": "exporter", "ports": [9100], "from": ["10.0.0.0/33"]},
            "exporter: '10.0.0.0/33' is neither an inventory group",
        ),
    ],
)
def test_a_bad_opening_stops_the_firewall_before_it_changes_anything(ansible, tmp_path, opening, message):
    playbook = tmp_path / "play.yml"
    playbook.write_text(
        yaml.safe_dump(
            [
                {
                    "name": "Bad opening",
                    "hosts": "localhost",
                    "connection": "local",
                    "gather_facts": True,
                    "roles": [{"role": "appstack.platform.firewall", "vars": {"firewall_extra_rules": [opening]}}],
                }
            ]
        )
    )
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
    assert result.returncode != 0, output
    assert message in output, output
    tasks_run = re.findall(r"TASK \[appstack\.platform\.firewall : (.*?)\]", output)
    assert tasks_run[1:] == ["Check every opening's ports and sources"], tasks_run
