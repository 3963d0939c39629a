# Copyright: (c) 2026, appstack.platform maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The address a host of the stack is reached at by the others (front doors, app hosts, database clients)."""

from __future__ import annotations

from ansible.errors import AnsibleFilterError


def private_address(host, hostvars):
    variables = hostvars[host]
    configured = variables.get("private_address")
    if configured:
        return str(configured)
    address = ((variables.get("ansible_facts") or {}).get("default_ipv4") or {}).get("address")
    if not address:
        # Guessing (the inventory name, a public address) would send private traffic where it must not go.
        raise AnsibleFilterError(
            f"no private address known for {host}: set its private_address in the inventory, "
            "or gather its facts in the play (site.yml does)"
        )
    return address


def listen_addresses(host, local, hostvars, groups):
    """Where a service of a database or cache host listens: its local addresses, and its private address when app
    hosts other than itself use it (on an all-in-one host nothing listens beyond the host)."""
    if any(app_host != host for app_host in groups.get("app", [])):
        return [*local, private_address(host, hostvars)]
    return list(local)


class FilterModule:
    def filters(self):
        return {"private_address": private_address, "listen_addresses": listen_addresses}
