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
