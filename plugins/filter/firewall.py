# Copyright: (c) 2026, appstack.platform maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The firewall role's openings: which addresses (from inventory groups or CIDRs) may reach which ports."""

from __future__ import annotations

import fnmatch
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


def firewall_sources(sources, groups, hostvars, rule="firewall", container_interfaces=()):
    """The addresses behind ``sources`` (CIDRs, or inventory groups whose hosts' addresses are their
    ``firewall_address`` or, by default, the addresses their facts list) as {"ipv4": [...], "ipv6": [...]}.

    From facts, a host's link-local addresses and those of its container interfaces (``container_interfaces``,
    patterns as the firewall role's) are left out: no other host sends from them, and they come and go with the
    host's containers (Docker's bridge appears with the engine, a veth with each container), which would change the
    ruleset on the next run."""
    networks = set()
    for source in sources:
        if source in groups:
            for host in groups[source]:
                networks.update(_addresses_of(host, hostvars[host], rule, container_interfaces))
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


def _addresses_of(name, host, rule, container_interfaces):
    configured = host.get("firewall_address")
    if configured:
        addresses = configured if isinstance(configured, list) else [configured]
    else:
        facts = host.get("ansible_facts") or {}
        container = _container_addresses(facts, container_interfaces)
        addresses = [
            address
            for address in list(facts.get("all_ipv4_addresses") or []) + list(facts.get("all_ipv6_addresses") or [])
            if address not in container and not ipaddress.ip_address(address.split("%")[0]).is_link_local
        ]
    if not addresses:
        # Opening to nobody would lock the host's clients out: a run limited to some hosts has no facts of the rest.
        raise AnsibleFilterError(
            f"{rule}: no address known for {name} (no facts gathered: run on every host of the inventory, "
            "or set its firewall_address)"
        )
    return {ipaddress.ip_network(address.split("%")[0], strict=False) for address in addresses}


def _container_addresses(facts, patterns):
    """The addresses of the interfaces matching ``patterns``, as the facts list them (an interface's facts are under
    its name with '-' as '_')."""
    addresses = set()
    for interface in facts.get("interfaces") or []:
        if not any(fnmatch.fnmatchcase(interface, pattern) for pattern in patterns):
            continue
        details = facts.get(interface.replace("-", "_")) or {}
        ipv4 = [details.get("ipv4") or {}, *(details.get("ipv4_secondaries") or [])]
        addresses.update(entry["address"] for entry in ipv4 + list(details.get("ipv6") or []) if "address" in entry)
    return addresses


class FilterModule:
    def filters(self):
        return {"firewall_ports": firewall_ports, "firewall_sources": firewall_sources}
