"""A bad variable fails before any task of the role runs, with a message naming the variable."""

import re

import pytest
from collection_layout import ROLES

# One bad value per kind of mistake: wrong type, unknown choice, missing required, bad nested option.
BAD_VARIABLES = {
    "app": [
        ({"app_env": "prod", "app_image": "demo:v1"}, "app_name"),
        (
            {
                "app_name": "demo",
                "app_env": "prod",
                "app_image": "demo:v1",
                "app_services": [{"name": "web", "kind": "cron"}],
            },
            "kind",
        ),
        (
            {"app_name": "demo", "app_env": "prod", "app_image": "demo:v1", "app_keep_releases": "many"},
            "app_keep_releases",
        ),
        (
            {
                "app_name": "demo",
                "app_env": "prod",
                "app_image": "demo:v1",
                "app_migration": {"tool": "flyway", "database_url": "postgresql:///demo"},
            },
            "tool",
        ),
    ],
    "backup": [
        ({"backup_s3": {"endpoint": "s3.example.com", "bucket": "b", "access_key": "k"}}, "secret_key"),
        ({"backup_schedule": [{"name": "files", "command": "files"}]}, "on_calendar"),
        ({"backup_pgbackrest_retention_full": "forever"}, "backup_pgbackrest_retention_full"),
    ],
    "baseline": [
        ({"baseline_ssh_password_authentication": "maybe"}, "baseline_ssh_password_authentication"),
        ({"baseline_deploy_user_keys": {"key": "ssh-ed25519 AAAA"}}, "baseline_deploy_user_keys"),
    ],
    "docker_engine": [
        ({"docker_engine_live_restore": "perhaps"}, "docker_engine_live_restore"),
        ({"docker_engine_log_max_files": "lots"}, "docker_engine_log_max_files"),
    ],
    "firewall": [
        ({"firewall_ssh_port": "ssh"}, "firewall_ssh_port"),
        ({"firewall_extra_rules": [{"name": "exporter", "ports": [9100]}]}, "from"),
    ],
    "nginx": [
        ({"nginx_sites": [{"name": "demo-prod", "app": "demo", "env": "prod"}]}, "server_names"),
        (
            {
                "nginx_sites": [
                    {
                        "name": "demo-prod",
                        "server_names": ["app.example.com"],
                        "app": "demo",
                        "env": "prod",
                        "rate_limit": {"rate": "fast", "burst": 10},
                    }
                ]
            },
            "rate",
        ),
        ({"nginx_acme_staging": "perhaps"}, "nginx_acme_staging"),
    ],
    "postgresql": [
        ({"postgresql_port": "five-four-three-two"}, "postgresql_port"),
        ({"postgresql_memory_profile": "huge"}, "postgresql_memory_profile"),
        (
            {
                "postgresql_hba_entries": [
                    {"type": "host", "database": "all", "user": "all", "address": "0.0.0.0/0", "method": "trust"}
                ]
            },
            "method",
        ),
    ],
    "pgbouncer": [
        ({"pgbouncer_auth_password": "x"}, "pgbouncer_admin_password"),
        (
            {
                "pgbouncer_admin_password": "x",
                "pgbouncer_server_host": "db.example",
                "pgbouncer_server_users": [{"name": "a"}],
            },
            "password",
        ),
        (
            {
                "pgbouncer_admin_password": "x",
                "pgbouncer_server_host": "db.example",
                "pgbouncer_server_tls_sslmode": "on",
            },
            "pgbouncer_server_tls_sslmode",
        ),
        (
            {"pgbouncer_auth_password": "x", "pgbouncer_admin_password": "x", "pgbouncer_pool_mode": "sometimes"},
            "pgbouncer_pool_mode",
        ),
    ],
    "redis": [
        (
            {"redis_instances": [{"name": "cache", "port": 6379, "maxmemory": "1mb", "maxmemory_policy": "lru"}]},
            "maxmemory_policy",
        ),
        ({"redis_instances": [{"name": "cache", "maxmemory": "1mb"}]}, "port"),
        ({"redis_set_overcommit_memory": "sometimes"}, "redis_set_overcommit_memory"),
    ],
    "metrics": [
        ({"metrics_enabled": "perhaps"}, "metrics_enabled"),
        ({"metrics_postgresql_port": "pg"}, "metrics_postgresql_port"),
    ],
    "monitoring": [
        ({"monitoring_port": "http"}, "monitoring_port"),
        ({"monitoring_redis_ports": ["six"]}, "monitoring_redis_ports"),
    ],
    "status": [
        ({"status_certificate_days": "soon"}, "status_certificate_days"),
        ({"status_units": ["nginx.service"]}, "status_units"),
    ],
}


def test_every_role_has_bad_variable_cases():
    assert sorted(BAD_VARIABLES) == ROLES


@pytest.mark.parametrize(
    ("role", "variables", "named"),
    [(role, variables, named) for role, cases in BAD_VARIABLES.items() for variables, named in cases],
)
def test_bad_variable_stops_the_role_before_any_task(run_role, role, variables, named):
    output, returncode, tasks_run = run_role(role, variables)
    assert returncode != 0, output
    assert named in output, output
    assert tasks_run == [re.findall(r"Validating arguments against arg spec 'main'.*", output)[0].split("]")[0]]


def test_pgbouncer_in_front_of_the_local_cluster_needs_the_lookup_password_before_any_change(run_role):
    # Required only with a socket directory as the server (a managed PostgreSQL has no lookup role): the role's
    # first task, before anything is installed or written, says so.
    output, returncode, tasks_run = run_role("pgbouncer", {"pgbouncer_admin_password": "x"})
    assert returncode != 0, output
    assert "pgbouncer_auth_password" in output, output
    assert tasks_run[1:] == ["Check the settings the argument spec cannot express"], output
