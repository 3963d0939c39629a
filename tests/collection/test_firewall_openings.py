"""A firewall opening the argument spec cannot judge (a port name, a malformed CIDR) stops the role at its first
task, before nftables is installed or any file written, naming the opening and the value."""

import pytest


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
def test_a_bad_opening_stops_the_firewall_before_it_changes_anything(run_role, opening, message):
    output, returncode, tasks_run = run_role("firewall", {"firewall_extra_rules": [opening]})
    assert returncode != 0, output
    assert message in output, output
    assert tasks_run[1:] == ["Check every opening's ports and sources"], tasks_run
