#!/usr/bin/python
# Copyright: (c) 2026, appstack.platform maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: app_prune_images
short_description: Remove the images of an app environment's past releases that no container uses
version_added: 0.1.0
description:
  - Every image the environment's release ledger (C(<ledger_dir>/<app>-<env>/releases.json)) names that no
    container on the host uses (running or stopped, of any app) and that came from a registry is removed. The
    rollouts keep O(appstack.platform.app_rollout#module:keep_releases) stopped releases, so their images stay; a
    release pruned beyond them takes its image with it. Without this, each deploy of a new image leaves the previous
    one on the disk for good, and a small host's disk fills.
  - Only images with a registry digest are removed, since they can be pulled again, which is what a rollback to a
    release whose image is gone does (by the digest its ledger record keeps). An image built or loaded on the host
    has no digest; nothing could bring it back, so it is left for its owner to remove.
  - Images are removed by their ID, without force; Docker refuses an image that a container uses or that has more
    than one tag (a tag of the user's own), and such an image is left and named in RV(kept) with Docker's answer.
  - An image the app role pulled for a deploy that never released it on the host (its migration or a release
    command failed, or an earlier host's health gate stopped the deploy) has no ledger record. The role records
    each image it pulls (C(<ledger_dir>/<app>-<env>/pulled-images/<image ID digits>)), so such an image is removed
    as well once no container uses it, and its record with it.
  - The app role runs this after the host's rollouts (entry point C(rollout)), when the release of every service is
    running, so no image a service of the deploy is about to start is removed.
author: appstack.platform maintainers (@appstack)
extends_documentation_fragment:
  - appstack.platform.release_ledger
attributes:
  check_mode:
    support: full
    description: Reports the images that would be removed; removes nothing.
  diff_mode:
    support: none
    description: Images are not files; RV(removed) names them.
requirements:
  - Docker SDK for Python (python3-docker)
"""

EXAMPLES = r"""
- name: Remove the images of releases no container runs (the app role does this after each host's rollout)
  appstack.platform.app_prune_images:
    app: shop
    deployment: prod
"""

RETURN = r"""
removed:
  description: The images removed (in check mode, that would be), with their references and size in bytes.
  type: list
  elements: dict
  returned: always
  sample: [{id: "sha256:4f2a...", references: ["registry.example.com/shop@sha256:9c1d..."], size: 261046272}]
kept:
  description: Unused images of the ledger that Docker refused to remove without force, with its answer.
  type: list
  elements: dict
  returned: always
  sample: [{id: "sha256:4f2a...", references: ["registry.example.com/shop:v3", "shop:pinned"], reason: "..."}]
"""

import os
import re
import traceback

from ansible.module_utils.basic import AnsibleModule, missing_required_lib

from ansible_collections.appstack.platform.plugins.module_utils import release_ledger

try:
    import docker
    from docker.errors import APIError, DockerException, ImageNotFound

    DOCKER_IMPORT_ERROR = None
except ImportError:
    DOCKER_IMPORT_ERROR = traceback.format_exc()


IMAGE_DIGITS = re.compile(r"^[0-9a-f]{64}$")


def removable(images, released, in_use):
    """The ``images`` (Docker's image list, as its API gives it) among the ``released`` IDs that no container uses and
    that a registry can give back (they have a digest)."""
    return [
        image for image in images if image["Id"] in released and image["Id"] not in in_use and image.get("RepoDigests")
    ]


def _describe(image):
    return {
        "id": image["Id"],
        "references": sorted({*(image.get("RepoTags") or []), *(image.get("RepoDigests") or [])}),
        "size": image.get("Size"),
    }


def pulled(directory):
    """The images recorded in ``directory`` (``release_ledger.pulled_images_dir``): their IDs and record files."""
    try:
        names = os.listdir(directory)
    except FileNotFoundError:
        return {}
    return {f"sha256:{name}": os.path.join(directory, name) for name in names if IMAGE_DIGITS.match(name)}


def prune(module, client):
    environment = release_ledger.environment_of(module.params)
    ledger = release_ledger.ReleaseLedger.of(environment)
    try:
        released = {record["image_id"] for record in ledger.records() if record.get("image_id")}
    except release_ledger.LedgerCorrupt as error:
        module.warn(f"the release ledger {error}: no image is removed until a rollout moves it aside")
        return {"changed": False, "removed": [], "kept": []}
    records = pulled(release_ledger.pulled_images_dir(environment))
    in_use = {container.attrs["ImageID"] for container in client.containers.list(all=True, sparse=True)}
    # The API's list in one call: the SDK's images.list() inspects each image after listing them, and fails on one
    # another process removed in between.
    images = client.api.images()
    gone = set(records) - {image["Id"] for image in images}
    removed, kept = [], []
    for image in removable(images, released | set(records), in_use):
        if not module.check_mode:
            try:
                client.images.remove(image["Id"])
            except ImageNotFound:
                gone.add(image["Id"])
                continue
            except APIError as error:
                kept.append(dict(_describe(image), reason=str(error.explanation or error)))
                continue
            gone.add(image["Id"])
        removed.append(_describe(image))
    forgotten = gone & set(records)
    if not module.check_mode:
        for image_id in forgotten:
            os.unlink(records[image_id])
    return {"changed": bool(removed or forgotten), "removed": removed, "kept": kept}


def argument_spec():
    return dict(release_ledger.ARGUMENT_SPEC)


def main():
    module = AnsibleModule(argument_spec=argument_spec(), supports_check_mode=True)
    if DOCKER_IMPORT_ERROR:
        if module.check_mode:
            # A host without Docker yet (check mode before the docker_engine role ever ran) has no image.
            module.exit_json(changed=False, removed=[], kept=[])
        module.fail_json(msg=missing_required_lib("docker (python3-docker)"), exception=DOCKER_IMPORT_ERROR)
    try:
        result = prune(module, docker.from_env())
    except DockerException as error:
        module.fail_json(msg=f"Docker error: {error}", exception=traceback.format_exc())
    module.exit_json(**result)


if __name__ == "__main__":
    main()
