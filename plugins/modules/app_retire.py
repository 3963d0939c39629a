#!/usr/bin/python
# Copyright: (c) 2026, appstack.platform maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: app_retire
short_description: Stop and remove the services of an app environment that this host no longer runs
version_added: 0.1.0
description:
  - The services of the environment this host has run are the ones its release ledger
    (C(<ledger_dir>/<app>-<env>/releases.json)) has records of. Each of them that is not in O(services) (a service
    taken out of the inventory, or a singleton whose host is now another one) has its containers stopped, with
    O(stop_timeout) as their grace period, and removed, kept releases included; a C(retired) record in the ledger
    says so, and the status report leaves the service out from then on.
  - A web service that nginx on this host still sends requests to (a C(proxy_pass) to its upstream, or a static
    location serving its releases' files, in C(nginx -T)) is not retired; the module fails before it stops anything,
    naming the lines. Take the location out of the nginx role's C(nginx_sites) and run it first.
  - Each service is retired under its rollout lock (C(<service>.lock) beside the ledger), so a rollout of it that is
    still running finishes first.
  - A ledger that cannot be read is left to M(appstack.platform.app_rollout), which moves it aside; nothing is
    retired then, with a warning.
author: appstack.platform maintainers (@appstack)
extends_documentation_fragment:
  - appstack.platform.release_ledger
attributes:
  check_mode:
    support: full
    description: Reports the services that would be retired; stops nothing.
  diff_mode:
    support: none
    description: Containers are not files; RV(retired) names what was stopped.
options:
  services:
    description: The services this host runs for the environment; every other service of its ledger is retired.
    type: list
    elements: str
    required: true
  stop_timeout:
    description: Seconds a container gets between its stop signal and SIGKILL.
    type: int
    default: 30
  lock_timeout:
    description: Seconds to wait for a rollout of the service to finish before failing with its holder.
    type: float
    default: 600
  nginx_command:
    description: Prints nginx's whole configuration; a host without nginx routes nothing to a web service.
    type: list
    elements: str
    default: [nginx, -T]
requirements:
  - Docker SDK for Python (python3-docker)
"""

EXAMPLES = r"""
- name: Stop the services no longer in the inventory (deploy.yml does this before it migrates)
  appstack.platform.app_retire:
    app: shop
    deployment: prod
    services: [web, worker]
"""

RETURN = r"""
retired:
  description: The services retired (in check mode, that would be), each with the containers removed.
  type: dict
  returned: always
  sample: {mailer: [shop-prod-mailer-3f2a9c1d0e4b, shop-prod-mailer-9b8c7d6e5f4a]}
"""

import os
import socket
import traceback

from ansible.module_utils.basic import AnsibleModule, missing_required_lib

from ansible_collections.appstack.platform.plugins.module_utils import (
    app_container,
    nginx_upstream,
    release_ledger,
    service_lock,
)

try:
    import docker
    from docker.errors import DockerException

    DOCKER_IMPORT_ERROR = None
except ImportError:
    DOCKER_IMPORT_ERROR = traceback.format_exc()


class Retirement:
    def __init__(self, module, client):
        self.module = module
        self.params = module.params
        self.client = client
        self.environment = release_ledger.environment_of(self.params)
        self.ledger = release_ledger.ReleaseLedger.of(self.environment)

    def containers(self, service):
        instance = f"{self.params['app']}-{self.params['deployment']}-{service}"
        return self.client.containers.list(all=True, filters={"label": [f"{app_container.LABEL}.service={instance}"]})

    def undeclared(self):
        """The services of the ledger not declared here that still have containers: {service: containers}."""
        try:
            known = release_ledger.services(self.ledger.records())
        except release_ledger.LedgerCorrupt as error:
            self.module.warn(f"the release ledger {error}: no service is retired until a rollout moves it aside")
            return {}
        found = {service: self.containers(service) for service in known if service not in self.params["services"]}
        return {service: containers for service, containers in found.items() if containers}

    def still_routed(self, undeclared):
        """Lines of nginx's configuration that send requests to a web service among ``undeclared``."""
        web = [
            service
            for service, containers in undeclared.items()
            if any(f"{app_container.LABEL}.port" in c.labels for c in containers)
        ]
        if not web:
            return []
        try:
            rc, out, err = self.module.run_command(self.params["nginx_command"], handle_exceptions=False)
        except OSError:
            return []
        if rc != 0:
            self.module.fail_json(
                msg=f"{' '.join(self.params['nginx_command'])} failed, so the services {web} were "
                f"not retired: {err or out}"
            )
        routes = [
            line
            for service in web
            for line in nginx_upstream.routes_to(
                out, nginx_upstream.identity(self.params["app"], self.params["deployment"], service)
            )
        ]
        return list(dict.fromkeys(routes))

    def retire(self, service):
        """Stop and remove the service's containers under its lock; returns their names."""
        holder = {
            "pid": os.getpid(),
            "host": socket.gethostname(),
            "started": release_ledger.now(),
            "image": "retirement",
        }
        lock = release_ledger.lock_path(self.environment, service)
        try:
            with service_lock.held(lock, self.params["lock_timeout"], holder):
                containers = self.containers(service)
                for container in containers:
                    if container.status == "running":
                        container.stop(timeout=self.params["stop_timeout"])
                    container.remove(force=True)
                removed = sorted(c.name for c in containers)
                last = next((r for r in reversed(self.ledger.records()) if r.get("service") == service), {})
                self.ledger.append(
                    {
                        "service": service,
                        "release": last.get("release"),
                        "outcome": release_ledger.RETIRED,
                        "started": holder["started"],
                        "finished": release_ledger.now(),
                        "removed": removed,
                    }
                )
        except service_lock.LockTimeout as error:
            self.module.fail_json(msg=f"{service}: {error}", holder=error.holder)
        return removed

    def run(self):
        undeclared = self.undeclared()
        routed = self.still_routed(undeclared)
        if routed:
            self.module.fail_json(
                msg=f"the services {sorted(undeclared)} are no longer declared for this host, but nginx still routes "
                f"requests to one of them ({' '.join(routed)}): take those locations out of nginx_sites and run the "
                "nginx role first. Nothing was stopped."
            )
        if self.module.check_mode:
            retired = {service: sorted(c.name for c in containers) for service, containers in undeclared.items()}
        else:
            retired = {service: self.retire(service) for service in undeclared}
        return {"changed": bool(retired), "retired": retired}


def argument_spec():
    return {
        **release_ledger.ARGUMENT_SPEC,
        "services": {"type": "list", "elements": "str", "required": True},
        "stop_timeout": {"type": "int", "default": 30},
        "lock_timeout": {"type": "float", "default": 600},
        "nginx_command": {"type": "list", "elements": "str", "default": ["nginx", "-T"]},
    }


def main():
    module = AnsibleModule(argument_spec=argument_spec(), supports_check_mode=True)
    if DOCKER_IMPORT_ERROR:
        if module.check_mode:
            # A host without Docker yet (check mode before the docker_engine role ever ran) runs nothing.
            module.exit_json(changed=False, retired={})
        module.fail_json(msg=missing_required_lib("docker (python3-docker)"), exception=DOCKER_IMPORT_ERROR)
    try:
        result = Retirement(module, docker.from_env()).run()
    except DockerException as error:
        module.fail_json(msg=f"Docker error: {error}", exception=traceback.format_exc())
    module.exit_json(**result)


if __name__ == "__main__":
    main()
