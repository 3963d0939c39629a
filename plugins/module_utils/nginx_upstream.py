# Copyright: (c) 2026, appstack.platform maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Switch an nginx upstream include file atomically: write, `nginx -t`, reload; put the old file back on error."""

from __future__ import annotations

import os
import re
import tempfile
import time

SERVER_LINE = re.compile(r"^\s*server\s+127\.0\.0\.1:(\d+)\s*;", re.MULTILINE)


NOT_IN_NAME = re.compile(r"[^A-Za-z0-9_]")
# Outside /var/lib/appstack (root's): nginx's workers must reach the files.
STATIC_ROOT = "/var/www/appstack"


class UpstreamError(Exception):
    pass


def identity(app, env, service):
    """The one naming of what nginx and a service's releases share: the upstream block's name, its include file's
    name, and the directory of the releases' static files (``current`` there is the serving release's copy).

    The nginx role's sites (``proxy_pass``, static locations) and placeholders, the app role and app_rollout all
    take it from here (templates through the ``appstack.platform.upstream`` filter), so a name like ``my-app``
    cannot make them disagree.
    """
    instance = f"{app}-{env}-{service}"
    return {
        "name": NOT_IN_NAME.sub("_", instance),
        "file": f"{instance}.conf",
        "static_dir": os.path.join(STATIC_ROOT, instance),
    }


def routes_to(configuration, identity):
    """The lines of nginx's whole configuration (``nginx -T``) that send requests to the service ``identity`` names
    (a ``*_pass`` to its upstream block) or serve its releases' static files; its upstream block is not one."""
    passes = re.compile(rf"^\s*\w+_pass\s+(\w+://)?{re.escape(identity['name'])}\b")
    return [
        line.strip()
        for line in configuration.splitlines()
        if passes.match(line) or identity["static_dir"] + "/" in line
    ]


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


def switch(path, content, run_command, test_command, reload_command, pid_file=None, proc_root="/proc"):
    """Make ``content`` the upstream file's, validated by ``test_command``, then reload nginx.

    A reload only signals nginx: until the old workers stop accepting, new connections may still get the old
    upstream. With ``pid_file`` (nginx's master), return only once every worker from before the reload has exited
    or is shutting down, so what is probed next is the new configuration.
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
    master = _master_pid(pid_file)
    old_workers = accepting_workers(master, proc_root) if master else set()
    rc, out, err = run_command(reload_command)
    if rc != 0:
        _restore(path, previous)
        raise UpstreamError(f"nginx did not reload ({' '.join(reload_command)}): {err or out}")
    if not wait_for_workers_to_leave(old_workers, proc_root):
        lingering = sorted(accepting_workers(master, proc_root) & old_workers)
        _restore(path, previous)
        run_command(reload_command)
        raise UpstreamError(
            f"nginx workers from before the reload (pids {lingering}) still accepted connections after "
            f"{RELOAD_WAIT_SECONDS} s; the previous upstream was put back"
        )
    return previous


RELOAD_WAIT_SECONDS = 10


def accepting_workers(master_pid, proc_root="/proc"):
    """Pids of the master's worker processes that still accept connections (not "shutting down")."""
    return _workers(master_pid, proc_root, shutting_down=False)


def _workers(master_pid, proc_root, shutting_down):
    workers = set()
    for entry in os.listdir(proc_root):
        if not entry.isdigit():
            continue
        try:
            with open(os.path.join(proc_root, entry, "stat"), encoding="utf-8") as handle:
                parent = int(handle.read().rsplit(")", 1)[1].split()[1])
        except (OSError, IndexError, ValueError):
            continue
        if parent == master_pid and _is_worker(int(entry), proc_root, shutting_down):
            workers.add(int(entry))
    return workers


def wait_for_workers_to_leave(workers, proc_root="/proc"):
    deadline = time.monotonic() + RELOAD_WAIT_SECONDS
    while any(_is_worker(pid, proc_root, shutting_down=False) for pid in workers):
        if time.monotonic() >= deadline:
            return False
        time.sleep(0.02)
    return True


def drain(ports, seconds, pid_file=None, proc_root="/proc"):
    """Wait until nothing can still reach the releases on ``ports`` (loopback slot ports nginx no longer names): no
    nginx worker from before a reload is left (one shutting down may still be reading a request it will proxy) and
    no connection to the ports is open; ``seconds`` at most, for streams that do not end by themselves.
    Returns whether they drained."""
    master = _master_pid(pid_file)
    deadline = time.monotonic() + seconds
    while (master and _workers(master, proc_root, shutting_down=True)) or open_connections(ports, proc_root):
        if time.monotonic() >= deadline:
            return False
        time.sleep(DRAIN_POLL_SECONDS)
    return True


DRAIN_POLL_SECONDS = 0.1
ESTABLISHED = "01"


def open_connections(ports, proc_root="/proc"):
    """Established TCP connections (IPv4 and IPv6) whose remote port is one of ``ports``, as the kernel lists them."""
    wanted = {f"{port:04X}" for port in ports}
    count = 0
    for table in ("tcp", "tcp6"):
        try:
            with open(os.path.join(proc_root, "net", table), encoding="ascii") as handle:
                rows = handle.read().splitlines()[1:]
        except OSError:
            continue
        for row in rows:
            fields = row.split()
            if len(fields) > 3 and fields[3] == ESTABLISHED and fields[2].rsplit(":", 1)[-1] in wanted:
                count += 1
    return count


def _is_worker(pid, proc_root, shutting_down):
    try:
        with open(os.path.join(proc_root, str(pid), "cmdline"), "rb") as handle:
            title = handle.read()
    except OSError:
        return False
    return b"worker process" in title and (b"shutting down" in title) == shutting_down


def _master_pid(pid_file):
    if not pid_file:
        return None
    try:
        with open(pid_file, encoding="utf-8") as handle:
            return int(handle.read().strip())
    except (OSError, ValueError):
        return None


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
