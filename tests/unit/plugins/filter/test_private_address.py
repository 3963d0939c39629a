"""The address the stack's hosts reach each other at: the inventory's, else the default route's from facts."""

import pytest
from ansible.errors import AnsibleFilterError

from ansible_collections.appstack.platform.plugins.filter.private_address import listen_addresses, private_address

HOSTVARS = {
    "app1": {"private_address": "10.0.0.11", "ansible_facts": {"default_ipv4": {"address": "203.0.113.5"}}},
    "app2": {"ansible_facts": {"default_ipv4": {"address": "10.0.0.12"}}},
    "app3": {"ansible_host": "app3.example.com"},
}


def test_the_inventory_address_wins_over_the_facts():
    assert private_address("app1", HOSTVARS) == "10.0.0.11"


def test_the_default_route_address_is_used_when_none_is_set():
    assert private_address("app2", HOSTVARS) == "10.0.0.12"


def test_a_host_without_facts_or_address_fails_naming_it():
    with pytest.raises(AnsibleFilterError, match="no private address known for app3"):
        private_address("app3", HOSTVARS)


def test_a_service_listens_on_the_private_address_when_other_app_hosts_use_it():
    groups = {"app": ["app1", "app2"], "db": ["db1"]}
    hostvars = {"db1": {"private_address": "10.0.0.30"}, "app1": HOSTVARS["app1"]}
    assert listen_addresses("db1", ["localhost"], hostvars, groups) == ["localhost", "10.0.0.30"]
    # An app host that also runs the service, beside another app host.
    assert listen_addresses("app1", ["127.0.0.1", "-::1"], hostvars, groups) == ["127.0.0.1", "-::1", "10.0.0.11"]


@pytest.mark.parametrize("groups", [{"app": ["aio"], "db": ["aio"]}, {"db": ["aio"]}])
def test_a_service_of_an_all_in_one_host_or_one_without_app_hosts_listens_locally_only(groups):
    # No facts and no private_address: nothing is looked up when nothing needs it.
    assert listen_addresses("aio", ["localhost"], {"aio": {}}, groups) == ["localhost"]
