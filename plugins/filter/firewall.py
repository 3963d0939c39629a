# Copyright: (c) 2026, appstack.platform maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The firewall role's openings: which addresses (from inventory groups or CIDRs) may reach which ports."""

from __future__ import annotations

import ipaddress
import re

from ansible.errors import AnsibleFilterError

PORT = re.compile(r"^([0-9]{1,5})(?:-([0-9]{1,5}))?$")


def firewall_ports(ports, rule="firewall"):
    """Ports as nftables reads them ("5432", "9100-9200"); anything else (a name, 0, 70000, 9200-9100) fails."""
    normalized = []
    for port in ports:
        match = PORT.match(str(port).strip())
        numbers = [int(n) for n in match.groups() if n is not None] if match else []
        if not numbers or not all(1 <= n <= 65535 for n in numbers) or numbers != sorted(numbers):
            raise AnsibleFilterError(f"{rule}: {port!r} is not a port (1-65535) or a range of them (9100-9200)")
        normalized.append("-".join(str(n) for n in numbers))
    return sorted(set(normalized), key=lambda p: int(p.split("-")[0]))


def firewall_sources(sources, groups, hostvars, rule="firewall"):
    """The addresses behind ``sources`` (CIDRs, or inventory groups whose hosts' addresses are their
    ``firewall_address`` or, by default, every address their facts list) as {"ipv4": [...], "ipv6": [...]}."""
    networks = set()
    for source in sources:
        if source in groups:
            for host in groups[source]:
                networks.update(_addresses_of(host, hostvars[host], rule))
            continue
        try:
            networks.add(ipaddress.ip_network(source, strict=False))
        except ValueError:
            raise AnsibleFilterError(
                f"{rule}: {source!r} is neither an inventory group nor an address or CIDR (10.0.0.0/24)"
            ) from None
    return {
        f"ipv{version}": [str(n) for n in sorted(n for n in networks if n.version == version)] for version in (4, 6)
    }


def _addresses_of(name, host, rule):
    configured = host.get("firewall_address")
    if configured:
        addresses = configured if isinstance(configured, list) else [configured]
    else:
        facts = host.get("ansible_facts") or {}
        addresses = list(facts.get("all_ipv4_addresses") or []) + list(facts.get("all_ipv6_addresses") or [])
    if not addresses:
        # Opening to nobody would lock the host's clients out: a run limited to some hosts has no facts of the rest.
        raise AnsibleFilterError(
            f"{rule}: no address known for {name} (no facts gathered: run on every host of the inventory, "
            "or set its firewall_address)"
        )
    return {ipaddress.ip_network(address.split("%")[0], strict=False) for address in addresses}


class FilterModule:
    def filters(self):
        return {"firewall_ports": firewall_ports, "firewall_sources": firewall_sources}
