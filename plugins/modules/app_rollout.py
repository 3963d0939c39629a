#!/usr/bin/python
# Copyright: (c) 2026, appstack.platform maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: app_rollout
short_description: Health-gated, zero-downtime rollout of one service of an application in Docker
version_added: 0.1.0
description:
  - Moves one service of an application to a new release (image plus configuration) on this host.
  - Unchanged when the serving container already runs the same image digest with the same configuration.
  - C(web) services start the new release on the idle one of two loopback ports, pass a health gate (N consecutive
    successful probes within a deadline), then the nginx upstream include is rewritten atomically, checked with
    C(nginx -t) and nginx reloaded gracefully. The service is probed through nginx for a verification window and
    switched back to the old release automatically if that fails. The old release is stopped after a drain time.
  - C(worker) services start the new release, wait for its Docker health check (or for it to keep running), then
    stop the old one with its stop signal and grace period.
  - Any failure before the switch removes the new container, leaves the old release serving, and fails with the
    evidence (last probe responses, container state and exit code, tail of its log).
  - Every attempt is recorded in the release ledger C(<ledger_dir>/<app>-<env>/releases.json).
author: appstack.platform maintainers (@appstack)
requirements:
  - Docker SDK for Python (C(python3-docker) on Debian)
attributes:
  check_mode:
    support: full
    description: Reports whether a rollout would happen and to which release; touches nothing.
  diff_mode:
    support: none
    description: The upstream file and containers are reported in RV(phases) and the ledger, not as a diff.
options:
  app:
    description: Application name.
    type: str
    required: true
  env:
    description: Environment name (several environments of one app can share a host).
    type: str
    required: true
  service:
    description: Service name (for example C(web), C(worker)).
    type: str
    required: true
  kind:
    description: C(web) services receive HTTP traffic through nginx; C(worker) services do not.
    type: str
    choices: [web, worker]
    default: web
  image:
    description:
      - Image reference (tag or digest) present on the host; its digest identifies the release.
      - Required unless O(rollback_to) is set.
    type: str
  rollback_to:
    description:
      - Roll back to an earlier release recorded as succeeded in the ledger, through the same gate and switch.
      - C(previous) is the newest succeeded release other than the one serving; anything else is a release id.
      - The release's image comes from the ledger (its containers are kept, so is the image); the configuration
        is the one given now.
    type: str
  command:
    description: Command of the container; the image's when not set.
    type: list
    elements: str
  environment:
    description: Environment variables that are not secrets.
    type: dict
    default: {}
  env_file:
    description: File of C(NAME=value) lines passed to the container; part of the release's identity.
    type: path
  secrets_dir:
    description:
      - Directory of secret files, mounted read-only at C(/run/secrets); each file C(NAME) is announced to the app
        as C(NAME_FILE=/run/secrets/NAME). Values never appear in the container's environment.
    type: path
  container_port:
    description: Port the web service listens on inside the container.
    type: int
    default: 8000
  slot_ports:
    description: Two loopback ports; a release is published on the one not serving traffic.
    type: list
    elements: int
  upstream_file:
    description: nginx include file holding this service's upstream block.
    type: path
  upstream_name:
    description: Name of the upstream block; C(<app>_<env>_<service>) when not set.
    type: str
  nginx_test_command:
    description: Command that checks nginx's configuration.
    type: list
    elements: str
    default: [nginx, -t]
  nginx_reload_command:
    description: Command that reloads nginx gracefully.
    type: list
    elements: str
    default: [systemctl, reload, nginx]
  nginx_pid_file:
    description:
      - PID file of nginx's master. After a reload the switch waits until every worker from before the reload has
        exited or is shutting down (at most 10 s), so the verification probes the new upstream.
    type: path
    default: /run/nginx.pid
  health:
    description: The health gate.
    type: dict
    default: {}
    suboptions:
      path:
        description: HTTP path probed on the new container (web).
        type: str
        default: /health
      interval:
        description: Seconds between probes.
        type: float
        default: 1
      timeout:
        description: Seconds one probe may take.
        type: float
        default: 2
      successes:
        description: Consecutive successful probes needed.
        type: int
        default: 3
      deadline:
        description: Seconds the new release has to pass the gate.
        type: float
        default: 60
      command:
        description: Docker health check command for workers (run by Docker inside the container).
        type: str
  verify_url:
    description: URL probed through nginx after the switch (for example C(http://127.0.0.1/health)).
    type: str
  verify_headers:
    description: Headers of the verification probes (for example C(Host)).
    type: dict
    default: {}
  verify_seconds:
    description: How long to keep probing through nginx after the switch; 0 skips the verification.
    type: float
    default: 10
  drain_seconds:
    description: Seconds the old release keeps running after the switch, for requests in flight.
    type: float
    default: 5
  stop_timeout:
    description: Seconds a container gets between its stop signal and SIGKILL.
    type: int
    default: 30
  keep_releases:
    description: Stopped releases kept for rollback, besides the serving one.
    type: int
    default: 3
  memory:
    description: Memory limit (for example C(256m)).
    type: str
  cpus:
    description: CPU limit in cores.
    type: float
  user:
    description: User (and group) the container runs as.
    type: str
  read_only:
    description: Read-only root filesystem (with a tmpfs at C(/tmp)).
    type: bool
    default: false
  restart_policy:
    description: Docker restart policy of the container.
    type: str
    choices: ['no', on-failure, always, unless-stopped]
    default: unless-stopped
  log_max_size:
    description: Size at which the container's log file rotates.
    type: str
    default: 10m
  log_max_files:
    description: Rotated log files kept.
    type: int
    default: 3
  extra_hosts:
    description: Extra C(/etc/hosts) entries, name to address.
    type: dict
    default: {}
  migration_revision:
    description: Database revision this release expects, recorded in the ledger.
    type: str
  ledger_dir:
    description: Directory of the per-application release ledgers.
    type: path
    default: /var/lib/appstack
"""

EXAMPLES = r"""
- name: Roll out the web service
  appstack.platform.app_rollout:
    app: demo
    env: prod
    service: web
    image: registry.example.com/demo:1.4.2
    env_file: /etc/appstack/demo-prod/app.env
    secrets_dir: /etc/appstack/demo-prod/secrets
    slot_ports: [8101, 8102]
    upstream_file: /etc/nginx/appstack/upstreams/demo-prod-web.conf
    health: {path: /health, successes: 3, deadline: 90}
    verify_url: http://127.0.0.1/health
    verify_headers: {Host: demo.example.com}
    memory: 256m
    user: "10001"

- name: Roll the web service back to the previous good release
  appstack.platform.app_rollout:
    app: demo
    env: prod
    service: web
    rollback_to: previous
    slot_ports: [8101, 8102]
    upstream_file: /etc/nginx/appstack/upstreams/demo-prod-web.conf

- name: Roll out the Celery worker
  appstack.platform.app_rollout:
    app: demo
    env: prod
    service: worker
    kind: worker
    image: registry.example.com/demo:1.4.2
    command: [celery, -A, demo, worker]
    health: {command: "celery -A demo inspect ping -d celery@$HOSTNAME", deadline: 120}
    stop_timeout: 120
"""

RETURN = r"""
release:
  description: Release serving after the run.
  type: str
  returned: always
  sample: 3f9a1c0b7d21
previous_release:
  description: Release that served before the run (null on the first rollout).
  type: str
  returned: always
outcome:
  description: C(unchanged), C(succeeded), or in check mode C(would_roll_out).
  type: str
  returned: always
container:
  description: Name of the container serving after the run.
  type: str
  returned: always
port:
  description: Loopback port of the serving web container.
  type: int
  returned: when kind is web
phases:
  description: Seconds spent in each phase (start, gate, switch, verify, drain, stop).
  type: dict
  returned: when a rollout happened
  sample: {start: 0.4, gate: 3.1, switch: 0.2, verify: 10.0, drain: 5.0, stop: 0.3}
evidence:
  description: On failure, the last probe responses, the container's state and the tail of its log.
  type: dict
  returned: failure
"""

import contextlib
import os
import time
import traceback

from ansible.module_utils.basic import AnsibleModule, missing_required_lib

from ansible_collections.appstack.platform.plugins.module_utils import app_container, nginx_upstream, release_plan
from ansible_collections.appstack.platform.plugins.module_utils.health_gate import ProbeResult, http_probe, run_gate
from ansible_collections.appstack.platform.plugins.module_utils.release_ledger import ReleaseLedger

try:
    import docker
    from docker.errors import NotFound

    DOCKER_IMPORT_ERROR = None
except ImportError:
    DOCKER_IMPORT_ERROR = traceback.format_exc()

LOG_TAIL_LINES = 30
LABEL = "appstack"


class RolloutFailed(Exception):
    def __init__(self, message, evidence):
        super().__init__(message)
        self.evidence = evidence


class Rollout:
    def __init__(self, module, client):
        self.module = module
        self.params = module.params
        self.client = client
        self.prefix = f"{self.params['app']}-{self.params['env']}-{self.params['service']}"
        self.ledger = ReleaseLedger(
            os.path.join(self.params["ledger_dir"], f"{self.params['app']}-{self.params['env']}", "releases.json")
        )
        self.phases = {}

    # What the release is

    def container_spec(self):
        """Everything besides the image that makes a release; secrets by content hash, never by value."""
        params = self.params
        return {
            "kind": params["kind"],
            "command": params["command"],
            "environment": params["environment"],
            "env_file": _file_hash(params["env_file"]),
            "secrets": {
                name: _file_hash(path) for name, path in app_container.secret_files(params["secrets_dir"]).items()
            },
            "container_port": params["container_port"],
            "memory": params["memory"],
            "cpus": params["cpus"],
            "user": params["user"],
            "read_only": params["read_only"],
            "restart_policy": params["restart_policy"],
            "log": [params["log_max_size"], params["log_max_files"]],
            "extra_hosts": params["extra_hosts"],
            "health_command": params["health"]["command"],
        }

    # What runs now

    def service_containers(self, running_only):
        filters = {"label": [f"{LABEL}.service={self.prefix}"]}
        if running_only:
            filters["status"] = "running"
        return self.client.containers.list(all=not running_only, filters=filters)

    def serving_container(self):
        running = self.service_containers(running_only=True)
        if self.params["kind"] == "web":
            live_port = nginx_upstream.current_port(self.params["upstream_file"])
            running = [c for c in running if c.labels.get(f"{LABEL}.port") == str(live_port)]
        return running[0] if running else None

    # The run

    def run(self):
        serving = self.serving_container()
        serving_labels = _release_labels(serving)
        previous = serving_labels.get("release")
        image = self.client.images.get(self.image_reference(previous))
        spec_hash = release_plan.config_hash(self.container_spec())
        release = release_plan.release_id(image.id, spec_hash)
        result = {"release": release, "previous_release": previous, "changed": False}

        if release_plan.is_current(serving_labels, image.id, spec_hash):
            return dict(result, outcome="unchanged", container=serving.name, **self.port_result(serving))
        if self.module.check_mode:
            return dict(result, outcome="would_roll_out", changed=True, container=self.container_name(release))

        record = {
            "service": self.params["service"],
            "release": release,
            "previous_release": previous,
            "image": self.params["image"] if not self.params["rollback_to"] else image.id,
            "rollback_to": self.params["rollback_to"],
            "image_id": image.id,
            "config_hash": spec_hash,
            "migration_revision": self.params["migration_revision"],
            "started": _now(),
        }
        try:
            new = self.roll_out(image, release, spec_hash, serving)
        except RolloutFailed as failure:
            self.ledger.append(dict(record, finished=_now(), outcome="failed", error=str(failure), phases=self.phases))
            self.module.fail_json(
                msg=str(failure),
                evidence=failure.evidence,
                release=release,
                previous_release=previous,
                phases=self.phases,
            )
        self.ledger.append(dict(record, finished=_now(), outcome="succeeded", phases=self.phases))
        return dict(
            result, outcome="succeeded", changed=True, container=new.name, phases=self.phases, **self.port_result(new)
        )

    def image_reference(self, serving_release):
        target = self.params["rollback_to"]
        if not target:
            return self.params["image"]
        service = self.params["service"]
        if target == "previous":
            record = self.ledger.previous_good(service, serving_release)
        else:
            record = self.ledger.find(service, target)
        if record is None:
            succeeded = [r["release"] for r in self.ledger.succeeded(service)]
            self.module.fail_json(
                msg=f"no succeeded release {target!r} of {self.prefix} to roll back to in {self.ledger.path}",
                succeeded_releases=succeeded,
                serving_release=serving_release,
            )
        return record["image_id"]

    def roll_out(self, image, release, spec_hash, serving):
        web = self.params["kind"] == "web"
        port = release_plan.idle_port(self.params["slot_ports"], _port_of(serving)) if web else None
        with self.phase("start"):
            new = self.start(image, release, spec_hash, port)
        with self.phase("gate"):
            gate = self.gate(new, port)
        if not gate.passed:
            raise RolloutFailed(
                f"release {release} of {self.prefix} failed its health gate: {gate.reason}; "
                f"{'the previous release keeps serving' if serving else 'nothing was serving'}",
                self.remove_with_evidence(new, gate.as_dict()),
            )
        if web:
            self.switch_and_verify(new, release, port, serving)
        if serving:
            if web:
                with self.phase("drain"):
                    time.sleep(self.params["drain_seconds"])
            with self.phase("stop"):
                serving.stop(timeout=self.params["stop_timeout"])
        self.prune(keep_names={new.name})
        return new

    def switch_and_verify(self, new, release, port, serving):
        params = self.params
        upstream = params["upstream_name"] or self.prefix.replace("-", "_")
        with self.phase("switch"):
            try:
                previous_content = nginx_upstream.switch(
                    params["upstream_file"],
                    nginx_upstream.render(upstream, port, release),
                    self.command,
                    params["nginx_test_command"],
                    params["nginx_reload_command"],
                    params["nginx_pid_file"],
                )
            except nginx_upstream.UpstreamError as error:
                raise RolloutFailed(str(error), self.remove_with_evidence(new, {})) from None
        if not (params["verify_url"] and params["verify_seconds"] > 0):
            return
        with self.phase("verify"):
            verification = self.verify_through_nginx()
        if verification is None:
            return
        revert_error = None
        if previous_content is not None and serving:
            try:
                nginx_upstream.switch(
                    params["upstream_file"],
                    previous_content,
                    self.command,
                    params["nginx_test_command"],
                    params["nginx_reload_command"],
                    params["nginx_pid_file"],
                )
            except nginx_upstream.UpstreamError as error:
                revert_error = str(error)
        evidence = self.remove_with_evidence(new, verification)
        if revert_error:
            raise RolloutFailed(
                f"release {release} failed after the switch AND the revert failed: {revert_error}", evidence
            )
        back_to = _release_labels(serving).get("release") or "the previous upstream"
        raise RolloutFailed(
            f"release {release} of {self.prefix} failed verification through nginx after the switch "
            f"({verification['reason']}); traffic was switched back to {back_to}",
            evidence,
        )

    def verify_through_nginx(self):
        """Probe through nginx for the whole window; None when every probe passed, else the failure."""
        params = self.params
        probe = http_probe(params["verify_url"], params["health"]["timeout"], params["verify_headers"])
        window = params["verify_seconds"]
        interval = params["health"]["interval"]
        started = time.monotonic()
        probes = 0
        while True:
            result = probe()
            probes += 1
            if not result.ok:
                return {"reason": f"probe {probes} through nginx failed", "last_probes": [result.__dict__]}
            if time.monotonic() - started + interval > window:
                return None
            time.sleep(interval)

    # Containers

    def container_name(self, release):
        return f"{self.prefix}-{release}"

    def start(self, image, release, spec_hash, port):
        params = self.params
        name = self.container_name(release)
        self.remove_if_exists(name)
        environment = app_container.environment(params["env_file"], params["environment"], params["secrets_dir"])
        labels = {
            f"{LABEL}.service": self.prefix,
            f"{LABEL}.release": release,
            f"{LABEL}.image_id": image.id,
            f"{LABEL}.config_hash": spec_hash,
        }
        options = {
            "name": name,
            "command": params["command"],
            "detach": True,
            "environment": environment,
            "labels": labels,
            "restart_policy": {"Name": params["restart_policy"]},
            "log_config": {
                "Type": "json-file",
                "Config": {"max-size": params["log_max_size"], "max-file": str(params["log_max_files"])},
            },
            "extra_hosts": params["extra_hosts"] or None,
            "user": params["user"],
            "read_only": params["read_only"],
            "tmpfs": {"/tmp": "rw,noexec,nosuid,size=64m"} if params["read_only"] else None,
            "mem_limit": params["memory"],
            "nano_cpus": int(params["cpus"] * 1e9) if params["cpus"] else None,
            "volumes": app_container.secret_volumes(params["secrets_dir"]),
        }
        if port:
            labels[f"{LABEL}.port"] = str(port)
            options["ports"] = {f"{params['container_port']}/tcp": ("127.0.0.1", port)}
        if params["health"]["command"]:
            interval_ns = int(params["health"]["interval"] * 1e9)
            options["healthcheck"] = {
                "test": ["CMD-SHELL", params["health"]["command"]],
                "interval": interval_ns,
                "timeout": int(params["health"]["timeout"] * 1e9),
                "retries": 3,
                "start_period": 0,
            }
        options = {key: value for key, value in options.items() if value is not None}
        return self.client.containers.run(image.id, **options)

    def gate(self, container, port):
        health = self.params["health"]

        def still_alive():
            container.reload()
            state = container.attrs["State"]
            if state["Status"] != "running":
                return f"container {container.name} is {state['Status']} (exit code {state.get('ExitCode')})"
            return None

        if port:
            probe = http_probe(f"http://127.0.0.1:{port}{health['path']}", health["timeout"])
        elif health["command"]:
            probe = self.docker_health_probe(container)
        else:
            probe = self.running_probe(container)
        return run_gate(probe, health["successes"], health["interval"], health["deadline"], still_alive=still_alive)

    @staticmethod
    def docker_health_probe(container):
        def probe():
            container.reload()
            health = container.attrs["State"].get("Health") or {}
            log = health.get("Log") or [{}]
            return ProbeResult(health.get("Status") == "healthy", log[-1].get("ExitCode"), log[-1].get("Output", ""))

        return probe

    @staticmethod
    def running_probe(container):
        def probe():
            container.reload()
            return ProbeResult(container.status == "running", None, container.status)

        return probe

    def remove_with_evidence(self, container, evidence):
        container.reload()
        state = container.attrs["State"]
        evidence = dict(evidence)
        evidence["container"] = {
            "name": container.name,
            "status": state.get("Status"),
            "exit_code": state.get("ExitCode"),
            "oom_killed": state.get("OOMKilled"),
            "error": state.get("Error"),
        }
        evidence["log_tail"] = container.logs(tail=LOG_TAIL_LINES).decode("utf-8", "replace").splitlines()
        container.remove(force=True)
        return evidence

    def remove_if_exists(self, name):
        with contextlib.suppress(NotFound):
            self.client.containers.get(name).remove(force=True)

    def prune(self, keep_names):
        stopped = [
            (c.attrs["Created"], c.name)
            for c in self.service_containers(running_only=False)
            if c.status != "running" and c.name not in keep_names
        ]
        for name in release_plan.to_prune(stopped, self.params["keep_releases"]):
            self.client.containers.get(name).remove(force=True)

    def port_result(self, container):
        port = _port_of(container)
        return {"port": port} if port else {}

    def command(self, argv):
        return self.module.run_command(argv)

    def phase(self, name):
        return _Phase(self.phases, name)


class _Phase:
    def __init__(self, phases, name):
        self.phases, self.name = phases, name

    def __enter__(self):
        self.started = time.monotonic()

    def __exit__(self, *exc):
        self.phases[self.name] = round(time.monotonic() - self.started, 3)


def _release_labels(container):
    if container is None:
        return {}
    labels = container.labels
    return {key: labels.get(f"{LABEL}.{key}") for key in ("release", "image_id", "config_hash")}


def _port_of(container):
    port = container.labels.get(f"{LABEL}.port") if container else None
    return int(port) if port else None


def _file_hash(path):
    if not path:
        return None
    with open(path, "rb") as handle:
        return release_plan.config_hash({"content": handle.read().hex()})


def _now():
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())


def argument_spec():
    return {
        "app": {"type": "str", "required": True},
        "env": {"type": "str", "required": True},
        "service": {"type": "str", "required": True},
        "kind": {"type": "str", "choices": ["web", "worker"], "default": "web"},
        "image": {"type": "str"},
        "rollback_to": {"type": "str"},
        "command": {"type": "list", "elements": "str"},
        "environment": {"type": "dict", "default": {}},
        "env_file": {"type": "path"},
        "secrets_dir": {"type": "path"},
        "container_port": {"type": "int", "default": 8000},
        "slot_ports": {"type": "list", "elements": "int"},
        "upstream_file": {"type": "path"},
        "upstream_name": {"type": "str"},
        "nginx_test_command": {"type": "list", "elements": "str", "default": ["nginx", "-t"]},
        "nginx_reload_command": {"type": "list", "elements": "str", "default": ["systemctl", "reload", "nginx"]},
        "nginx_pid_file": {"type": "path", "default": "/run/nginx.pid"},
        "health": {
            "type": "dict",
            "default": {},
            "options": {
                "path": {"type": "str", "default": "/health"},
                "interval": {"type": "float", "default": 1},
                "timeout": {"type": "float", "default": 2},
                "successes": {"type": "int", "default": 3},
                "deadline": {"type": "float", "default": 60},
                "command": {"type": "str"},
            },
        },
        "verify_url": {"type": "str"},
        "verify_headers": {"type": "dict", "default": {}},
        "verify_seconds": {"type": "float", "default": 10},
        "drain_seconds": {"type": "float", "default": 5},
        "stop_timeout": {"type": "int", "default": 30},
        "keep_releases": {"type": "int", "default": 3},
        "memory": {"type": "str"},
        "cpus": {"type": "float"},
        "user": {"type": "str"},
        "read_only": {"type": "bool", "default": False},
        "restart_policy": {
            "type": "str",
            "choices": ["no", "on-failure", "always", "unless-stopped"],
            "default": "unless-stopped",
        },
        "log_max_size": {"type": "str", "default": "10m"},
        "log_max_files": {"type": "int", "default": 3},
        "extra_hosts": {"type": "dict", "default": {}},
        "migration_revision": {"type": "str"},
        "ledger_dir": {"type": "path", "default": "/var/lib/appstack"},
    }


def main():
    module = AnsibleModule(
        argument_spec=argument_spec(),
        required_if=[("kind", "web", ("slot_ports", "upstream_file"))],
        required_one_of=[("image", "rollback_to")],
        supports_check_mode=True,
    )
    if DOCKER_IMPORT_ERROR:
        if module.check_mode:
            # A host without Docker yet (check mode before the docker_engine role ever ran) runs nothing: all of it
            # would be rolled out.
            module.warn("Docker SDK not installed yet: assuming nothing runs")
            module.exit_json(changed=True, outcome="would_roll_out", release=None, previous_release=None)
        module.fail_json(msg=missing_required_lib("docker (python3-docker)"), exception=DOCKER_IMPORT_ERROR)
    if module.params["kind"] == "web":
        try:
            release_plan.idle_port(module.params["slot_ports"], None)
        except ValueError as error:
            module.fail_json(msg=str(error))
    try:
        client = docker.from_env()
        result = Rollout(module, client).run()
    except docker.errors.ImageNotFound:
        module.fail_json(msg=f"image {module.params['image']} is not on this host: pull or load it first")
    except docker.errors.DockerException as error:
        module.fail_json(msg=f"Docker error: {error}", exception=traceback.format_exc())
    module.exit_json(**result)


if __name__ == "__main__":
    main()
