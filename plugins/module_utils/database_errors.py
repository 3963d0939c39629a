# Copyright: (c) 2026, appstack.platform maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""What a failed PostgreSQL connection means when TLS is why: libpq's words, said as what to fix."""

from __future__ import annotations

# libpq's messages (PostgreSQL 13 to 17), most specific first.
TLS_CAUSES = (
    (
        "does not match host name",
        "the server's certificate names another host than the URL (verify-full checks the name: connect by the name "
        "on the certificate)",
    ),
    (
        "certificate verify failed",
        "the server's certificate is not signed by the CA the client trusts (app_database_ca: the provider's CA?)",
    ),
    ("root certificate file", "the CA file the client was given cannot be read (app_database_ca)"),
    ("server does not support SSL", "the server does not offer TLS, and the connection requires it"),
    (
        "no encryption",
        "the server refuses connections without TLS, and this one asked for none (sslmode=disable in the URL?)",
    ),
)


def tls_cause(message):
    """The TLS reason for a connection failure (None when the message is not about TLS)."""
    lowered = message.lower()
    for needle, cause in TLS_CAUSES:
        if needle.lower() in lowered:
            return f"TLS: {cause}"
    return None


def explain(message):
    """The failure with its TLS reason first, when there is one."""
    cause = tls_cause(message)
    return f"{cause}. {message}" if cause else message
