# Copyright: (c) 2026, appstack.platform maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The references that name images' exact bytes, from the digests their registry gave at the pull."""

from __future__ import annotations


def image_references(images, image_infos):
    """{image: reference} for each of ``images``: ``repository@sha256:...`` when the image's information (from
    ``docker_image_info``, matched by tag) has a digest of its repository; the image itself when it already names a
    digest or came from no registry (a local build has none)."""
    return {image: _by_digest(image, image_infos) for image in images}


def _by_digest(image, image_infos):
    if "@" in image:
        return image
    repository = _repository(image)
    for info in image_infos:
        if image in (info.get("RepoTags") or []):
            digests = info.get("RepoDigests") or []
            return next((digest for digest in digests if digest.partition("@")[0] == repository), image)
    return image


def _repository(image):
    name, _separator, tag = image.rpartition(":")
    # registry.example.com:5000/app has a port, not a tag.
    return name if name and "/" not in tag else image


class FilterModule:
    def filters(self):
        return {"image_references": image_references}
