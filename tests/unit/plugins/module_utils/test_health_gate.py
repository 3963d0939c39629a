import http.server
import io
import ssl
import threading
import urllib.error

import pytest

from ansible_collections.appstack.platform.plugins.module_utils import health_gate
from ansible_collections.appstack.platform.plugins.module_utils.health_gate import ProbeResult, http_probe, run_gate


def scripted(outcomes):
    answers = iter(outcomes)
    return lambda: ProbeResult(ok=next(answers), status=200)


@pytest.mark.parametrize(
    ("outcomes", "successes", "passed", "attempts"),
    [
        ([True, True, True], 3, True, 3),
        ([False, True, True, True], 3, True, 4),
        # A failure resets the streak.
        ([True, True, False, True, True, True], 3, True, 6),
        ([True], 1, True, 1),
        # Deadline 11 s, interval 2 s: attempts at 0, 2, 4, 6, 8, 10, then no room for another.
        ([False] * 20, 2, False, 6),
        ([True, False] * 10, 2, False, 6),
    ],
)
def test_gate_needs_consecutive_successes_within_the_deadline(outcomes, successes, passed, attempts, clock):
    result = run_gate(scripted(outcomes), successes=successes, interval=2, deadline=11, clock=clock, sleep=clock.sleep)
    assert (result.passed, result.attempts) == (passed, attempts)


def test_gate_stops_at_once_when_the_target_dies_and_says_why(clock):
    alive = iter([None, "container exited with code 3"])
    result = run_gate(scripted([False] * 10), 3, 1, 60, still_alive=lambda: next(alive), clock=clock, sleep=clock.sleep)
    assert not result.passed
    assert result.attempts == 2
    assert result.reason == "container exited with code 3"


def test_gate_keeps_only_the_last_probes_as_evidence(clock):
    result = run_gate(scripted([False] * 30), 1, 1, 20, clock=clock, sleep=clock.sleep, keep=3)
    assert len(result.last_probes) == 3
    assert result.as_dict()["reason"].startswith("no 1 consecutive successes within 20s")


def test_http_probe_passes_on_the_expected_status(monkeypatch, http_response):
    monkeypatch.setattr(health_gate, "open_url", lambda url, **kw: http_response(200, b'{"status": "ok"}'))
    result = http_probe("http://127.0.0.1:8001/health", timeout=1)()
    assert result.ok and result.status == 200 and result.body == '{"status": "ok"}'


@pytest.fixture
def loopback_server():
    """A real HTTP server on loopback: 200 on /health, 503 elsewhere, and the paths it was asked for."""
    asked = []

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self):
            asked.append(self.path)
            status = 200 if self.path == "/health" else 503
            self.send_response(status)
            self.send_header("Content-Length", "2")
            self.end_headers()
            self.wfile.write(b"ok" if status == 200 else b"no")

        def log_message(self, *args):
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}", asked
    server.shutdown()
    server.server_close()


def test_http_probes_make_one_tls_context_for_all_their_requests(loopback_server, monkeypatch):
    base, asked = loopback_server
    made = []
    real_create_default_context = ssl.create_default_context

    def counted_create_default_context(*args, **kwargs):
        made.append(1)
        return real_create_default_context(*args, **kwargs)

    monkeypatch.setattr(ssl, "create_default_context", counted_create_default_context)
    health_gate._tls_context.cache_clear()
    probe = http_probe(f"{base}/health", timeout=5)
    results = [probe() for _attempt in range(5)] + [http_probe(f"{base}/other", timeout=5)()]
    assert [(result.ok, result.status, result.body) for result in results] == [(True, 200, "ok")] * 5 + [
        (False, 503, "no")
    ]
    assert asked == ["/health"] * 5 + ["/other"]
    assert len(made) == 1


def test_http_probe_records_an_error_status_with_its_body(monkeypatch):
    def refuse(url, **kwargs):
        raise urllib.error.HTTPError(url, 503, "Service Unavailable", {}, io.BytesIO(b"database down"))

    monkeypatch.setattr(health_gate, "open_url", refuse)
    result = http_probe("http://127.0.0.1:8001/health", timeout=1)()
    assert not result.ok
    assert (result.status, result.body) == (503, "database down")


def test_http_probe_records_a_refused_connection(monkeypatch):
    def refuse(url, **kwargs):
        raise urllib.error.URLError(ConnectionRefusedError(111, "Connection refused"))

    monkeypatch.setattr(health_gate, "open_url", refuse)
    result = http_probe("http://127.0.0.1:8001/health", timeout=1)()
    assert not result.ok and result.status is None and "Connection refused" in result.error


def test_smoke_passes_when_every_path_passes_every_round():
    calls = []

    def probe(name):
        return lambda: calls.append(name) or ProbeResult(ok=True, status=200)

    assert health_gate.run_smoke([("/version", probe("/version")), ("/api", probe("/api"))], rounds=2) is None
    assert calls == ["/version", "/api", "/version", "/api"]


def test_smoke_stops_at_the_first_failure_and_names_the_path():
    failing = health_gate.run_smoke(
        [("/version", scripted([True, True])), ("/api", lambda: ProbeResult(ok=False, status=500, body="boom"))],
        rounds=3,
    )
    assert failing["reason"] == "/api answered 500"
    assert [(p["path"], p["status"]) for p in failing["last_probes"]] == [("/version", 200), ("/api", 500)]
    refused = health_gate.run_smoke([("/", lambda: ProbeResult(ok=False, error="refused"))], rounds=1)
    assert refused["reason"] == "/ answered refused"


def test_the_window_probes_until_it_has_passed_and_fails_on_any_probe(clock):
    probes = []

    def passing():
        probes.append(clock.now)
        return ProbeResult(ok=True, status=200)

    assert health_gate.run_window(passing, window=3, interval=1, clock=clock, sleep=clock.sleep) is None
    assert probes == [0, 1, 2, 3]
    failing = health_gate.run_window(scripted([True, False, True]), 10, 1, clock=clock, sleep=clock.sleep)
    assert failing["reason"] == "probe 2 failed" and failing["last_probes"][0]["ok"] is False


def test_http_probe_sends_its_headers_and_passes_on_any_expected_status(monkeypatch):
    sent = {}

    def answer_401(url, headers, **kwargs):
        sent.update(headers)
        raise urllib.error.HTTPError(url, 401, "Unauthorized", {}, io.BytesIO(b"login first"))

    monkeypatch.setattr(health_gate, "open_url", answer_401)
    result = http_probe("http://127.0.0.1:8101/health", 2, {"Host": "app.test"}, (200, 401))()
    assert result.ok and result.status == 401 and sent == {"Host": "app.test"}


def test_a_redirect_says_where_it_points(monkeypatch):
    def redirect(url, **kwargs):
        raise urllib.error.HTTPError(
            url, 301, "Moved Permanently", {"Location": "https://app.test/health"}, io.BytesIO()
        )

    monkeypatch.setattr(health_gate, "open_url", redirect)
    result = http_probe("http://127.0.0.1:8101/health", 2)()
    assert not result.ok and result.status == 301
    assert "redirects to https://app.test/health: send the headers the app expects" in result.error
