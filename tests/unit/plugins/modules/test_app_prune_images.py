"""app_prune_images against the fake Docker API, on ledgers and containers that real rollouts (app_rollout's) left."""

import pytest

from ansible_collections.appstack.platform.plugins.modules import app_prune_images
from ansible_collections.appstack.platform.tests.unit.plugins.modules.fake_docker import FakeImage
from ansible_collections.appstack.platform.tests.unit.plugins.modules.fake_module import FakeModule
from ansible_collections.appstack.platform.tests.unit.plugins.modules.test_app_rollout import WORKER, roll_out

REGISTRY = {f"registry.test/demo@sha256:d{n}": f"sha256:{n}{n}{n}r" for n in (1, 2, 3)}


def prune(host, check_mode=False, deployment="prod"):
    module = FakeModule(
        app_prune_images.argument_spec(),
        {"app": "demo", "deployment": deployment, "ledger_dir": str(host.tmp / "ledger")},
        check_mode,
    )
    host.last_module = module
    return app_prune_images.prune(module, host.engine)


def on_host(host):
    return {image["Id"] for image in host.engine.api.images()}


@pytest.fixture
def registry_releases(host):
    """A local image's release, then three registry releases; one stopped release is kept, so the local one and
    the first registry one are pruned."""
    for reference, image_id in REGISTRY.items():
        host.engine.images_by_ref[reference] = FakeImage(image_id)
    roll_out(host, keep_releases=1)
    for reference in REGISTRY:
        roll_out(host, image=reference, keep_releases=1)
    return list(REGISTRY.values())


def test_the_image_of_a_pruned_registry_release_is_removed(host, registry_releases):
    result = prune(host)
    assert result["changed"] and result["kept"] == []
    assert result["removed"] == [{"id": "sha256:111r", "references": ["registry.test/demo@sha256:d1"], "size": 1000}]
    assert "sha256:111r" not in on_host(host)
    # The kept release's and the serving release's images stay.
    assert {"sha256:222r", "sha256:333r"} <= on_host(host)
    assert prune(host) == {"changed": False, "removed": [], "kept": []}


def test_an_image_built_or_loaded_on_the_host_is_left_though_its_release_was_pruned(host, registry_releases):
    # demo:v1 released first, its container pruned: nothing could bring the image back.
    assert "sha256:111" in on_host(host)
    prune(host)
    assert "sha256:111" in on_host(host)


def test_an_image_with_a_tag_of_the_users_own_is_left_with_dockers_answer(host, registry_releases):
    host.engine.images_by_ref["registry.test/demo:one"] = FakeImage("sha256:111r")
    host.engine.images_by_ref["keep/this:one"] = FakeImage("sha256:111r")
    result = prune(host)
    assert not result["changed"] and result["removed"] == []
    assert result["kept"] == [
        {
            "id": "sha256:111r",
            "references": ["keep/this:one", "registry.test/demo:one", "registry.test/demo@sha256:d1"],
            "size": 1000,
            "reason": "conflict: unable to delete 111r (must be forced) - image is referenced in multiple repositories",
        }
    ]
    assert "sha256:111r" in on_host(host)


def test_an_image_another_environment_runs_is_left(host, registry_releases):
    roll_out(host, deployment="staging", image="registry.test/demo@sha256:d1", **WORKER)
    assert prune(host) == {"changed": False, "removed": [], "kept": []}
    assert "sha256:111r" in on_host(host)


def test_an_image_a_container_started_from_after_the_listing_is_left_with_dockers_answer(
    host, registry_releases, monkeypatch
):
    worker = roll_out(host, deployment="staging", image="registry.test/demo@sha256:d1", **WORKER)["container"]
    monkeypatch.setattr(host.engine, "list", lambda all, filters=None, sparse=False: [])
    result = prune(host)
    # Docker's own check refuses every image a container uses, the kept and the serving release's too.
    assert result["removed"] == []
    reasons = {image["id"]: image["reason"] for image in result["kept"]}
    assert sorted(reasons) == ["sha256:111r", "sha256:222r", "sha256:333r"]
    assert reasons["sha256:111r"] == (
        f"conflict: unable to delete 111r (cannot be forced) - image is being used by running container {worker}"
    )
    assert {"sha256:111r", "sha256:222r", "sha256:333r"} <= on_host(host)


def test_check_mode_names_what_it_would_remove_and_removes_nothing(host, registry_releases):
    result = prune(host, check_mode=True)
    assert result["changed"] and [image["id"] for image in result["removed"]] == ["sha256:111r"]
    assert "sha256:111r" in on_host(host)


def test_a_corrupt_ledger_removes_nothing_and_says_why(host, registry_releases):
    (host.tmp / "ledger" / "demo-prod" / "releases.json").write_text("{not json")
    assert prune(host) == {"changed": False, "removed": [], "kept": []}
    assert "no image is removed" in host.last_module.warnings[0]
    assert "sha256:111r" in on_host(host)


def test_an_environment_without_a_ledger_has_nothing_to_remove(host):
    assert prune(host, deployment="never-deployed") == {"changed": False, "removed": [], "kept": []}


UNRELEASED = "sha256:" + "4" * 64


def record_pull(host, image_id, deployment="prod"):
    """What the app role's configuration task writes for each registry image it pulls."""
    directory = host.tmp / "ledger" / f"demo-{deployment}" / "pulled-images"
    directory.mkdir(parents=True, exist_ok=True)
    (directory / image_id.removeprefix("sha256:")).write_text("registry.test/demo@sha256:d4\n")
    return directory / image_id.removeprefix("sha256:")


def test_an_image_pulled_for_a_deploy_that_never_released_it_is_removed_with_its_record(host, registry_releases):
    host.engine.images_by_ref["registry.test/demo@sha256:d4"] = FakeImage(UNRELEASED)
    record = record_pull(host, UNRELEASED)
    result = prune(host)
    assert sorted(image["id"] for image in result["removed"]) == ["sha256:111r", UNRELEASED]
    assert UNRELEASED not in on_host(host)
    assert not record.exists()


def test_a_pulled_image_a_container_uses_keeps_its_record(host, registry_releases):
    record = record_pull(host, "sha256:" + "3" * 64)
    host.engine.images_by_ref["registry.test/demo@sha256:d3"] = FakeImage("sha256:" + "3" * 64)
    roll_out(host, image="registry.test/demo@sha256:d3", keep_releases=1)
    prune(host)
    assert "sha256:" + "3" * 64 in on_host(host)
    assert record.exists()


def test_the_record_of_an_image_removed_by_someone_else_is_forgotten(host, registry_releases):
    record = record_pull(host, UNRELEASED)
    assert prune(host, check_mode=True)["changed"] and record.exists()
    assert prune(host)["changed"] and not record.exists()


def test_another_environments_pulled_image_is_left(host, registry_releases):
    host.engine.images_by_ref["registry.test/demo@sha256:d4"] = FakeImage(UNRELEASED)
    record = record_pull(host, UNRELEASED, deployment="staging")
    prune(host)
    assert UNRELEASED in on_host(host) and record.exists()
