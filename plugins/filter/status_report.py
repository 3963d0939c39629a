# Copyright: (c) 2026, appstack.platform maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The stack's state from every host's host_status result: one report, its problems, and a table to read."""

from __future__ import annotations


def status_report(hostvars, hosts, result_name="status_host_state"):
    """{"hosts": {host: result}, "problems": ["host: problem", ...]} from each host's registered ``result_name``; a
    host of ``hosts`` without a result did not answer, which is a problem too."""
    report = {"hosts": {}, "problems": []}
    for host in hosts:
        result = hostvars[host].get(result_name) if host in hostvars else None
        if not result or "problems" not in result:
            report["hosts"][host] = None
            report["problems"].append(f"{host}: no answer ({(result or {}).get('msg', 'unreachable or not run')})")
            continue
        report["hosts"][host] = {name: value for name, value in result.items() if name not in _ANSIBLE_KEYS}
        report["problems"].extend(f"{host}: {problem}" for problem in result["problems"])
    return report


_ANSIBLE_KEYS = ("changed", "failed", "invocation", "warnings", "deprecations")


def status_table(report):
    """The report as lines for a terminal: per host its units, releases, certificates, backups and resources."""
    lines = []
    for host, state in report["hosts"].items():
        lines.append(host)
        if state is None:
            lines.append("  no answer")
            continue
        lines.extend(_rows("unit", [(u["name"], f"{u['active']} ({u['sub']})") for u in state["units"]]))
        lines.extend(_rows("release", [_release(app) for app in state["apps"]]))
        lines.extend(
            _rows(
                "certificate",
                [
                    (c["name"], c.get("error") or f"{c['days_left']} days, until {c['not_after']}")
                    for c in state["certificates"]
                ],
            )
        )
        lines.extend(
            _rows(
                "backup",
                [
                    (f"{b['kind']} {b['key']}", f"{b.get('id') or ''} {b['time']} ({b.get('age_hours')} h ago)".strip())
                    for b in state["backups"]
                ],
            )
        )
        resources = [(d["path"], f"{d['used_percent']}% used, {d['free_gb']} GB free") for d in state["disk"]]
        resources.append(("memory", f"{state['memory']['used_percent']}% used of {state['memory']['total_mb']} MB"))
        lines.extend(_rows("resource", resources))
        if "postgresql_pending_restart" in state:
            lines.extend(
                _rows("postgresql", [("pending restart", ", ".join(state["postgresql_pending_restart"]) or "none")])
            )
    lines.append(f"{len(report['problems'])} problem(s)" + (":" if report["problems"] else ""))
    lines.extend(f"  {problem}" for problem in report["problems"])
    return lines


def _release(app):
    name = f"{app['environment']} {app['service']}"
    if "error" in app:
        return name, app["error"]
    if "release" not in app:
        return name, f"none succeeded (last attempt {app['last_attempt']})"
    return name, (
        f"{app['release']} {app['image']} since {app['since']}, container {app['container']},"
        f" previous {app['previous_release'] or 'none'}, migration {app['migration_revision'] or 'none'}"
    )


def _rows(kind, pairs):
    width = max((len(name) for name, _value in pairs), default=0)
    return [f"  {kind:<12} {name:<{width}}  {value}" for name, value in pairs]


class FilterModule:
    def filters(self):
        return {"status_report": status_report, "status_table": status_table}
