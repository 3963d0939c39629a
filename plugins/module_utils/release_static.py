# Copyright: (c) 2026, appstack.platform maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""A web release's static files on the host: copied out of its image once, served by nginx through a ``current``
link that moves with the upstream switch, so a rollback serves the files its release shipped.

Layout under a service's static directory (``nginx_upstream.identity(...)["static_dir"]``)::

    releases/<release id>/...   one copy per release, removed with the release's container
    current -> releases/<id>    what nginx serves (replaced atomically)
"""

from __future__ import annotations

import os
import shutil
import tarfile
import tempfile

CURRENT = "current"
RELEASES = "releases"


class StaticError(Exception):
    pass


def release_dir(root, release):
    return os.path.join(root, RELEASES, release)


def current_release(root):
    """The release ``current`` points at, or None."""
    try:
        target = os.readlink(os.path.join(root, CURRENT))
    except OSError:
        return None
    return os.path.basename(os.path.normpath(target))


def publish(root, release, archive_chunks, source):
    """Unpack ``archive_chunks`` (a tar stream of the directory ``source``, as Docker's archive API sends it) as the
    release's copy, which must not exist yet; nothing is left behind when it fails."""
    target = release_dir(root, release)
    os.makedirs(os.path.join(root, RELEASES), mode=0o755, exist_ok=True)
    staging = tempfile.mkdtemp(prefix=f".{release}.", dir=os.path.join(root, RELEASES))
    try:
        with tempfile.TemporaryFile() as archive:
            for chunk in archive_chunks:
                archive.write(chunk)
            archive.seek(0)
            with tarfile.open(fileobj=archive) as tar:
                _extract(tar, staging)
        top = os.path.join(staging, os.path.basename(os.path.normpath(source)))
        if not os.path.isdir(top):
            raise StaticError(f"{source} in the image is not a directory")
        for directory, _subdirs, files in os.walk(top):
            # nginx's workers (not root) read the copy, whoever owned the files in the image.
            os.chmod(directory, 0o755)
            for name in files:
                path = os.path.join(directory, name)
                if not os.path.islink(path):
                    os.chmod(path, 0o644)
        os.chmod(top, 0o755)
        os.rename(top, target)
    finally:
        shutil.rmtree(staging, ignore_errors=True)


def point_current(root, release):
    """Make ``current`` point at the release's copy (``None``: remove it); atomic for nginx's readers. Returns the
    release it pointed at before."""
    previous = current_release(root)
    link = os.path.join(root, CURRENT)
    if release is None:
        if previous is not None:
            os.unlink(link)
        return previous
    if previous == release:
        return previous
    staged = f"{link}.{os.getpid()}"
    if os.path.lexists(staged):
        os.unlink(staged)
    os.symlink(os.path.join(RELEASES, release), staged)
    os.replace(staged, link)
    return previous


def prune(root, keep):
    """Remove the copies of releases not in ``keep`` (and leftovers of an interrupted unpack); the one ``current``
    points at is always kept. Returns the releases removed."""
    releases = os.path.join(root, RELEASES)
    if not os.path.isdir(releases):
        return []
    keep = set(keep) | {current_release(root)}
    removed = []
    for name in sorted(os.listdir(releases)):
        if name not in keep:
            shutil.rmtree(os.path.join(releases, name))
            if not name.startswith("."):
                removed.append(name)
    return removed


def _leaves(path):
    return os.path.isabs(path) or os.path.normpath(path).split(os.sep)[0] == ".."


def _extract(tar, destination):
    members = []
    for member in tar.getmembers():
        path = member.name
        if _leaves(path) or not (member.isfile() or member.isdir() or member.issym()):
            continue
        if member.issym() and _leaves(os.path.join(os.path.dirname(path), member.linkname)):
            # nginx follows links: one out of the copy would serve the host's files, not the image's.
            continue
        members.append(member)
    if hasattr(tarfile, "data_filter"):
        tar.extractall(destination, members=members, filter="data")
    else:  # Python < 3.12: the checks above are the filter.
        tar.extractall(destination, members=members)
