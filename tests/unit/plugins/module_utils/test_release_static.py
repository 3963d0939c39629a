import io
import os
import tarfile

import pytest

from ansible_collections.appstack.platform.plugins.module_utils import release_static


def archive(entries):
    """A tar stream as Docker's archive API sends it; entries are (name, text) files or (name, "->target") links."""
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w") as tar:
        for name, content in entries:
            info = tarfile.TarInfo(name)
            if content.startswith("->"):
                info.type, info.linkname = tarfile.SYMTYPE, content[2:]
                tar.addfile(info)
            else:
                info.size, info.mode = len(content), 0o600
                tar.addfile(info, io.BytesIO(content.encode()))
    return [buffer.getvalue()]


def test_a_published_copy_is_readable_by_nginx_and_keeps_links_inside_it(tmp_path):
    release_static.publish(
        str(tmp_path),
        "r1",
        archive(
            [
                ("static/app.css", "body{}"),
                ("static/latest.css", "->app.css"),
                ("static/passwd", "->../../../../etc/passwd"),
                ("static/shadow", "->/etc/shadow"),
                ("../escape", "x"),
            ]
        ),
        "/app/static",
    )
    copy = tmp_path / "releases" / "r1"
    assert sorted(os.listdir(copy)) == ["app.css", "latest.css"]
    assert (copy / "latest.css").read_text() == "body{}"
    assert (copy / "app.css").stat().st_mode & 0o777 == 0o644
    assert not (tmp_path / "escape").exists()


def test_a_file_where_a_directory_was_expected_fails_and_leaves_nothing(tmp_path):
    with pytest.raises(release_static.StaticError, match="not a directory"):
        release_static.publish(str(tmp_path), "r1", archive([("static", "a file")]), "/app/static")
    assert os.listdir(tmp_path / "releases") == []


def test_current_moves_and_pruning_keeps_what_it_points_at(tmp_path):
    for release in ("r1", "r2", "r3"):
        release_static.publish(str(tmp_path), release, archive([(f"static/{release}", release)]), "/app/static")
    assert release_static.point_current(str(tmp_path), "r1") is None
    assert release_static.point_current(str(tmp_path), "r2") == "r1"
    assert (tmp_path / "current" / "r2").read_text() == "r2"
    assert release_static.prune(str(tmp_path), keep=["r3"]) == ["r1"]
    assert sorted(os.listdir(tmp_path / "releases")) == ["r2", "r3"]
    assert release_static.point_current(str(tmp_path), None) == "r2"
    assert release_static.current_release(str(tmp_path)) is None
