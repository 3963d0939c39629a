"""The metrics role's access-log counter, on real files: offsets, rotation, torn lines, the text format.

That Prometheus reads its counters and fires the server-error alert is proven in molecule/stack (verify-metrics.yml).
"""

import json
import os
import pathlib

import pytest

from ansible_collections.appstack.platform.tests.unit.roles import role_program

program = role_program.load("roles/metrics/files/access-metrics", "appstack_access_metrics")


def entry(status, site="demo-prod"):
    """A line as the nginx role's appstack_json format writes it (fields the counter does not read left out)."""
    return json.dumps({"time": "2026-12-02T10:00:00+00:00", "site": site, "host": "app.test", "status": status}) + "\n"


def run(tmp_path):
    paths = {name: str(tmp_path / name) for name in ("access.log", "state.json", "access.prom")}
    program.main(["--log", paths["access.log"], "--state", paths["state.json"], "--output", paths["access.prom"]])
    return pathlib.Path(paths["access.prom"]).read_text(encoding="utf-8")


def append(path, text):
    with open(path, "a", encoding="utf-8") as handle:
        handle.write(text)


def test_counts_each_response_once_across_runs(tmp_path):
    log = tmp_path / "access.log"
    append(log, entry(200) + entry(200) + entry(502))
    run(tmp_path)
    append(log, entry(500) + entry(404, site="cms-prod"))

    output = run(tmp_path)

    assert 'appstack_http_responses_total{site="demo-prod",status_class="2xx"} 2' in output
    assert 'appstack_http_responses_total{site="demo-prod",status_class="5xx"} 2' in output
    assert 'appstack_http_responses_total{site="cms-prod",status_class="4xx"} 1' in output
    # Its other classes are there at 0, so that a first server error is an increase Prometheus sees.
    assert 'appstack_http_responses_total{site="cms-prod",status_class="5xx"} 0' in output
    assert "# TYPE appstack_http_responses_total counter" in output


@pytest.mark.parametrize(
    ("rotated_name", "expected"),
    [
        # logrotate's rename: the rest of the old file is read first.
        ("access.log.1", {"2xx": 2, "5xx": 2}),
        # Already compressed or removed: what was never read is lost, nothing is counted twice.
        ("gone.log", {"2xx": 2, "5xx": 1}),
    ],
)
def test_a_rotated_log_is_finished_before_the_new_one_when_it_is_still_there(tmp_path, rotated_name, expected):
    log = tmp_path / "access.log"
    append(log, entry(200))
    run(tmp_path)
    append(log, entry(503))
    os.rename(log, tmp_path / rotated_name)
    append(log, entry(500) + entry(200))

    output = run(tmp_path)

    for status_class, count in expected.items():
        assert f'status_class="{status_class}"}} {count}' in output


def test_a_log_truncated_in_place_is_read_from_its_start(tmp_path):
    log = tmp_path / "access.log"
    append(log, entry(200) + entry(200) + entry(200))
    run(tmp_path)
    log.write_text(entry(500), encoding="utf-8")

    assert 'status_class="5xx"} 1' in run(tmp_path)


def test_a_line_still_being_written_waits_for_the_next_run(tmp_path):
    log = tmp_path / "access.log"
    whole = entry(500)
    append(log, entry(200) + whole[:20])
    assert 'status_class="5xx"} 0' in run(tmp_path)

    append(log, whole[20:])

    assert 'status_class="5xx"} 1' in run(tmp_path)


def test_lines_of_another_format_and_requests_for_no_site_are_told_apart(tmp_path):
    log = tmp_path / "access.log"
    append(log, '127.0.0.1 - - [02/Dec/2026:10:00:00 +0000] "GET / HTTP/1.1" 200 5\n' + entry(444, site=""))

    output = run(tmp_path)

    assert 'appstack_http_responses_total{site="none",status_class="4xx"} 1' in output
    assert 'status_class="2xx"} 0' in output


def test_no_log_yet_writes_no_counters(tmp_path):
    output = run(tmp_path)

    assert "appstack_http_responses_total{" not in output
    assert json.loads((tmp_path / "state.json").read_text(encoding="utf-8"))["offset"] == 0
