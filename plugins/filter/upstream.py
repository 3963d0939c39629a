# Copyright: (c) 2026, appstack.platform maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The names of services' nginx upstream blocks and include files, for templates and role tasks."""

from __future__ import annotations

from ansible_collections.appstack.platform.plugins.module_utils.nginx_upstream import identity


def upstream(app, env, service="web"):
    return identity(app, env, service)


def site_upstreams(sites):
    """Every service the sites proxy to (each site's own, and its proxy locations' ``service``), once each."""
    upstreams = []
    for site in sites:
        services = [site.get("service") or "web"]
        services += [location["service"] for location in site.get("proxy_locations") or [] if location.get("service")]
        for service in services:
            names = identity(site["app"], site["env"], service)
            if names not in upstreams:
                upstreams.append(names)
    return upstreams


class FilterModule:
    def filters(self):
        return {"upstream": upstream, "site_upstreams": site_upstreams}
