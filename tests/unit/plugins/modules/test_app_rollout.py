"""app_rollout's logic against a fake Docker API and fake HTTP answers (the module's two outside boundaries)."""

import json
import os

import pytest
from ansible.module_utils.common.parameters import remove_values
from docker.errors import ImageNotFound

from ansible_collections.appstack.platform.plugins.module_utils import (
    health_gate,
    nginx_upstream,
    release_ledger,
    service_lock,
)
from ansible_collections.appstack.platform.plugins.modules import app_rollout
from ansible_collections.appstack.platform.tests.unit.plugins.modules.fake_docker import (
    FakeContainer,
    FakeImage,
)
from ansible_collections.appstack.platform.tests.unit.plugins.modules.fake_module import (
    Failed,
)

WORKER = {"service": "worker", "kind": "worker", "slot_ports": None, "upstream_file": None, "verify_url": None}
SINGLETON = {"service": "beat", "kind": "singleton", "slot_ports": None, "upstream_file": None, "verify_url": None}


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
    assert set(result["phases"]) == {"start", "gate", "smoke", "switch", "verify", "prune"}


def test_without_an_upstream_name_a_hyphenated_app_switches_the_block_its_site_proxies_to(host):
    result = roll_out(host, app="my-app")
    assert result["outcome"] == "succeeded"
    assert "upstream my_app_prod_web {" in host.upstream.read_text()


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


def test_a_variable_given_as_a_number_or_as_its_text_is_one_release(host):
    # ansible-core before 2.19 renders an inventory's "{{ cpus * 2 }}" as '4', later releases as 4.
    first = roll_out(host, environment={"CONCURRENCY": 4, "DEBUG": False})
    again = roll_out(host, environment={"CONCURRENCY": "4", "DEBUG": "False"})
    assert again["outcome"] == "unchanged" and again["release"] == first["release"]
    environment = host.engine.containers_by_name[first["container"]].options["environment"]
    assert environment["CONCURRENCY"] == "4" and environment["DEBUG"] == "False"


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
    # The old release drained while it still ran.
    assert host.drains == [([8101], 0, sorted([first["container"], second["container"]]))]


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
    first = roll_out(host, **WORKER)
    second = roll_out(host, image="demo:v2", stop_timeout=120, **WORKER)
    module = host.last_module
    assert second["outcome"] == "succeeded" and "port" not in second
    assert host.engine.running() == [second["container"]]
    assert host.engine.containers_by_name[first["container"]].stopped_with == 120
    assert module.commands == []
    assert set(second["phases"]) == {"start", "gate", "stop", "prune"}


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


def test_a_rollback_moves_traffic_on_one_healthy_answer_where_a_release_needs_its_full_proof(host):
    first = roll_out(host)
    roll_out(host, image="demo:v2", verify_seconds=0)
    # Port 8101 (v1 again) answers once for the gate and once for the smoke test, then fails; so does nginx after
    # one answer: a deploy (two successes each, a verification window) would be refused, a rollback is not.
    flaky = {"http://127.0.0.1:8101": [200, 200, 500], "http://127.0.0.1/": [200, 500]}
    host.http.answers.update(flaky)
    back = roll_out(host, image=None, rollback_to="previous")
    assert back["outcome"] == "succeeded" and back["release"] == first["release"]
    assert nginx_upstream.current_port(str(host.upstream)) == 8101

    host.http.answers.update({"http://127.0.0.1:8102": [200, 200, 500]})
    with pytest.raises(Failed, match="failed its smoke test"):
        roll_out(host, image="demo:v1", memory="64m")


def test_a_rollback_records_the_revision_the_replaced_release_left_and_names_what_the_database_gained(host):
    roll_out(host, migration_revision="0002")
    roll_out(host, image="demo:v2", migration_revision="0003")
    back = roll_out(host, image=None, rollback_to="previous")
    assert host.ledger()[-1]["migration_revision"] == "0003"
    assert back["database_ahead"] == ["0003"]
    assert host.last_module.warnings == [
        f"demo-prod-web: the database has 0003 since release {back['release']} was deployed (at 0002); a rollback "
        "reverts no migration: the release runs on the newer schema"
    ]

    forward = roll_out(host, image=None, rollback_to="previous")
    assert forward["release"] == back["previous_release"]
    assert forward["database_ahead"] == [] and host.last_module.warnings == []
    assert host.ledger()[-1]["migration_revision"] == "0003"

    # The first rollback's record carries 0003 too, inherited: the release was still deployed at 0002.
    again = roll_out(host, image=None, rollback_to="previous")
    assert again["release"] == back["release"] and again["database_ahead"] == ["0003"]


def test_a_long_history_is_trimmed_and_a_rollback_still_finds_what_it_reads(host):
    roll_out(host, migration_revision="0002")
    roll_out(host, image="demo:v2", migration_revision="0003")
    ledger_file = host.tmp / "ledger" / "demo-prod" / "releases.json"
    failed = dict(host.ledger()[-1], release="f", outcome="failed")
    ledger_file.write_text(json.dumps(host.ledger() + [failed] * (release_ledger.RECORDS_KEPT_PER_SERVICE + 50)))
    back = roll_out(host, image=None, rollback_to="previous")
    assert back["outcome"] == "succeeded" and back["database_ahead"] == ["0003"]
    assert len(host.ledger()) == release_ledger.RECORDS_KEPT_PER_SERVICE + 2
    assert [r["release"] for r in host.ledger()[:2]] == [back["release"], back["previous_release"]]


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


# ---- faults: smoke before the switch, reverts, interrupted runs, the lock, the ledger ---------------------------


class Killed(BaseException):
    """The module's process dying (an SSH drop, a kill -9): nothing after it runs, not even except clauses."""


def roll_out_killed_in(host, monkeypatch, owner, name, **overrides):
    """A rollout whose process dies when it reaches ``owner.name``."""

    def killed(*args, **kwargs):
        raise Killed

    with monkeypatch.context() as patch, pytest.raises(Killed):
        patch.setattr(owner, name, killed)
        roll_out(host, **overrides)


def test_a_release_healthy_on_its_health_path_but_failing_its_routes_never_receives_traffic(host):
    first = roll_out(host)
    host.http.answers = {
        "http://127.0.0.1:8102/health": 200,
        "http://127.0.0.1:8102/": 500,
        **host.http.answers,
    }
    upstream_before = host.upstream.read_text()
    with pytest.raises(Failed) as failure:
        roll_out(host, image="demo:v2", smoke_paths=["/api/items"])
    result = failure.value.result
    assert "failed its smoke test before the switch: /api/items answered 500" in result["msg"]
    assert "received no traffic" in result["msg"]
    assert host.upstream.read_text() == upstream_before
    assert host.last_module.commands == []
    assert host.engine.running() == [first["container"]]
    assert "switch" not in result["phases"]
    assert [probe["path"] for probe in result["evidence"]["last_probes"]] == ["/health", "/api/items"]


def test_smoke_probes_the_verification_path_and_each_smoke_path_with_the_verification_headers(host, monkeypatch):
    seen = []
    real_open_url = health_gate.open_url

    def recording_open_url(url, **kwargs):
        seen.append((url, kwargs.get("headers")))
        return real_open_url(url, **kwargs)

    monkeypatch.setattr(health_gate, "open_url", recording_open_url)
    roll_out(host, smoke_paths=["/api/items", "/health"], verify_headers={"Host": "app.test"})
    direct = {(url, tuple(headers.items())) for url, headers in seen if url.startswith("http://127.0.0.1:8101/")}
    assert sorted(direct) == [
        ("http://127.0.0.1:8101/api/items", (("Host", "app.test"),)),
        ("http://127.0.0.1:8101/health", ()),
        ("http://127.0.0.1:8101/health", (("Host", "app.test"),)),
    ]


def test_a_revert_drains_the_new_release_before_removing_it(host):
    first = roll_out(host)
    host.http.answers["http://127.0.0.1/"] = [200, 500]
    with pytest.raises(Failed) as failure:
        roll_out(host, image="demo:v2", drain_seconds=4)
    new = app_rollout.Rollout(host.last_module, host.engine).container_name(failure.value.result["release"])
    assert host.drains[-1] == ([8102], 4, sorted([first["container"], new]))
    assert "revert_drain" in failure.value.result["phases"]
    assert host.engine.running() == [first["container"]]


def test_when_the_revert_fails_the_new_release_keeps_running_for_the_traffic_nginx_may_still_send(host):
    first = roll_out(host)
    host.http.answers["http://127.0.0.1/"] = [200, 500]

    def revert_rejected(module):
        module.answers["nginx"] = [(0, "", ""), (1, "", "emerg: disk full")]

    with pytest.raises(Failed) as failure:
        roll_out(host, image="demo:v2", prepare=revert_rejected)
    result = failure.value.result
    assert "the revert failed" in result["msg"] and "keeps running" in result["msg"]
    assert len(host.engine.running()) == 2 and first["container"] in host.engine.running()
    assert result["evidence"]["container"]["status"] == "running"


def test_a_missing_nginx_binary_fails_the_rollout_with_the_upstream_file_restored(host):
    first = roll_out(host)
    upstream_before = host.upstream.read_text()

    def no_systemctl(module):
        module.answers["systemctl"] = None

    with pytest.raises(Failed) as failure:
        roll_out(host, image="demo:v2", prepare=no_systemctl)
    assert "systemctl" in failure.value.result["msg"]
    assert host.upstream.read_text() == upstream_before
    assert host.engine.running() == [first["container"]]


def test_a_run_killed_during_verification_is_reconciled_by_the_next_run(host, monkeypatch):
    first = roll_out(host)
    roll_out_killed_in(host, monkeypatch, app_rollout, "run_window", image="demo:v2")
    assert len(host.engine.running()) == 2
    assert [r["outcome"] for r in host.ledger()] == ["succeeded", "in_progress"]

    again = roll_out(host, image="demo:v2")
    serving_port = nginx_upstream.current_port(str(host.upstream))
    assert again["outcome"] == "unchanged" and again["changed"]
    # nginx is made to serve what the file says before the other release is stopped (the kill may have come
    # between writing the file and the reload).
    assert host.last_module.commands == [["nginx", "-t"], ["systemctl", "reload", "nginx"]]
    assert again["reconciled"]["stopped"] == [first["container"]]
    assert host.engine.running() == [again["container"]]
    assert again["port"] == serving_port == 8102
    ledger = host.ledger()
    assert [r["outcome"] for r in ledger] == ["succeeded", "interrupted", "reconciled"]
    assert ledger[-1]["release"] == again["release"]
    assert app_rollout.Rollout(host.module(), host.engine).ledger.previous_good("web", again["release"]) == ledger[0]


def test_a_run_killed_during_the_gate_leaves_a_container_the_next_rollout_of_another_image_cleans_up(host, monkeypatch):
    first = roll_out(host)
    roll_out_killed_in(host, monkeypatch, app_rollout, "run_gate", image="demo:v2")

    third = roll_out(host, image="demo:v3")
    assert third["outcome"] == "succeeded"
    assert len(third["reconciled"]["stopped"]) == 1 and third["reconciled"]["interrupted"] == []
    assert third["reconciled"]["active_release"] == first["release"]
    assert host.engine.running() == [third["container"]]


def test_an_interrupted_worker_rollout_keeps_the_worker_that_passed_its_gate(host, monkeypatch):
    roll_out(host, **WORKER)
    roll_out_killed_in(host, monkeypatch, FakeContainer, "stop", image="demo:v2", **WORKER)
    again = roll_out(host, image="demo:v2", **WORKER)
    assert again["outcome"] == "unchanged"
    assert host.engine.running() == [again["container"]]
    assert host.engine.containers_by_name[again["container"]].labels["appstack.image_id"] == "sha256:222"


def test_a_second_run_on_the_service_waits_for_the_lock_then_names_its_holder(host):
    holder = {"pid": 4242, "host": "ci-runner", "image": "demo:v9"}
    lock = app_rollout.Rollout(host.module(), host.engine).lock_path
    with service_lock.held(lock, 1, holder), pytest.raises(Failed) as failure:
        roll_out(host, lock_timeout=0.3)
    message = failure.value.result["msg"]
    assert "another rollout holds the lock" in message and "waited 0.3 s" in message
    assert "pid 4242" in message and "host ci-runner" in message
    assert host.engine.containers_by_name == {}
    assert roll_out(host)["lock_waited"] < 1


def test_a_corrupt_ledger_fails_before_anything_changes_and_is_moved_aside(host):
    first = roll_out(host)
    ledger_file = host.tmp / "ledger" / "demo-prod" / "releases.json"
    ledger_file.write_text('[{"release": "abc", "outcome": "succ')
    upstream_before = host.upstream.read_text()
    with pytest.raises(Failed) as failure:
        roll_out(host, image="demo:v2")
    message = failure.value.result["msg"]
    assert "is not JSON" in message and "nothing was changed" in message and "moved to" in message
    assert host.engine.running() == [first["container"]]
    assert host.upstream.read_text() == upstream_before
    assert not ledger_file.exists()
    assert [p.name.split("-")[0] for p in ledger_file.parent.iterdir() if "corrupt" in p.name] == [
        "releases.json.corrupt"
    ]


def test_secret_values_are_masked_in_the_evidence_the_module_returns(host):
    roll_out(host)
    host.http.answers["http://127.0.0.1:8102"] = 500
    with pytest.raises(Failed) as failure:
        roll_out(host, image="demo:v2")
    evidence = dict(failure.value.result["evidence"], log_tail=["connecting to postgresql://app:s3cret@db/app"])
    masked = remove_values(evidence, host.last_module.no_log_values)
    assert masked["log_tail"] == ["connecting to ********"]


def test_a_worker_without_a_health_check_must_keep_running_for_its_minimum_uptime(host):
    health = dict(host.module().params["health"], deadline=2, min_uptime=0.3)
    result = roll_out(host, health=health, **WORKER)
    assert result["outcome"] == "succeeded"
    assert result["phases"]["gate"] >= 0.3


def test_a_release_docker_restarts_during_the_gate_fails_it_at_once(host):
    first = roll_out(host, **WORKER)

    def crash_loop(container):
        if container.labels["appstack.image_id"] == "sha256:222":
            container.restarts, container.exit_code = 1, 1

    host.engine.on_reload = crash_loop
    with pytest.raises(Failed) as failure:
        roll_out(host, image="demo:v2", **WORKER)
    assert "was restarted 1 times by Docker (last exit code 1)" in failure.value.result["msg"]
    assert host.engine.running() == [first["container"]]


def test_an_image_pinned_by_digest_and_removed_since_the_deploy_pulled_it_is_pulled_again(host):
    pinned = "registry.test/demo@sha256:d1"
    host.engine.registry[pinned] = "sha256:d1d1"
    result = roll_out(host, image=pinned)
    assert result["outcome"] == "succeeded"
    assert host.engine.get(pinned).id == "sha256:d1d1"
    assert (host.ledger()[-1]["image"], host.ledger()[-1]["image_id"]) == (pinned, "sha256:d1d1")


def test_a_tag_that_is_not_on_the_host_is_not_pulled(host):
    host.engine.registry["registry.test/demo:1"] = "sha256:d1d1"
    with pytest.raises(ImageNotFound):
        roll_out(host, image="registry.test/demo:1")
    assert host.engine.containers_by_name == {}


def rollback_after_the_image_was_pruned(host):
    first = roll_out(host, image="registry.test/demo:1")
    roll_out(host, image="demo:v2")
    host.engine.remove_image(first_image_id := host.ledger()[0]["image_id"])
    return first, first_image_id


def test_a_rollback_to_a_pruned_image_pulls_it_again_by_its_reference(host):
    host.engine.images_by_ref["registry.test/demo:1"] = FakeImage("sha256:111")
    first, image_id = rollback_after_the_image_was_pruned(host)
    host.engine.registry["registry.test/demo:1"] = image_id
    back = roll_out(host, image=None, rollback_to="previous")
    assert back["release"] == first["release"]
    assert host.ledger()[-1]["image"] == "registry.test/demo:1"


def test_a_rollback_to_a_pruned_image_the_registry_now_serves_differently_is_refused(host):
    host.engine.images_by_ref["registry.test/demo:1"] = FakeImage("sha256:111")
    first, image_id = rollback_after_the_image_was_pruned(host)
    host.engine.registry["registry.test/demo:1"] = "sha256:999"
    with pytest.raises(Failed) as failure:
        roll_out(host, image=None, rollback_to="previous")
    message = failure.value.result["msg"]
    assert f"release {first['release']} of demo-prod-web (image registry.test/demo:1, id {image_id})" in message
    assert "now is another image (sha256:999)" in message


def test_a_rollback_to_a_pruned_image_with_nothing_to_pull_it_by_names_the_release(host):
    host.engine.images_by_ref["registry.test/demo:1"] = FakeImage("sha256:111")
    first = rollback_after_the_image_was_pruned(host)[0]
    with pytest.raises(Failed, match=f"release {first['release']} .* pulling it failed: .*not found"):
        roll_out(host, image=None, rollback_to="previous")


# ---- release configurations: each release keeps the files it was released with ---------------------------------


def release_config(host, name, token):
    """A configuration directory as the app role writes it: releases/<id>/{app.env,secrets/}."""
    directory = host.tmp / "releases" / name
    (directory / "secrets").mkdir(parents=True)
    (directory / "app.env").write_text(f"CONFIG={name}\n")
    (directory / "secrets" / "API_TOKEN").write_text(token)
    return {
        "env_file": str(directory / "app.env"),
        "secrets_dir": str(directory / "secrets"),
        "release_configs_dir": str(host.tmp / "releases"),
    }


def test_each_release_mounts_its_own_configuration_and_the_ledger_records_it(host):
    first = roll_out(host, **release_config(host, "a", "token-a"))
    second = roll_out(host, image="demo:v2", **release_config(host, "b", "token-b"))
    options = host.engine.containers_by_name[second["container"]].options
    assert options["volumes"] == {str(host.tmp / "releases/b/secrets"): {"bind": "/run/secrets", "mode": "ro"}}
    assert options["environment"]["CONFIG"] == "b"
    assert host.engine.containers_by_name[first["container"]].labels["appstack.secrets_dir"].endswith("a/secrets")
    assert [r["env_file"].split("/")[-2] for r in host.ledger()] == ["a", "b"]


def test_a_rollback_runs_with_the_secrets_its_release_was_released_with(host):
    first = roll_out(host, **release_config(host, "a", "token-a"))
    roll_out(host, image="demo:v2", **release_config(host, "b", "token-b"))
    back = roll_out(host, image=None, rollback_to="previous", env_file=None, secrets_dir=None)
    options = host.engine.containers_by_name[back["container"]].options
    assert back["release"] == first["release"]
    assert options["volumes"] == {str(host.tmp / "releases/a/secrets"): {"bind": "/run/secrets", "mode": "ro"}}
    assert options["environment"]["CONFIG"] == "a"
    assert "token-a" in host.last_module.no_log_values


def test_configurations_no_container_uses_are_pruned_and_kept_ones_stay(host):
    roll_out(host, keep_releases=1, **release_config(host, "a", "token-a"))
    roll_out(host, image="demo:v2", keep_releases=1, **release_config(host, "b", "token-b"))
    release_config(host, "never-used", "token-x")
    roll_out(host, image="demo:v3", keep_releases=1, **release_config(host, "c", "token-c"))
    # c serves, b is the one stopped release kept for rollback; a went with its container, never-used with nothing.
    assert sorted(p.name for p in (host.tmp / "releases").iterdir()) == ["b", "c"]


def test_a_configuration_used_by_another_service_is_kept(host):
    shared = release_config(host, "a", "token-a")
    roll_out(host, **shared)
    roll_out(host, **dict(WORKER, **shared))
    roll_out(host, image="demo:v2", keep_releases=0, **release_config(host, "b", "token-b"))
    assert sorted(p.name for p in (host.tmp / "releases").iterdir()) == ["a", "b"]


def test_a_rollback_whose_configuration_was_pruned_names_it(host):
    roll_out(host, **release_config(host, "a", "token-a"))
    roll_out(host, image="demo:v2", **release_config(host, "b", "token-b"))
    (host.tmp / "releases" / "a" / "app.env").unlink()
    with pytest.raises(Failed) as failure:
        roll_out(host, image=None, rollback_to="previous", env_file=None, secrets_dir=None)
    message = failure.value.result["msg"]
    assert "releases/a/app.env) is not on this host" in message and "roll back to a release that is kept" in message


def test_check_mode_with_a_configuration_not_written_yet_reports_a_rollout(host):
    roll_out(host, **release_config(host, "a", "token-a"))
    missing = {"env_file": str(host.tmp / "releases/b/app.env"), "secrets_dir": str(host.tmp / "releases/b/secrets")}
    assert roll_out(host, check_mode=True, **missing)["outcome"] == "would_roll_out"
    with pytest.raises(Failed, match=r"releases/b/app.env, .*releases/b/secrets\) is not on this host: write it"):
        roll_out(host, **missing)


def test_secrets_delivered_as_environment_variables_reach_the_environment_and_are_masked(host):
    env_secrets = host.tmp / "env-secrets"
    env_secrets.mkdir()
    (env_secrets / "SECRET_KEY").write_text("s3cret-key")
    first = roll_out(host)
    second = roll_out(host, env_secrets_dir=str(env_secrets))
    options = host.engine.containers_by_name[second["container"]].options
    assert second["release"] != first["release"]
    assert options["environment"]["SECRET_KEY"] == "s3cret-key"
    assert "SECRET_KEY_FILE" not in options["environment"]
    assert list(options["volumes"]) == [str(host.tmp / "secrets")]
    assert "s3cret-key" in host.last_module.no_log_values
    assert host.ledger()[-1]["env_secrets_dir"] == str(env_secrets)


def test_data_volumes_are_made_once_given_to_the_app_user_and_kept_across_releases(host, monkeypatch):
    host.engine.volumes.root = host.tmp / "volumes"
    chowned = []
    monkeypatch.setattr(app_rollout.app_container.os, "chown", lambda path, uid, gid: chowned.append((path, uid, gid)))
    media = [{"name": "media", "host_path": None, "path": "/app/media", "read_only": False}]
    first = roll_out(host, volumes=media, user="10001")
    second = roll_out(host, image="demo:v2", volumes=media, user="10001")
    options = host.engine.containers_by_name[second["container"]].options
    assert options["volumes"]["demo-prod-media"] == {"bind": "/app/media", "mode": "rw"}
    assert list(host.engine.volumes.by_name) == ["demo-prod-media"]
    assert set(chowned) == {(str(host.tmp / "volumes/demo-prod-media"), 10001, 10001)}
    assert first["release"] != roll_out(host, image="demo:v1", user="10001")["release"]


@pytest.fixture
def static(host, monkeypatch):
    """Static files of the web service: served from ``current`` under a directory of the test's."""
    monkeypatch.setattr(nginx_upstream, "STATIC_ROOT", str(host.tmp / "www"))
    root = host.tmp / "www" / "demo-prod-web"
    return (root / "current" / "version.txt").read_text


def test_static_files_move_with_the_traffic_and_back_with_a_rollback(host, static):
    roll_out(host, static_path="/app/static")
    assert static() == "sha256:111"
    second = roll_out(host, image="demo:v2", static_path="/app/static")
    assert static() == "sha256:222"
    assert os.stat(host.tmp / "www/demo-prod-web/current/css/site.css").st_mode & 0o777 == 0o644
    assert set(second["phases"]) >= {"static", "switch"}
    roll_out(host, image=None, rollback_to="previous", static_path="/app/static")
    assert static() == "sha256:111"


def test_a_revert_after_the_switch_serves_the_previous_release_static_files_again(host, static):
    roll_out(host, static_path="/app/static")
    host.http.answers["http://127.0.0.1/"] = [200, 500]
    with pytest.raises(Failed):
        roll_out(host, image="demo:v2", static_path="/app/static")
    assert static() == "sha256:111"


def test_an_image_without_the_static_directory_fails_before_the_switch(host, static):
    first = roll_out(host, static_path="/app/static")
    with pytest.raises(Failed) as failure:
        roll_out(host, image="demo:v3", static_path="/app/static")
    assert "its static files could not be copied (/app/static is not in the image)" in failure.value.result["msg"]
    assert "received no traffic" in failure.value.result["msg"]
    assert host.engine.running() == [first["container"]]
    assert nginx_upstream.current_port(str(host.upstream)) == 8101
    assert static() == "sha256:111"


def test_static_copies_are_pruned_with_their_releases(host, static):
    releases = [
        roll_out(host, image=image, memory=memory, keep_releases=1, static_path="/app/static")["release"]
        for image, memory in [("demo:v1", "1m"), ("demo:v2", "2m"), ("demo:v1", "3m")]
    ]
    assert sorted(os.listdir(host.tmp / "www/demo-prod-web/releases")) == sorted(releases[1:])


def test_an_unchanged_release_whose_static_files_went_missing_gets_them_back(host, static):
    first = roll_out(host, static_path="/app/static")
    (host.tmp / "www/demo-prod-web/current").unlink()
    again = roll_out(host, static_path="/app/static")
    assert again["outcome"] == "unchanged" and again["changed"]
    assert static() == "sha256:111"
    assert roll_out(host, static_path="/app/static")["changed"] is False
    assert again["release"] == first["release"]


def test_adding_static_files_to_a_service_is_a_new_release(host, static):
    first = roll_out(host)
    assert roll_out(host, static_path="/app/static")["release"] != first["release"]
    assert static() == "sha256:111"


# ---- singletons: never two at once ------------------------------------------------------------------------------


def test_a_singleton_stops_the_old_release_before_the_new_one_starts(host):
    first = roll_out(host, **SINGLETON)
    second = roll_out(host, image="demo:v2", **SINGLETON)
    old, new = (host.engine.containers_by_name[r["container"]] for r in (first, second))
    assert old.stopped_at < new.created
    assert host.engine.running() == [second["container"]]
    assert list(second["phases"]) == ["stop", "start", "gate", "prune"]
    assert [r["outcome"] for r in host.ledger()] == ["succeeded", "succeeded"]


def test_a_singleton_failing_its_gate_is_removed_and_the_old_release_started_again(host):
    first = roll_out(host, **SINGLETON)

    def crash(container):
        if container.labels["appstack.image_id"] == "sha256:222":
            container.status, container.exit_code = "exited", 1

    host.engine.on_reload = crash
    with pytest.raises(Failed) as failure:
        roll_out(host, image="demo:v2", **SINGLETON)
    assert "failed its health gate" in failure.value.result["msg"]
    assert "the previous release was started again" in failure.value.result["msg"]
    assert host.engine.running() == [first["container"]]
    assert len(host.engine.containers_by_name) == 1


def test_a_singleton_run_killed_during_the_gate_does_not_leave_the_unproven_release_in_charge(host, monkeypatch):
    first = roll_out(host, **SINGLETON)
    roll_out_killed_in(host, monkeypatch, app_rollout, "run_gate", image="demo:v2", **SINGLETON)
    unproven = host.engine.running()
    again = roll_out(host, image="demo:v2", **SINGLETON)
    assert again["outcome"] == "succeeded"
    assert again["reconciled"] == {"active_release": None, "stopped": unproven, "interrupted": []}
    assert again["previous_release"] is None and first["container"] not in host.engine.running()
    assert host.engine.running() == [again["container"]]
