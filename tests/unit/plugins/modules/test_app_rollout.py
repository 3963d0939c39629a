"""app_rollout's logic against a fake Docker API and fake HTTP answers (the module's two outside boundaries)."""

import io
import json
import urllib.error

import pytest
from docker.errors import ImageNotFound, NotFound

from ansible_collections.appstack.platform.plugins.module_utils import health_gate, nginx_upstream
from ansible_collections.appstack.platform.plugins.modules import app_rollout

# ---- the Docker API boundary -------------------------------------------------------------------------------


class FakeImage:
    def __init__(self, image_id):
        self.id = image_id


class FakeContainer:
    def __init__(self, engine, name, image, options):
        self.engine, self.name, self.image, self.options = engine, name, image, options
        self.labels = options.get("labels", {})
        self.status = "running"
        self.exit_code = 0
        self.stopped_with = None
        self.created = engine.tick()

    @property
    def attrs(self):
        return {
            "Created": self.created,
            "State": {"Status": self.status, "ExitCode": self.exit_code, "OOMKilled": False, "Error": ""},
        }

    def reload(self):
        self.engine.on_reload(self)

    def stop(self, timeout):
        self.status, self.stopped_with = "exited", timeout

    def remove(self, force):
        del self.engine.containers_by_name[self.name]

    def logs(self, tail):
        return f"log of {self.name}\nlast line".encode()


class FakeEngine:
    """Just enough of docker.DockerClient: images.get, containers.run/get/list."""

    def __init__(self, images):
        self.images_by_ref = {ref: FakeImage(image_id) for ref, image_id in images.items()}
        self.containers_by_name = {}
        self.clock = 0
        self.on_reload = lambda container: None
        self.images = self
        self.containers = self

    def tick(self):
        self.clock += 1
        return f"2026-01-01T00:00:{self.clock:02d}Z"

    # images
    def get(self, name):
        if name in self.images_by_ref:
            return self.images_by_ref[name]
        by_id = [image for image in self.images_by_ref.values() if image.id == name]
        if by_id:
            return by_id[0]
        if name in self.containers_by_name:
            return self.containers_by_name[name]
        raise NotFound(name) if name.startswith("demo-") else ImageNotFound(name)

    # containers
    def run(self, image, **options):
        container = FakeContainer(self, options["name"], image, options)
        self.containers_by_name[container.name] = container
        return container

    def list(self, all, filters):
        service = filters["label"][0].split("=", 1)[1]
        found = [c for c in self.containers_by_name.values() if c.labels.get("appstack.service") == service]
        if filters.get("status") == "running":
            found = [c for c in found if c.status == "running"]
        return found

    def running(self):
        return sorted(c.name for c in self.containers_by_name.values() if c.status == "running")


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


# ---- the Ansible side: a module object with the real argument defaults -----------------------------------------


class Failed(Exception):
    def __init__(self, result):
        super().__init__(result["msg"])
        self.result = result


class FakeModule:
    def __init__(self, params, check_mode=False):
        self.params, self.check_mode, self.commands = params, check_mode, []

    def run_command(self, argv):
        self.commands.append(argv)
        return 0, "", ""

    def fail_json(self, **result):
        raise Failed(result)


def defaults(spec):
    values = {}
    for name, option in spec.items():
        if "options" in option:
            values[name] = defaults(option["options"])
        else:
            values[name] = option.get("default")
    return values


@pytest.fixture
def host(tmp_path, monkeypatch, http_response):
    """A host: an engine with two images, HTTP answers, an nginx upstream file, and a module factory."""
    engine = FakeEngine({"demo:v1": "sha256:111", "demo:v2": "sha256:222"})
    http = FakeHttp(monkeypatch, http_response)
    upstream = tmp_path / "demo-prod-web.conf"
    upstream.write_text("upstream demo_prod_web {\n    server 127.0.0.1:8101;\n}\n")
    secrets = tmp_path / "secrets"
    secrets.mkdir()
    (secrets / "DATABASE_URL").write_text("postgresql://app:s3cret@db/app")

    def module(check_mode=False, **overrides):
        params = defaults(app_rollout.argument_spec())
        params.update(
            app="demo",
            env="prod",
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
        params["health"].update(interval=0.01, deadline=1, successes=2)
        params.update(overrides)
        return FakeModule(params, check_mode)

    class Host:
        pass

    h = Host()
    h.engine, h.http, h.upstream, h.module, h.tmp = engine, http, upstream, module, tmp_path
    h.ledger = lambda: json.loads((tmp_path / "ledger" / "demo-prod" / "releases.json").read_text())
    http.answers = {"http://127.0.0.1:8101": 200, "http://127.0.0.1:8102": 200, "http://127.0.0.1/": 200}
    return h


def roll_out(host, **overrides):
    """Run a rollout; the module object (commands run, check mode) stays on ``host.last_module``."""
    host.last_module = host.module(**overrides)
    return app_rollout.Rollout(host.last_module, host.engine).run()


# ---- the behaviour ---------------------------------------------------------------------------------------------


def test_first_rollout_starts_on_a_slot_switches_nginx_and_records_success(host):
    result = roll_out(host)
    module = host.last_module
    assert result["outcome"] == "succeeded" and result["changed"]
    assert result["port"] == 8101
    assert nginx_upstream.current_port(str(host.upstream)) == 8101
    assert module.commands == [["nginx", "-t"], ["systemctl", "reload", "nginx"]]
    assert [r["outcome"] for r in host.ledger()] == ["succeeded"]
    assert set(result["phases"]) == {"start", "gate", "switch", "verify"}


def test_same_image_and_config_changes_nothing(host):
    first = roll_out(host)
    again = roll_out(host)
    module = host.last_module
    assert again["outcome"] == "unchanged" and not again["changed"]
    assert again["release"] == first["release"] and again["container"] == first["container"]
    assert module.commands == []
    assert len(host.ledger()) == 1


@pytest.mark.parametrize(
    "change",
    [{"image": "demo:v2"}, {"environment": {"FEATURE": "on"}}, {"memory": "256m"}, {"command": ["serve", "--fast"]}],
)
def test_a_new_image_or_config_is_a_new_release(host, change):
    first = roll_out(host)
    second = roll_out(host, **change)
    assert second["outcome"] == "succeeded" and second["release"] != first["release"]


def test_a_changed_secret_is_a_new_release_and_its_value_never_reaches_the_environment(host):
    first = roll_out(host)
    (host.tmp / "secrets" / "DATABASE_URL").write_text("postgresql://app:rotated@db/app")
    second = roll_out(host)
    assert second["release"] != first["release"]
    options = host.engine.containers_by_name[second["container"]].options
    assert options["environment"]["DATABASE_URL_FILE"] == "/run/secrets/DATABASE_URL"
    assert "rotated" not in json.dumps(options["environment"])
    assert options["volumes"] == {str(host.tmp / "secrets"): {"bind": "/run/secrets", "mode": "ro"}}
    assert options["ports"] == {"8000/tcp": ("127.0.0.1", 8102)}


def test_blue_green_alternates_slots_and_stops_the_old_release_after_the_switch(host):
    first = roll_out(host)
    second = roll_out(host, image="demo:v2", stop_timeout=7)
    assert (first["port"], second["port"]) == (8101, 8102)
    assert host.engine.running() == [second["container"]]
    assert host.engine.containers_by_name[first["container"]].stopped_with == 7
    assert second["previous_release"] == first["release"]


def test_check_mode_reports_the_rollout_and_touches_nothing(host):
    result = roll_out(host, check_mode=True)
    module = host.last_module
    assert result["outcome"] == "would_roll_out" and result["changed"]
    assert host.engine.containers_by_name == {} and module.commands == []
    assert not (host.tmp / "ledger").exists()


def test_a_failing_gate_removes_the_new_release_keeps_the_old_one_and_shows_the_evidence(host):
    first = roll_out(host)
    host.http.answers["http://127.0.0.1:8102"] = 500
    upstream_before = host.upstream.read_text()
    with pytest.raises(Failed) as failure:
        roll_out(host, image="demo:v2")
    result = failure.value.result
    assert "failed its health gate" in result["msg"] and "previous release keeps serving" in result["msg"]
    assert result["evidence"]["last_probes"][-1]["status"] == 500
    assert result["evidence"]["log_tail"][-1] == "last line"
    assert result["evidence"]["container"]["status"] == "running"
    assert host.engine.running() == [first["container"]]
    assert host.upstream.read_text() == upstream_before
    assert [r["outcome"] for r in host.ledger()] == ["succeeded", "failed"]


def test_a_container_that_exits_fails_the_gate_at_once_with_its_exit_code(host):
    roll_out(host)
    host.http.answers["http://127.0.0.1:8102"] = None

    def crash(container):
        if container.labels["appstack.image_id"] == "sha256:222":
            container.status, container.exit_code = "exited", 3

    host.engine.on_reload = crash
    with pytest.raises(Failed) as failure:
        roll_out(host, image="demo:v2")
    result = failure.value.result
    assert "is exited (exit code 3)" in result["msg"]
    assert result["evidence"]["attempts"] == 1
    assert result["evidence"]["last_probes"][0]["error"].endswith("Connection refused>")


def test_a_release_failing_through_nginx_after_the_switch_is_switched_back(host):
    first = roll_out(host)
    host.http.answers["http://127.0.0.1/"] = [200, 500]
    with pytest.raises(Failed) as failure:
        roll_out(host, image="demo:v2")
    assert "switched back to " + first["release"] in failure.value.result["msg"]
    assert nginx_upstream.current_port(str(host.upstream)) == 8101
    assert host.engine.running() == [first["container"]]
    assert failure.value.result["phases"]["switch"] >= 0


def test_a_worker_replaces_the_old_one_once_healthy_with_its_grace_period(host):
    worker = {"service": "worker", "kind": "worker", "slot_ports": None, "upstream_file": None, "verify_url": None}
    first = roll_out(host, **worker)
    second = roll_out(host, image="demo:v2", stop_timeout=120, **worker)
    module = host.last_module
    assert second["outcome"] == "succeeded" and "port" not in second
    assert host.engine.running() == [second["container"]]
    assert host.engine.containers_by_name[first["container"]].stopped_with == 120
    assert module.commands == []
    assert set(second["phases"]) == {"start", "gate", "stop"}


def test_only_the_newest_stopped_releases_are_kept(host):
    names = []
    for image, memory in [
        ("demo:v1", "1m"),
        ("demo:v2", "2m"),
        ("demo:v1", "3m"),
        ("demo:v2", "4m"),
        ("demo:v1", "5m"),
    ]:
        result = roll_out(host, image=image, memory=memory, keep_releases=2)
        names.append(result["container"])
    assert sorted(host.engine.containers_by_name) == sorted(names[-3:])


def test_a_missing_image_says_what_to_do(host, monkeypatch):
    monkeypatch.setattr(app_rollout.docker, "from_env", lambda: host.engine)
    module = host.module(image="demo:v9")

    monkeypatch.setattr(app_rollout, "AnsibleModule", lambda **kwargs: module)
    with pytest.raises(Failed, match="image demo:v9 is not on this host: pull or load it first"):
        app_rollout.main()


@pytest.mark.parametrize("slots", [[8101], [8101, 8101]])
def test_bad_slot_ports_fail_before_anything_runs(host, monkeypatch, slots):
    module = host.module(slot_ports=slots)
    monkeypatch.setattr(app_rollout, "AnsibleModule", lambda **kwargs: module)
    monkeypatch.setattr(app_rollout.docker, "from_env", pytest.fail)
    with pytest.raises(Failed, match="two different ports"):
        app_rollout.main()


def test_rollback_to_previous_takes_the_last_good_release_before_the_serving_one(host):
    first = roll_out(host)
    roll_out(host, image="demo:v2")
    back = roll_out(host, image=None, rollback_to="previous")
    assert back["release"] == first["release"]
    assert host.ledger()[-1]["rollback_to"] == "previous"


def test_rollback_to_a_named_release_and_to_an_unknown_one(host):
    roll_out(host)
    second = roll_out(host, image="demo:v2")
    roll_out(host, image="demo:v1", memory="64m")
    named = roll_out(host, image=None, rollback_to=second["release"])
    assert named["release"] == second["release"]
    with pytest.raises(Failed) as failure:
        roll_out(host, image=None, rollback_to="0123456789ab")
    assert "no succeeded release '0123456789ab'" in failure.value.result["msg"]
    assert second["release"] in failure.value.result["succeeded_releases"]


def test_check_mode_on_a_host_without_docker_assumes_a_rollout(host, monkeypatch):
    module = host.module(check_mode=True)
    exits = []
    module.warn = print

    def exit_json(**result):
        exits.append(result)
        raise SystemExit

    module.exit_json = exit_json
    monkeypatch.setattr(app_rollout, "DOCKER_IMPORT_ERROR", "ImportError: No module named 'docker'")
    monkeypatch.setattr(app_rollout, "AnsibleModule", lambda **kwargs: module)
    with pytest.raises(SystemExit):
        app_rollout.main()
    assert exits == [{"changed": True, "outcome": "would_roll_out", "release": None, "previous_release": None}]


def test_without_docker_a_real_run_fails_with_the_package_to_install(host, monkeypatch):
    module = host.module()
    monkeypatch.setattr(app_rollout, "DOCKER_IMPORT_ERROR", "ImportError: No module named 'docker'")
    monkeypatch.setattr(app_rollout, "AnsibleModule", lambda **kwargs: module)
    with pytest.raises(Failed, match="python3-docker"):
        app_rollout.main()


def test_service_variables_override_the_shared_env_file(host):
    env_file = host.tmp / "app.env"
    env_file.write_text("# shared\nLOG_LEVEL=info\nREGION=eu\n")
    result = roll_out(host, env_file=str(env_file), environment={"LOG_LEVEL": "debug"})
    environment = host.engine.containers_by_name[result["container"]].options["environment"]
    assert environment == {
        "LOG_LEVEL": "debug",
        "REGION": "eu",
        "DATABASE_URL_FILE": "/run/secrets/DATABASE_URL",
    }
