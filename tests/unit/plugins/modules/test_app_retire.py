"""app_retire against the fake Docker API, on ledgers and containers that real rollouts (app_rollout's) left."""

import json
import pathlib

import pytest

from ansible_collections.appstack.platform.plugins.module_utils import service_lock
from ansible_collections.appstack.platform.plugins.modules import app_retire
from ansible_collections.appstack.platform.tests.unit.plugins.modules.fake_module import Failed, FakeModule
from ansible_collections.appstack.platform.tests.unit.plugins.modules.test_app_rollout import (
    SINGLETON,
    WORKER,
    roll_out,
)

# `nginx -T` on the demo host: a site that proxies to demo-demo-web and serves its static files.
NGINX_T = (pathlib.Path(__file__).parents[1] / "module_utils" / "nginx-T-demo.txt").read_text()


def retire(host, services, check_mode=False, nginx=(0, "", "")):
    module = FakeModule(
        app_retire.argument_spec(),
        {"app": "demo", "deployment": "prod", "services": services, "ledger_dir": str(host.tmp / "ledger")},
        check_mode,
    )
    module.answers["nginx"] = [nginx] if nginx else None
    host.last_module = module
    return app_retire.Retirement(module, host.engine).run()


@pytest.fixture
def web_and_workers(host):
    """web v1 then v2 (v1 kept stopped), a worker and a singleton."""
    releases = {"web": [roll_out(host)["container"], roll_out(host, image="demo:v2")["container"]]}
    releases["worker"] = [roll_out(host, **WORKER)["container"]]
    releases["beat"] = [roll_out(host, **SINGLETON)["container"]]
    return releases


def test_a_service_no_longer_declared_is_stopped_removed_and_recorded(host, web_and_workers):
    worker = host.engine.containers_by_name[web_and_workers["worker"][0]]
    result = retire(host, ["web", "beat"])
    assert result == {"changed": True, "retired": {"worker": web_and_workers["worker"]}}
    assert worker.stopped_with == 30 and worker.removed
    assert host.engine.running() == sorted([web_and_workers["web"][1], web_and_workers["beat"][0]])
    record = host.ledger()[-1]
    assert (record["service"], record["outcome"], record["removed"]) == ("worker", "retired", web_and_workers["worker"])
    # Nothing is left to retire: the next deploy changes nothing.
    assert retire(host, ["web", "beat"]) == {"changed": False, "retired": {}}


def test_declared_services_are_left_alone(host, web_and_workers):
    assert retire(host, ["web", "worker", "beat"]) == {"changed": False, "retired": {}}
    assert len(host.engine.running()) == 3 and host.last_module.commands == []


def test_check_mode_names_what_it_would_retire_and_stops_nothing(host, web_and_workers):
    result = retire(host, ["web"], check_mode=True)
    assert result == {
        "changed": True,
        "retired": {"worker": web_and_workers["worker"], "beat": web_and_workers["beat"]},
    }
    assert len(host.engine.running()) == 3 and [r["outcome"] for r in host.ledger()].count("retired") == 0


def test_a_web_service_is_retired_with_its_kept_releases_when_nginx_no_longer_routes_to_it(host, web_and_workers):
    result = retire(host, ["worker", "beat"], nginx=(0, NGINX_T, ""))
    assert result["retired"] == {"web": sorted(web_and_workers["web"])}
    assert host.last_module.commands == [["nginx", "-T"]]
    assert not any(name.startswith("demo-prod-web-") for name in host.engine.containers_by_name)


def test_a_web_service_nginx_still_routes_to_is_refused_before_anything_stops(host, web_and_workers):
    routed = NGINX_T.replace("demo_demo_web", "demo_prod_web").replace("demo-demo-web", "demo-prod-web")
    with pytest.raises(Failed) as failure:
        retire(host, ["beat"], nginx=(0, routed, ""))
    message = failure.value.result["msg"]
    assert "['web', 'worker']" in message and "proxy_pass http://demo_prod_web;" in message
    assert "alias /var/www/appstack/demo-prod-web/current/;" in message
    assert len(host.engine.running()) == 3


def test_a_host_without_nginx_routes_nothing(host, web_and_workers):
    assert "web" in retire(host, ["worker", "beat"], nginx=None)["retired"]


def test_nginx_failing_to_print_its_configuration_stops_the_retirement(host, web_and_workers):
    with pytest.raises(Failed) as failure:
        retire(host, ["worker", "beat"], nginx=(1, "", "nginx: [emerg] unknown directive"))
    assert "unknown directive" in failure.value.result["msg"] and len(host.engine.running()) == 3


def test_a_service_rolled_out_again_after_its_retirement_is_reported_again(host, web_and_workers):
    retire(host, ["web", "beat"])
    again = roll_out(host, **WORKER)
    assert again["outcome"] == "succeeded" and again["container"] in host.engine.running()
    assert retire(host, ["web", "worker", "beat"])["retired"] == {}


def test_an_unreadable_ledger_retires_nothing_and_says_so(host, web_and_workers):
    (host.tmp / "ledger" / "demo-prod" / "releases.json").write_text("{not json")
    assert retire(host, ["web"]) == {"changed": False, "retired": {}}
    assert "no service is retired" in host.last_module.warnings[0]


def test_a_rollout_holding_the_service_lock_makes_it_wait_then_fail_naming_the_holder(host, web_and_workers):
    lock = host.tmp / "ledger" / "demo-prod" / "worker.lock"
    holder = {"pid": 1, "host": "app1", "started": "now", "image": "demo:v3"}
    with service_lock.held(str(lock), 1, holder):
        module = FakeModule(
            app_retire.argument_spec(),
            {
                "app": "demo",
                "deployment": "prod",
                "services": ["web", "beat"],
                "ledger_dir": str(host.tmp / "ledger"),
                "lock_timeout": 0.2,
            },
        )
        with pytest.raises(Failed) as failure:
            app_retire.Retirement(module, host.engine).run()
    assert failure.value.result["holder"]["image"] == "demo:v3"
    assert web_and_workers["worker"][0] in host.engine.running()


def test_the_ledger_record_keeps_the_release_that_was_last_run(host, web_and_workers):
    retire(host, ["web", "worker"])
    beat = [r for r in host.ledger() if r["service"] == "beat"]
    assert beat[-1]["release"] == beat[-2]["release"] and json.dumps(beat[-1])
