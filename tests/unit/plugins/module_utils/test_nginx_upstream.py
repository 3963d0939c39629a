import pytest

from ansible_collections.appstack.platform.plugins.module_utils import nginx_upstream

TEST = ["nginx", "-t"]
RELOAD = ["systemctl", "reload", "nginx"]


class Runner:
    def __init__(self, results):
        self.results, self.calls = dict(results), []

    def __call__(self, argv):
        self.calls.append(argv)
        return self.results.get(tuple(argv), (0, "", ""))


def test_render_and_read_back_the_port(tmp_path):
    path = tmp_path / "demo-prod-web.conf"
    path.write_text(nginx_upstream.render("demo_prod_web", 8102, "abc123"))
    assert nginx_upstream.current_port(str(path)) == 8102
    assert nginx_upstream.current_port(str(tmp_path / "missing.conf")) is None


def test_switch_validates_then_reloads_and_returns_the_old_content(tmp_path):
    path = tmp_path / "up.conf"
    path.write_text("old")
    runner = Runner({})
    assert nginx_upstream.switch(str(path), "new", runner, TEST, RELOAD) == "old"
    assert path.read_text() == "new"
    assert runner.calls == [TEST, RELOAD]


@pytest.mark.parametrize(("failing", "message"), [(TEST, "rejected"), (RELOAD, "did not reload")])
def test_switch_puts_the_old_file_back_when_nginx_refuses(tmp_path, failing, message):
    path = tmp_path / "up.conf"
    path.write_text("old")
    runner = Runner({tuple(failing): (1, "", "emerg: bad upstream")})
    with pytest.raises(nginx_upstream.UpstreamError, match=f"{message}.*emerg: bad upstream"):
        nginx_upstream.switch(str(path), "new", runner, TEST, RELOAD)
    assert path.read_text() == "old"


def test_a_refused_first_upstream_leaves_no_file(tmp_path):
    path = tmp_path / "up.conf"
    with pytest.raises(nginx_upstream.UpstreamError):
        nginx_upstream.switch(str(path), "new", Runner({tuple(TEST): (1, "", "bad")}), TEST, RELOAD)
    assert not path.exists()


class FakeProc:
    """A /proc with an nginx master (pid 100) and its processes; a reload replaces the workers."""

    def __init__(self, root):
        self.root = root
        self.pid_file = root / "nginx.pid"
        self.pid_file.write_text("100\n")
        self.add(100, 1, "nginx: master process /usr/sbin/nginx")
        self.add(101, 100, "nginx: worker process")
        self.add(102, 100, "nginx: worker process")
        self.add(200, 1, "unrelated (worker process) daemon")

    def add(self, pid, parent, title):
        (self.root / str(pid)).mkdir()
        (self.root / str(pid) / "stat").write_text(f"{pid} (nginx) S {parent} {pid} {pid} 0 -1")
        (self.root / str(pid) / "cmdline").write_bytes(title.encode() + b"\0")

    def reload(self, old_workers_state):
        """New workers start; the old ones are shutting down, gone, or (a stuck reload) unchanged."""
        self.add(103, 100, "nginx: worker process")
        for pid in (101, 102):
            if old_workers_state == "shutting down":
                (self.root / str(pid) / "cmdline").write_bytes(b"nginx: worker process is shutting down\0")
            elif old_workers_state == "gone":
                for name in ("stat", "cmdline"):
                    (self.root / str(pid) / name).unlink()
                (self.root / str(pid)).rmdir()


class ReloadingRunner(Runner):
    def __init__(self, proc, old_workers_state):
        super().__init__({})
        self.proc, self.state = proc, old_workers_state

    def __call__(self, argv):
        if argv == RELOAD and len(self.calls) < 2:
            self.proc.reload(self.state)
        return super().__call__(argv)


def test_accepting_workers_are_the_masters_workers_not_shutting_down(tmp_path):
    proc = FakeProc(tmp_path)
    assert nginx_upstream.accepting_workers(100, str(tmp_path)) == {101, 102}
    proc.reload("shutting down")
    assert nginx_upstream.accepting_workers(100, str(tmp_path)) == {103}


@pytest.mark.parametrize("old_workers_state", ["shutting down", "gone"])
def test_switch_returns_once_the_old_workers_stopped_accepting(tmp_path, old_workers_state):
    proc = FakeProc(tmp_path)
    path = tmp_path / "up.conf"
    path.write_text("old")
    runner = ReloadingRunner(proc, old_workers_state)
    assert nginx_upstream.switch(str(path), "new", runner, TEST, RELOAD, str(proc.pid_file), str(tmp_path)) == "old"
    assert path.read_text() == "new"


def test_switch_puts_the_old_upstream_back_when_old_workers_keep_accepting(tmp_path, monkeypatch, clock):
    monkeypatch.setattr(nginx_upstream.time, "monotonic", clock)
    monkeypatch.setattr(nginx_upstream.time, "sleep", clock.sleep)
    proc = FakeProc(tmp_path)
    path = tmp_path / "up.conf"
    path.write_text("old")
    runner = ReloadingRunner(proc, "stuck")
    with pytest.raises(nginx_upstream.UpstreamError, match=r"pids \[101, 102\]\) still accepted connections"):
        nginx_upstream.switch(str(path), "new", runner, TEST, RELOAD, str(proc.pid_file), str(tmp_path))
    assert path.read_text() == "old"
    assert runner.calls == [TEST, RELOAD, RELOAD]
    assert clock.now >= nginx_upstream.RELOAD_WAIT_SECONDS


def test_switch_without_a_running_master_does_not_wait(tmp_path):
    path = tmp_path / "up.conf"
    runner = Runner({})
    assert nginx_upstream.switch(str(path), "new", runner, TEST, RELOAD, str(tmp_path / "missing.pid")) is None


@pytest.mark.parametrize(
    ("app", "env", "service", "name", "file"),
    [
        ("demo", "prod", "web", "demo_prod_web", "demo-prod-web.conf"),
        ("my-app", "prod", "web", "my_app_prod_web", "my-app-prod-web.conf"),
        ("shop.v2", "staging-eu", "api", "shop_v2_staging_eu_api", "shop.v2-staging-eu-api.conf"),
    ],
)
def test_one_name_for_the_block_and_one_for_the_file(app, env, service, name, file):
    assert nginx_upstream.identity(app, env, service) == {"name": name, "file": file}
