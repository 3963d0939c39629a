"""The metrics role's access-log counter, on real files: offsets, rotation, torn lines, the text format.

That Prometheus reads its counters and fires the server-error alert is proven in molecule/stack (verify-metrics.yml).
"""

import importlib.machinery
import importlib.util
import json
import os
import pathlib

PROGRAM = pathlib.Path(__file__).resolve().parents[4] / "roles/metrics/files/access-metrics"


def load_program():
    loader = importlib.machinery.SourceFileLoader("appstack_access_metrics", str(PROGRAM))
    spec = importlib.util.spec_from_loader("appstack_access_metrics", loader)
    module = importlib.util.module_from_spec(spec)
    loader.exec_module(module)
    return module


program = load_program()


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


def test_finishes_the_rotated_log_before_the_new_one(tmp_path):
    log = tmp_path / "access.log"
    append(log, entry(200))
    run(tmp_path)
    append(log, entry(503))
    os.rename(log, tmp_path / "access.log.1")
    append(log, entry(500) + entry(200))

    output = run(tmp_path)

    assert 'status_class="2xx"} 2' in output
    assert 'status_class="5xx"} 2' in output


def test_rotated_log_already_gone_counts_only_the_new_one(tmp_path):
    log = tmp_path / "access.log"
    append(log, entry(200))
    run(tmp_path)
    os.rename(log, tmp_path / "old.log")
    append(log, entry(500))

    output = run(tmp_path)

    assert 'status_class="2xx"} 1' in output
    assert 'status_class="5xx"} 1' in output


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
