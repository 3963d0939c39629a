"""status_report and status_table over results as host_status returns them."""

from ansible_collections.appstack.platform.plugins.filter.status_report import status_report, status_table

STATE = {
    "changed": False,
    "invocation": {"module_args": {}},
    "units": [{"name": "nginx.service", "loaded": "loaded", "active": "active", "sub": "running"}],
    "failed_units": [],
    "apps": [
        {
            "environment": "demo-prod",
            "service": "web",
            "release": "r2",
            "image": "demo:v2",
            "image_id": "sha256:2",
            "since": "2026-12-02T09:00:00Z",
            "migration_revision": "0002",
            "previous_release": "r1",
            "container": "running",
            "last_attempt": "succeeded",
        },
        {"environment": "shop-prod", "service": "web", "last_attempt": "failed"},
    ],
    "certificates": [{"name": "demo-prod", "not_after": "2027-03-02T12:00:00+00:00", "days_left": 90}],
    "backups": [
        {
            "kind": "postgresql",
            "key": "repo1",
            "id": "20261202-110000F",
            "time": "2026-12-02T11:00:00+00:00",
            "age_hours": 1.0,
        }
    ],
    "disk": [{"path": "/", "used_percent": 41.5, "free_gb": 12.0}],
    "memory": {"total_mb": 24000, "available_mb": 12000, "used_percent": 50.0},
    "postgresql_pending_restart": [],
    "problems": ["shop-prod web has no succeeded release (last attempt: failed)"],
}


def test_report_names_each_problem_with_its_host_and_the_hosts_that_did_not_answer():
    hostvars = {
        "one": {"status_host_state": STATE},
        "two": {"status_host_state": {"failed": True, "msg": "systemctl failed (1): boom"}},
        "three": {},
    }
    report = status_report(hostvars, ["one", "two", "three", "four"])
    assert report["problems"] == [
        "one: shop-prod web has no succeeded release (last attempt: failed)",
        "two: no answer (systemctl failed (1): boom)",
        "three: no answer (unreachable or not run)",
        "four: no answer (unreachable or not run)",
    ]
    assert "invocation" not in report["hosts"]["one"] and "changed" not in report["hosts"]["one"]
    assert report["hosts"]["one"]["apps"] == STATE["apps"]
    assert report["hosts"]["two"] is None


def test_table_shows_each_finding_and_the_problems():
    lines = status_table(status_report({"one": {"status_host_state": STATE}}, ["one"]))
    assert lines[0] == "one"
    assert "  unit         nginx.service  active (running)" in lines
    assert any(line.startswith("  release      demo-prod web  r2 demo:v2 since 2026-12-02T09:00:00Z") for line in lines)
    assert any("shop-prod web  none succeeded (last attempt failed)" in line for line in lines)
    assert any(line.startswith("  certificate  demo-prod  90 days") for line in lines)
    assert "  backup       postgresql repo1  20261202-110000F 2026-12-02T11:00:00+00:00 (1.0 h ago)" in lines
    assert "  resource     memory  50.0% used of 24000 MB" in lines
    assert "  postgresql   pending restart  none" in lines
    assert lines[-2:] == ["1 problem(s):", "  one: shop-prod web has no succeeded release (last attempt: failed)"]
