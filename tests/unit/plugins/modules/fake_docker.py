"""The one fake Docker engine of the modules' unit tests: what the modules use of docker.DockerClient (images,
containers, volumes), for a service's long-running containers and for a tool's one-off commands."""

import io
import os
import tarfile

from docker.errors import APIError, ImageNotFound, NotFound


class FakeImage:
    def __init__(self, image_id):
        self.id = image_id


class FakeImages:
    """``client.images``: an image is known by each reference of the engine's ``images_by_ref``; a reference with an
    ``@`` is a registry digest (RepoDigests), any other a tag (RepoTags)."""

    def __init__(self, engine):
        self.engine = engine

    def get(self, name):
        return self.engine.get(name)

    def pull(self, reference):
        return self.engine.pull(reference)

    def references(self, image_id):
        return [ref for ref, image in self.engine.images_by_ref.items() if image.id == image_id]

    def listed(self):
        """``client.api.images()``: Docker's list, one dict per image."""
        return [
            {
                "Id": image_id,
                "RepoTags": [ref for ref in self.references(image_id) if "@" not in ref],
                "RepoDigests": [ref for ref in self.references(image_id) if "@" in ref],
                "Size": 1000,
            }
            for image_id in dict.fromkeys(image.id for image in self.engine.images_by_ref.values())
        ]

    def remove(self, image):
        """As Docker's DELETE /images/{id} without force: refused (409) when a container uses the image or it has
        more than one tag."""
        if not self.references(image):
            raise ImageNotFound(f"No such image: {image}")
        short = image.split(":")[-1][:12]
        user = next((c for c in self.engine.containers_by_name.values() if c.image_id == image), None)
        # Docker names the container by its short id; the fake's containers have only names.
        if user and user.status == "running":
            reason = f"(cannot be forced) - image is being used by running container {user.name}"
        elif user:
            reason = f"(must be forced) - image is being used by stopped container {user.name}"
        elif len([ref for ref in self.references(image) if "@" not in ref]) > 1:
            reason = "(must be forced) - image is referenced in multiple repositories"
        else:
            self.engine.remove_image(image)
            return
        explanation = f"conflict: unable to delete {short} {reason}"
        raise APIError("409 Client Error: Conflict", explanation=explanation)


class FakeContainer:
    """A container of the engine. A one-off container has ``exit``: (exit code, or None when it never ends, stdout,
    stderr); any other runs until it is stopped and logs two lines."""

    def __init__(self, engine, name, image, options, exit=None):
        self.engine, self.name, self.image, self.options, self.exit = engine, name, image, options, exit
        self.labels = options.get("labels", {})
        try:
            self.image_id = engine.get(image).id
        except NotFound:
            self.image_id = image
        self.status = "running"
        self.exit_code = 0
        self.restarts = 0
        self.stopped_with = self.stopped_at = None
        self.killed = self.removed = False
        self.created = engine.tick()

    @property
    def attrs(self):
        return {
            "Created": self.created,
            "Image": self.image_id,
            "RestartCount": self.restarts,
            "State": {"Status": self.status, "ExitCode": self.exit_code, "OOMKilled": False, "Error": ""},
        }

    def reload(self):
        self.engine.on_reload(self)

    def wait(self, timeout):
        self.engine.timeouts.append(timeout)
        if self.exit is None or self.exit[0] is None:
            raise TimeoutError("read timed out")  # what the SDK's HTTP client raises
        return {"StatusCode": self.exit[0]}

    def stop(self, timeout):
        self.status, self.stopped_with, self.stopped_at = "exited", timeout, self.engine.tick()

    def start(self):
        self.status = "running"

    def kill(self):
        self.killed = True

    def remove(self, force):
        self.removed = True
        self.engine.containers_by_name.pop(self.name, None)

    def logs(self, stdout=True, stderr=True, tail=None):
        if self.exit is None:
            return f"log of {self.name}\nlast line".encode()
        return ((self.exit[1] if stdout else "") + (self.exit[2] if stderr else "")).encode()

    def get_archive(self, path):
        """As Docker sends it: a tar stream whose top entry is the directory's base name."""
        files = {name: text for name, text in self.engine.files(self.image).items() if name.startswith(path + "/")}
        if not files:
            raise NotFound(f"Could not find the file {path} in container {self.name}")
        buffer = io.BytesIO()
        with tarfile.open(fileobj=buffer, mode="w") as tar:
            for name, text in files.items():
                info = tarfile.TarInfo(os.path.basename(path) + name[len(path) :])
                info.size, info.mode = len(text), 0o600
                tar.addfile(info, io.BytesIO(text.encode()))
        data = buffer.getvalue()
        return iter([data[:100], data[100:]]), {"name": os.path.basename(path)}


class FakeVolumes:
    """Docker's named volumes, each a directory of the test's (``root``, set by the test that uses volumes)."""

    def __init__(self):
        self.root, self.by_name = None, {}

    def list(self, filters):
        return [volume for name, volume in self.by_name.items() if filters["name"] in name]

    def create(self, name, labels):
        mountpoint = self.root / name
        mountpoint.mkdir(parents=True)
        self.by_name[name] = type("Volume", (), {"name": name, "attrs": {"Mountpoint": str(mountpoint)}})()
        return self.by_name[name]


class FakeEngine:
    """``images``: {reference: image id}. ``one_off(command)``, when given, makes every container a one-off command
    answering (exit code or None, stdout, stderr). ``files(image)``: what an image holds, {path: text}. Every run is
    recorded in ``runs`` as (image, command, options), every wait's timeout in ``timeouts``."""

    def __init__(self, images, one_off=None, files=lambda image: {}):
        self.images_by_ref = {ref: FakeImage(image_id) for ref, image_id in images.items()}
        self.one_off, self.files = one_off, files
        self.registry = {}
        self.containers_by_name = {}
        self.runs, self.timeouts = [], []
        self.clock = 0
        self.on_reload = lambda container: None
        self.images = FakeImages(self)
        self.api = type("Api", (), {"images": self.images.listed})()
        self.containers = self
        self.volumes = FakeVolumes()

    def tick(self):
        self.clock += 1
        return f"2026-01-01T00:00:{self.clock:02d}Z"

    # images
    def get(self, name):
        if name in self.images_by_ref:
            return self.images_by_ref[name]
        by_id = [image for image in self.images_by_ref.values() if image.id == name]
        if by_id:
            return by_id[0]
        if name in self.containers_by_name:
            return self.containers_by_name[name]
        raise NotFound(name) if name.startswith("demo-") else ImageNotFound(name)

    def pull(self, reference):
        if reference not in self.registry:
            raise NotFound(f"manifest for {reference} not found")
        self.images_by_ref[reference] = FakeImage(self.registry[reference])
        return self.images_by_ref[reference]

    def remove_image(self, image_id):
        self.images_by_ref = {ref: image for ref, image in self.images_by_ref.items() if image.id != image_id}

    # containers
    def run(self, image, command=None, **options):
        self.runs.append((image, command, options))
        exit = self.one_off(command) if self.one_off else None
        container = FakeContainer(self, options["name"], image, dict(options, command=command), exit)
        self.containers_by_name[container.name] = container
        return container

    def list(self, all, filters=None, sparse=False):
        """A sparse list has the list API's attributes: the image is ``ImageID``."""
        found = list(self.containers_by_name.values())
        for label in (filters or {}).get("label", []):
            key, _separator, value = label.partition("=")
            found = [c for c in found if key in c.labels and (not value or c.labels[key] == value)]
        if (filters or {}).get("status") == "running":
            found = [c for c in found if c.status == "running"]
        if sparse:
            return [type("Listed", (), {"name": c.name, "attrs": {"ImageID": c.image_id}})() for c in found]
        return found

    def running(self):
        return sorted(c.name for c in self.containers_by_name.values() if c.status == "running")
