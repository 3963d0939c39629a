# Copyright: (c) 2026, appstack.platform maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The name of a service's nginx upstream block and include file, for templates and role tasks."""

from __future__ import annotations

from ansible_collections.appstack.platform.plugins.module_utils.nginx_upstream import identity


def upstream(app, env, service="web"):
    return identity(app, env, service)


class FilterModule:
    def filters(self):
        return {"upstream": upstream}
