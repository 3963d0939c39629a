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


class FilterModule:
    def filters(self):
        return {"private_address": private_address}
