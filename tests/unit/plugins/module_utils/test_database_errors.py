"""A failed connection whose cause is TLS says so, in the words of what to fix, before libpq's message."""

import pytest

from ansible_collections.appstack.platform.plugins.module_utils.database_errors import explain, tls_cause


@pytest.mark.parametrize(
    ("message", "cause"),
    [
        (
            'connection failed: connection to server at "10.0.0.5", port 5432 failed: SSL error: certificate verify '
            "failed",
            "not signed by the CA",
        ),
        ('server certificate for "db.provider.test" does not match host name "10.0.0.5"', "names another host"),
        ('root certificate file "/run/secrets/DATABASE_CA" does not exist', "cannot be read"),
        (
            'FATAL:  pg_hba.conf rejects connection for host "10.0.0.21", user "demo", database "demo", no encryption',
            "refuses connections without TLS",
        ),
        ("server does not support SSL, but SSL was required", "does not offer TLS"),
    ],
)
def test_tls_failures_are_named_with_what_to_fix(message, cause):
    assert cause in tls_cause(message)
    assert explain(message).startswith("TLS: ") and explain(message).endswith(message)


def test_other_failures_are_left_as_they_are():
    message = 'FATAL:  password authentication failed for user "demo"'
    assert tls_cause(message) is None
    assert explain(message) == message
