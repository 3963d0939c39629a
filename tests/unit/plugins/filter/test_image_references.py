from ansible_collections.appstack.platform.plugins.filter.image_references import image_references

DIGEST = "sha256:" + "ab" * 32
OTHER = "sha256:" + "cd" * 32


def info(tags, digests):
    return {"RepoTags": tags, "RepoDigests": digests}


def test_a_pulled_tag_is_pinned_to_the_digest_of_its_own_repository():
    infos = [
        info(["registry.test:5000/demo:v2"], [f"mirror.test/demo@{OTHER}", f"registry.test:5000/demo@{DIGEST}"]),
        info(["registry.test:5000/worker"], [f"registry.test:5000/worker@{OTHER}"]),
        info(["nginx:1.27"], [f"nginx@{DIGEST}"]),
    ]
    images = ["registry.test:5000/demo:v2", "registry.test:5000/worker", "nginx:1.27"]
    assert image_references(images, infos) == {
        "registry.test:5000/demo:v2": f"registry.test:5000/demo@{DIGEST}",
        # A port is not a tag: an image without a tag is its own repository.
        "registry.test:5000/worker": f"registry.test:5000/worker@{OTHER}",
        "nginx:1.27": f"nginx@{DIGEST}",
    }


def test_images_by_digest_local_builds_and_unknown_images_stay_as_given():
    infos = [info(["appstack-demo-app:v1"], []), info(["copied:v1"], [f"elsewhere/copied@{DIGEST}"])]
    images = [f"registry.test:5000/demo@{DIGEST}", "appstack-demo-app:v1", "copied:v1", "never-pulled:v1"]
    assert image_references(images, infos) == {image: image for image in images}
