import pytest

from ansible_collections.appstack.platform.plugins.module_utils import release_plan


def test_config_hash_ignores_key_order_but_not_values():
    assert release_plan.config_hash({"a": 1, "b": [1, 2]}) == release_plan.config_hash({"b": [1, 2], "a": 1})
    assert release_plan.config_hash({"a": 1}) != release_plan.config_hash({"a": 2})


def test_release_id_changes_with_image_or_config():
    base = release_plan.release_id("sha256:aaa", "h1")
    assert len(base) == 12
    assert base != release_plan.release_id("sha256:bbb", "h1")
    assert base != release_plan.release_id("sha256:aaa", "h2")


@pytest.mark.parametrize(
    ("running", "expected"),
    [
        ({"image_id": "sha256:aaa", "config_hash": "h1"}, True),
        ({"image_id": "sha256:bbb", "config_hash": "h1"}, False),
        ({"image_id": "sha256:aaa", "config_hash": "h2"}, False),
        (None, False),
        ({}, False),
    ],
)
def test_is_current(running, expected):
    assert release_plan.is_current(running, "sha256:aaa", "h1") is expected


@pytest.mark.parametrize(("live", "expected"), [(None, 8001), (8001, 8002), (8002, 8001), (9999, 8001)])
def test_idle_port_is_the_other_slot(live, expected):
    assert release_plan.idle_port([8001, 8002], live) == expected


@pytest.mark.parametrize("slots", [[8001], [8001, 8001], [8001, 8002, 8003]])
def test_idle_port_needs_two_distinct_slots(slots):
    with pytest.raises(ValueError, match="two different ports"):
        release_plan.idle_port(slots, None)


def test_to_prune_keeps_the_newest():
    stopped = [(3, "c"), (1, "a"), (2, "b"), (4, "d")]
    assert release_plan.to_prune(stopped, keep=2) == ["b", "a"]
    assert release_plan.to_prune(stopped, keep=10) == []


@pytest.mark.parametrize(
    ("paths_in_use", "unused"),
    [
        ([], ["a", "b"]),
        (["/etc/appstack/demo-prod/releases/a/app.env"], ["b"]),
        (["/etc/appstack/demo-prod/releases/b/secrets", None], ["a"]),
        # Another environment's files, or files elsewhere, keep nothing here.
        (["/etc/appstack/demo-staging/releases/a/app.env", "/srv/app.env"], ["a", "b"]),
    ],
)
def test_unused_configs_are_those_no_container_path_lies_in(paths_in_use, unused):
    assert release_plan.unused_configs(["a", "b"], "/etc/appstack/demo-prod/releases", paths_in_use) == unused
