# Copyright: (c) 2026, appstack.platform maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Switch an nginx upstream include file atomically: write, `nginx -t`, reload; put the old file back on error."""

from __future__ import annotations

import os
import re
import tempfile

SERVER_LINE = re.compile(r"^\s*server\s+127\.0\.0\.1:(\d+)\s*;", re.MULTILINE)


class UpstreamError(Exception):
    pass


def render(name, port, release):
    return (
        "# Written by appstack.platform app_rollout; the release below receives the traffic.\n"
        f"# release: {release}\n"
        f"upstream {name} {{\n"
        f"    server 127.0.0.1:{port};\n"
        "    keepalive 16;\n"
        "}\n"
    )


def current_port(path):
    """Port the upstream file sends traffic to, or None when there is no file."""
    try:
        with open(path, encoding="utf-8") as handle:
            match = SERVER_LINE.search(handle.read())
    except FileNotFoundError:
        return None
    return int(match.group(1)) if match else None


def switch(path, content, run_command, test_command, reload_command):
    """Make ``content`` the upstream file's, validated by ``test_command``, then reload nginx.

    Returns the previous content (None when there was no file). ``run_command(argv)`` returns (rc, out, err).
    """
    try:
        with open(path, encoding="utf-8") as handle:
            previous = handle.read()
    except FileNotFoundError:
        previous = None
    _write(path, content)
    rc, out, err = run_command(test_command)
    if rc != 0:
        _restore(path, previous)
        raise UpstreamError(f"nginx rejected the new upstream ({' '.join(test_command)}): {err or out}")
    rc, out, err = run_command(reload_command)
    if rc != 0:
        _restore(path, previous)
        raise UpstreamError(f"nginx did not reload ({' '.join(reload_command)}): {err or out}")
    return previous


def _restore(path, previous):
    if previous is None:
        os.unlink(path)
    else:
        _write(path, previous)


def _write(path, content):
    directory = os.path.dirname(path)
    handle, temporary = tempfile.mkstemp(dir=directory, prefix=".upstream.")
    with os.fdopen(handle, "w", encoding="utf-8") as output:
        output.write(content)
    os.chmod(temporary, 0o644)
    os.replace(temporary, path)
