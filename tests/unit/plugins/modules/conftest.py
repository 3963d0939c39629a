"""The host app_rollout's and app_retire's tests run on: a fake Docker engine, fake HTTP answers, an upstream file."""

import io
import json
import urllib.error

import pytest

from ansible_collections.appstack.platform.plugins.module_utils import health_gate, nginx_upstream
from ansible_collections.appstack.platform.plugins.modules import app_rollout
from ansible_collections.appstack.platform.tests.unit.plugins.modules.fake_docker import FakeEngine
from ansible_collections.appstack.platform.tests.unit.plugins.modules.fake_module import FakeModule, spec_defaults

# ---- the Docker API boundary -------------------------------------------------------------------------------


def image_files(image_id):
    """What each fake image holds under /app/static: a file naming the image (demo:v3 has no such directory)."""
    return {} if image_id == "sha256:333" else {"/app/static/version.txt": image_id, "/app/static/css/site.css": "p{}"}


# ---- the HTTP boundary ----------------------------------------------------------------------------------------


class FakeHttp:
    """Answers by URL prefix; a value is a status or a list of statuses consumed in order (the last one repeats)."""

    def __init__(self, monkeypatch, response_class):
        self.answers = {}
        self.response_class = response_class
        monkeypatch.setattr(health_gate, "open_url", self.open_url)

    def open_url(self, url, **kwargs):
        prefix = next(p for p in self.answers if url.startswith(p))
        script = self.answers[prefix]
        status = (
            script.pop(0)
            if isinstance(script, list) and len(script) > 1
            else (script[0] if isinstance(script, list) else script)
        )
        if status is None:
            raise urllib.error.URLError(ConnectionRefusedError(111, "Connection refused"))
        body = json.dumps({"status": status}).encode()
        if status >= 400:
            raise urllib.error.HTTPError(url, status, "error", {}, io.BytesIO(body))
        return self.response_class(status, body)


@pytest.fixture
def host(tmp_path, monkeypatch, http_response):
    """A host: an engine with two images, HTTP answers, an nginx upstream file, and a module factory."""
    engine = FakeEngine(
        {"demo:v1": "sha256:111", "demo:v2": "sha256:222", "demo:v3": "sha256:333"},
        files=image_files,
    )
    http = FakeHttp(monkeypatch, http_response)
    upstream = tmp_path / "demo-prod-web.conf"
    upstream.write_text("upstream demo_prod_web {\n    server 127.0.0.1:8101;\n}\n")
    secrets = tmp_path / "secrets"
    secrets.mkdir()
    (secrets / "DATABASE_URL").write_text("postgresql://app:s3cret@db/app")

    def module(check_mode=False, prepare=None, **overrides):
        params = spec_defaults(app_rollout.argument_spec())
        params.update(
            app="demo",
            deployment="prod",
            service="web",
            image="demo:v1",
            slot_ports=[8101, 8102],
            upstream_file=str(upstream),
            secrets_dir=str(secrets),
            verify_url="http://127.0.0.1/health",
            verify_seconds=0.05,
            drain_seconds=0,
            ledger_dir=str(tmp_path / "ledger"),
        )
        params["health"].update(interval=0.01, deadline=1, successes=2, min_uptime=0.05)
        params.update(overrides)
        fake = FakeModule(app_rollout.argument_spec(), params, check_mode)
        # nginx is not on the machine that runs the tests: its answers are scripted.
        fake.answers.update(nginx=[(0, "", "")], systemctl=[(0, "", "")])
        if prepare:
            prepare(fake)
        return fake

    class Host:
        pass

    h = Host()
    h.engine, h.http, h.upstream, h.module, h.tmp = engine, http, upstream, module, tmp_path
    # The kernel's view of nginx's connections (tested in test_nginx_upstream): the containers then, per drain.
    h.drains = []
    monkeypatch.setattr(
        nginx_upstream,
        "drain",
        lambda ports, seconds, pid_file: h.drains.append((ports, seconds, sorted(engine.containers_by_name))),
    )
    h.ledger = lambda: json.loads((tmp_path / "ledger" / "demo-prod" / "releases.json").read_text())
    http.answers = {"http://127.0.0.1:8101": 200, "http://127.0.0.1:8102": 200, "http://127.0.0.1/": 200}
    return h
