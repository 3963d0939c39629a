# Copyright: (c) 2026, appstack.platform maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The health gate: poll a probe until it passes N times in a row or a deadline passes, keeping the evidence."""

from __future__ import annotations

import functools
import ssl
import time
from collections import deque
from dataclasses import asdict, dataclass, field

from ansible.module_utils.urls import Request

BODY_EXCERPT_CHARS = 300


@dataclass
class ProbeResult:
    ok: bool
    status: int | None = None
    body: str = ""
    seconds: float = 0.0
    error: str | None = None


@dataclass
class GateResult:
    passed: bool
    attempts: int
    seconds: float
    reason: str
    last_probes: list = field(default_factory=list)

    def as_dict(self):
        return asdict(self)


@functools.cache
def _tls_context():
    return ssl.create_default_context()


def open_url(url, **options):
    """A GET through Ansible's Request, with one TLS context for the module's life: Ansible's own open_url makes one
    for every request, plain HTTP too (13 ms of CPU each, measured), and a verification window probes dozens of
    times."""
    return Request().open("GET", url, context=_tls_context(), **options)


def http_probe(url, timeout, headers=None, expected_statuses=(200,)):
    """Return a probe: one GET of ``url`` (redirects not followed) that passes on one of ``expected_statuses``."""

    def probe():
        started = time.monotonic()
        try:
            response = open_url(url, timeout=timeout, headers=headers or {}, follow_redirects="none")
            status, body = response.getcode(), response.read(BODY_EXCERPT_CHARS)
        # Every failure to get an answer is evidence for the gate, not a crash of the module.
        except Exception as error:
            status = getattr(error, "code", None)
            body = error.read(BODY_EXCERPT_CHARS) if hasattr(error, "read") else b""
            if status in expected_statuses:
                return ProbeResult(True, status, _text(body), time.monotonic() - started)
            return ProbeResult(False, status, _text(body), time.monotonic() - started, _explained(error, status))
        return ProbeResult(status in expected_statuses, status, _text(body), time.monotonic() - started)

    return probe


def _explained(error, status):
    """What went wrong, with where a redirect points: a framework redirecting its health path (to https, or to a
    trailing slash) says so only in its Location header."""
    location = getattr(error, "headers", None) and error.headers.get("Location")
    if status and 300 <= status < 400 and location:
        return f"{error} (redirects to {location}: send the headers the app expects, or probe that path)"
    return str(error)


def _text(body):
    return body.decode("utf-8", "replace") if isinstance(body, bytes) else str(body)


def run_gate(
    probe,
    successes,
    interval,
    deadline,
    *,
    still_alive=lambda: None,
    clock=time.monotonic,
    sleep=time.sleep,
    keep=5,
):
    """Poll ``probe`` until ``successes`` consecutive passes (passed) or ``deadline`` seconds (failed).

    ``still_alive`` returns None while the thing under test can still become healthy, or a reason why it cannot
    (for example the container exited): the gate then fails at once instead of waiting for the deadline.
    """
    started = clock()
    history = deque(maxlen=keep)
    streak = attempts = 0
    while True:
        result = probe()
        attempts += 1
        history.append(asdict(result))
        streak = streak + 1 if result.ok else 0
        elapsed = clock() - started
        if streak >= successes:
            return GateResult(True, attempts, elapsed, f"{successes} consecutive successes", list(history))
        dead = still_alive()
        if dead:
            return GateResult(False, attempts, elapsed, dead, list(history))
        if elapsed + interval >= deadline:
            reason = f"no {successes} consecutive successes within {deadline}s ({attempts} attempts)"
            return GateResult(False, attempts, elapsed, reason, list(history))
        sleep(interval)


def run_smoke(probes, rounds, keep=5):
    """Every ``(name, probe)`` passes, ``rounds`` times over: None, or the first failure with the probes so far.

    Run against the new release directly, before it receives traffic: a release whose health path passes while its
    real routes fail stops here instead of after the switch.
    """
    history = deque(maxlen=keep)
    for _round in range(rounds):
        for name, probe in probes:
            result = probe()
            history.append(dict(asdict(result), path=name))
            if not result.ok:
                answer = result.status if result.status is not None else result.error
                return {"reason": f"{name} answered {answer}", "last_probes": list(history)}
    return None


def run_window(probe, window, interval, *, clock=time.monotonic, sleep=time.sleep):
    """Probe for ``window`` seconds, every probe must pass: None, or the failure with its probe."""
    started = clock()
    probes = 0
    while True:
        result = probe()
        probes += 1
        if not result.ok:
            return {"reason": f"probe {probes} failed", "last_probes": [asdict(result)]}
        if clock() - started + interval > window:
            return None
        sleep(interval)
