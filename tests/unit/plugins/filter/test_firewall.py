"""The firewall's openings: ports checked and normalized, sources resolved from inventory groups and CIDRs."""

import pytest
from ansible.errors import AnsibleFilterError

from ansible_collections.appstack.platform.plugins.filter.firewall import firewall_ports, firewall_sources


@pytest.mark.parametrize(
    ("ports", "expected"),
    [
        ([6432, "5432", 5432], ["5432", "6432"]),
        (["9100-9200", 22], ["22", "9100-9200"]),
        ([], []),
    ],
)
def test_ports_are_normalized(ports, expected):
    assert firewall_ports(ports) == expected


@pytest.mark.parametrize("port", ["postgres", 0, 70000, "9200-9100", "80-", "1-2-3"])
def test_anything_but_a_port_or_a_range_fails_naming_the_rule(port):
    with pytest.raises(AnsibleFilterError, match=f"pgbouncer: '?{port}'? is not a port"):
        firewall_ports([port], "pgbouncer")


GROUPS = {"app": ["app1", "app2"], "web": [], "db": ["db1"]}
CONTAINER_INTERFACES = ["docker0", "br-*"]
# The network facts of an app host (gather_subset=network, as site.yml reads them) with its engine running: the
# demo host's, plus the global and link-local IPv6 addresses a host with IPv6 has, on eth0 and on the host's end of
# a container's veth.
APP1_FACTS = {
    "interfaces": ["vethf0f25cc", "eth0", "lo", "docker0", "br-4c1b2e3f5a6d"],
    "all_ipv4_addresses": ["10.0.0.11", "172.17.0.1", "172.18.0.1"],
    "all_ipv6_addresses": ["2001:db8::11", "fe80::42:acff:fe18:2", "fe80::8c1f:2bff:fe3a:1d2e"],
    "eth0": {
        "ipv4": {"address": "10.0.0.11", "netmask": "255.255.0.0", "network": "10.0.0.0", "prefix": "16"},
        "ipv6": [
            {"address": "2001:db8::11", "prefix": "64", "scope": "global"},
            {"address": "fe80::42:acff:fe18:2", "prefix": "64", "scope": "link"},
        ],
        "type": "ether",
    },
    "docker0": {
        "ipv4": {"address": "172.17.0.1", "netmask": "255.255.0.0", "network": "172.17.0.0", "prefix": "16"},
        "type": "bridge",
    },
    "br_4c1b2e3f5a6d": {
        "ipv4": {"address": "172.18.0.1", "netmask": "255.255.0.0", "network": "172.18.0.0", "prefix": "16"},
        "type": "bridge",
    },
    "vethf0f25cc": {"ipv6": [{"address": "fe80::8c1f:2bff:fe3a:1d2e", "prefix": "64", "scope": "link"}]},
    "lo": {"ipv4": {"address": "127.0.0.1", "prefix": "8"}, "type": "loopback"},
}
HOSTVARS = {
    "app1": {"ansible_facts": APP1_FACTS},
    "app2": {"firewall_address": "10.0.0.12", "ansible_facts": {"all_ipv4_addresses": ["192.168.5.5"]}},
    "db1": {},
}


def test_a_group_gives_its_hosts_addresses_or_their_firewall_address():
    assert firewall_sources(["app"], GROUPS, HOSTVARS, "postgresql", CONTAINER_INTERFACES) == {
        "ipv4": ["10.0.0.11/32", "10.0.0.12/32"],
        "ipv6": ["2001:db8::11/128"],
    }


def test_container_and_link_local_addresses_are_left_out_so_containers_coming_and_going_change_nothing():
    without_containers = {**APP1_FACTS, "interfaces": ["eth0", "lo"], "all_ipv4_addresses": ["10.0.0.11"]}
    without_containers["all_ipv6_addresses"] = ["2001:db8::11", "fe80::42:acff:fe18:2"]
    before_the_engine = firewall_sources(
        ["app"], {"app": ["app1"]}, {"app1": {"ansible_facts": without_containers}}, "redis", CONTAINER_INTERFACES
    )
    assert before_the_engine == firewall_sources(["app"], {"app": ["app1"]}, HOSTVARS, "redis", CONTAINER_INTERFACES)
    # Other patterns: the bridges' addresses are the host's like any other.
    assert "172.17.0.1/32" in firewall_sources(["app"], GROUPS, HOSTVARS, "redis", ["virbr*"])["ipv4"]


def test_cidrs_and_addresses_are_taken_as_networks_and_an_empty_group_as_nobody():
    assert firewall_sources(["web", "192.168.1.0/24", "2001:db8::/32", "10.1.2.3"], GROUPS, HOSTVARS) == {
        "ipv4": ["10.1.2.3/32", "192.168.1.0/24"],
        "ipv6": ["2001:db8::/32"],
    }


@pytest.mark.parametrize("source", ["10.0.0.0/33", "apps", "10.0.0.300"])
def test_a_source_that_is_no_group_and_no_address_fails_naming_the_rule(source):
    with pytest.raises(AnsibleFilterError, match=f"redis: '{source}' is neither an inventory group"):
        firewall_sources([source], GROUPS, HOSTVARS, "redis")


def test_a_host_without_facts_or_address_fails_rather_than_opening_to_nobody():
    with pytest.raises(AnsibleFilterError, match="postgresql: no address known for db1"):
        firewall_sources(["db"], GROUPS, HOSTVARS, "postgresql")
