import pathlib

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
        if old_workers_state == "shutting down":
            for pid in (101, 102):
                (self.root / str(pid) / "cmdline").write_bytes(b"nginx: worker process is shutting down\0")
        elif old_workers_state == "gone":
            self.leave(101, 102)

    def leave(self, *pids):
        for pid in pids:
            if (self.root / str(pid)).exists():
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
        ("demo", "prod", "web", "demo_prod_web", "demo-prod-web"),
        ("my-app", "prod", "web", "my_app_prod_web", "my-app-prod-web"),
        ("shop.v2", "staging-eu", "api", "shop_v2_staging_eu_api", "shop.v2-staging-eu-api"),
    ],
)
def test_one_name_for_the_block_and_one_for_the_files(app, env, service, name, file):
    assert nginx_upstream.identity(app, env, service) == {
        "name": name,
        "file": f"{file}.conf",
        "static_dir": f"/var/www/appstack/{file}",
    }


# ---- draining a release nginx no longer names ------------------------------------------------------------------

TCP_HEADER = "  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode\n"


def tcp_row(local, remote, state):
    return (
        f"   0: {local} {remote} {state} 00000000:00000000 00:00000000 00000000    33        0 4242 1 0 20 4 30 10 -1\n"
    )


def write_connections(root, tcp=(), tcp6=()):
    (root / "net").mkdir(exist_ok=True)
    (root / "net" / "tcp").write_text(TCP_HEADER + "".join(tcp))
    (root / "net" / "tcp6").write_text(TCP_HEADER + "".join(tcp6))


def test_open_connections_are_the_established_ones_to_the_ports(tmp_path):
    # 8101 is 1FA5, 8102 1FA6; nginx's side of a proxied request has the slot port as its remote port.
    write_connections(
        tmp_path,
        tcp=[
            tcp_row("0100007F:D2A4", "0100007F:1FA5", "01"),
            tcp_row("0100007F:D2A5", "0100007F:1FA5", "06"),  # TIME_WAIT: gone for the app
            tcp_row("0100007F:1FA5", "00000000:0000", "0A"),  # docker-proxy listening
            tcp_row("0100007F:1FA5", "0100007F:D2A6", "01"),  # docker-proxy's side of it
            tcp_row("0100007F:D2A7", "0100007F:1FA6", "01"),
        ],
        tcp6=[tcp_row("00000000000000000000000001000000:D2A8", "00000000000000000000000001000000:1FA5", "01")],
    )
    assert nginx_upstream.open_connections([8101], str(tmp_path)) == 2
    assert nginx_upstream.open_connections([8101, 8102], str(tmp_path)) == 3
    assert nginx_upstream.open_connections([9000], str(tmp_path)) == 0


def test_a_drain_ends_once_the_old_workers_left_and_the_connections_closed(tmp_path, monkeypatch, clock):
    proc = FakeProc(tmp_path)
    proc.reload("shutting down")
    write_connections(tmp_path, tcp=[tcp_row("0100007F:D2A4", "0100007F:1FA5", "01")])

    def time_passes(seconds):
        clock.sleep(seconds)
        if clock.now >= 0.3:
            proc.leave(101, 102)
        if clock.now >= 0.6:
            write_connections(tmp_path)

    monkeypatch.setattr(nginx_upstream.time, "monotonic", clock)
    monkeypatch.setattr(nginx_upstream.time, "sleep", time_passes)
    assert nginx_upstream.drain([8101], 30, str(proc.pid_file), str(tmp_path)) is True
    assert 0.6 <= clock.now < 1


def test_a_connection_that_stays_open_ends_the_drain_at_its_bound(tmp_path, monkeypatch, clock):
    write_connections(tmp_path, tcp=[tcp_row("0100007F:D2A4", "0100007F:1FA5", "01")])
    monkeypatch.setattr(nginx_upstream.time, "monotonic", clock)
    monkeypatch.setattr(nginx_upstream.time, "sleep", clock.sleep)
    assert nginx_upstream.drain([8101], 5, None, str(tmp_path)) is False
    assert clock.now >= 5


def test_nothing_to_drain_returns_at_once(tmp_path, monkeypatch, clock):
    FakeProc(tmp_path)
    write_connections(tmp_path)
    monkeypatch.setattr(nginx_upstream.time, "sleep", clock.sleep)
    assert nginx_upstream.drain([8101], 5, str(tmp_path / "nginx.pid"), str(tmp_path)) is True
    assert clock.now == 0


# `nginx -T` on the demo host (nginx 1.26): two environments' upstream includes and the demo environment's site.
NGINX_T = (pathlib.Path(__file__).parent / "nginx-T-demo.txt").read_text()


def test_a_site_routes_to_the_service_it_proxies_to_and_serves_the_static_files_of():
    routed = nginx_upstream.routes_to(NGINX_T, nginx_upstream.identity("demo", "demo", "web"))
    assert routed == [
        "alias /var/www/appstack/demo-demo-web/current/;",
        "proxy_pass http://demo_demo_web;",
        "proxy_pass http://demo_demo_web;",
    ]


@pytest.mark.parametrize(("env", "service"), [("staging", "web"), ("demo", "api"), ("demo", "we")])
def test_an_upstream_block_alone_or_a_name_it_begins_with_is_not_a_route(env, service):
    assert nginx_upstream.routes_to(NGINX_T, nginx_upstream.identity("demo", env, service)) == []
