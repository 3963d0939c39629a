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
    successful probes within a deadline) and a smoke test (the verification URL's path and O(smoke_paths), probed
    on the new release directly, every probe must pass), then the nginx upstream include is rewritten atomically,
    checked with C(nginx -t) and nginx reloaded gracefully. The service is probed through nginx for a verification
    window and switched back to the old release automatically if that fails (the new release is removed after a
    drain time, as the old one is after a forward switch). The old release is stopped after a drain time.
  - With O(static_path), a web release's static files are copied out of its container once (before the switch) to
    C(/var/www/appstack/<app>-<env>-<service>/releases/<release>), and the C(current) link there, which the nginx
    role's static locations serve, moves with the upstream switch and back with a revert or a rollback.
  - C(worker) services start the new release, wait for its Docker health check (or for it to keep running), then
    stop the old one with its stop signal and grace period.
  - C(singleton) services (a scheduler such as Celery beat, which must never run twice) stop the old release first,
    then start the new one through the same gate; when the new one fails, it is removed and the old one started
    again.
  - Any failure before the switch removes the new container, leaves the old release serving, and fails with the
    evidence (last probe responses, container state and exit code, tail of its log).
  - Every attempt is recorded in the release ledger C(<ledger_dir>/<app>-<env>/releases.json), as C(in_progress)
    before traffic moves and with its outcome afterwards; the ledger is written atomically and fsynced, and a
    corrupt one is moved aside before anything changes.
  - One run per service at a time, under a lock file beside the ledger (C(<service>.lock)); a second run waits up
    to O(lock_timeout), then fails naming the holder. The kernel drops the lock when its process dies.
  - Every run first reconciles what an interrupted run (a killed process, a dropped SSH connection) left behind.
    The release nginx serves (for a worker, the newest proven one) is the active one; every other running or
    created container of the service is drained and stopped, unfinished ledger records become C(interrupted), and
    a C(reconciled) record says what was done.
author: appstack.platform maintainers (@appstack)
extends_documentation_fragment:
  - appstack.platform.app_container
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
  deployment:
    description:
      - The app's deployment environment (for example C(prod), C(staging)); several can share a host. With O(app)
        it names the containers, the ledger and the upstream (C(<app>-<deployment>)).
      - Not the containers' variables, which are O(environment) and O(env_file).
    type: str
    required: true
    aliases: [env]
  service:
    description: Service name (for example C(web), C(worker)).
    type: str
    required: true
  kind:
    description:
      - C(web) services receive HTTP traffic through nginx; C(worker) services do not, and the old and the new
        release overlap until the new one passed its gate; C(singleton) services never overlap (the old release
        stops before the new one starts).
    type: str
    choices: [web, worker, singleton]
    default: web
  image:
    description:
      - Image reference (tag or digest) present on the host; its digest identifies the release.
      - Required unless O(rollback_to) is set.
    type: str
  rollback_to:
    description:
      - Roll back to an earlier release recorded as succeeded in the ledger, through the same gate and switch.
      - C(previous) is the newest succeeded release other than the one serving; anything else is a release id among
        the ledger's records (a service keeps its newest 100, and the previous release's whatever their age).
      - The release's image and configuration files (O(env_file), O(secrets_dir), O(env_secrets_dir)) come from the
        ledger (its containers are kept, so are they), so it runs with the secrets it was released with; those three
        options are not given with it. The other options are the ones given now.
      - A rollback migrates nothing and reads no migration state (it needs neither the database nor another image);
        its record carries the revision of the record of the release it replaces, and when the release was last
        deployed (not rolled back to) at another revision, the heads the database gained since are returned in
        RV(database_ahead) and warned of.
      - The release was proven when it was released, and the one serving is the reason to leave, so traffic moves as
        soon as the release is back. Its health gate passes on one healthy answer (not O(health.successes)), the
        smoke test probes each path once, and the verification through nginx is one probe (not O(verify_seconds)),
        so a release nginx cannot reach is still switched back from.
    type: str
  command:
    description: Command of the container; the image's when not set.
    type: list
    elements: str
  env_file:
    description:
      - File of C(NAME=value) lines passed to the container; part of the release's identity.
      - It must not change while a release uses it (the app role writes each configuration to a directory of its
        own); the ledger records it for a rollback. Not with O(rollback_to).
    type: path
  secrets_dir:
    description:
      - Directory of secret files, mounted read-only at C(/run/secrets); each file C(NAME) is announced to the app
        as C(NAME_FILE=/run/secrets/NAME). Values never appear in the container's environment.
      - Mounted for the release's lifetime, so it must not change while a release uses it; the ledger records it for
        a rollback. Not with O(rollback_to).
    type: path
  release_configs_dir:
    description:
      - Directory holding one directory per release configuration (the app role's
        C(/etc/appstack/<app>-<env>/releases)). After a rollout, the directories there that no container uses any
        more (running, or kept for rollback) are removed.
    type: path
  static_path:
    description:
      - Directory of the image (for example C(/app/static), where C(collectstatic) or a front-end build put its
        files) served by nginx for this web service; each release's copy is switched with its traffic, so pages and
        the files they name stay of one release, and a rollback serves its release's files. Part of the release's
        identity. Copies are removed with their release's container.
      - The nginx role serves the serving release's copy at a site's static location whose C(release) is true.
    type: str
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
    description:
      - Name of the upstream block.
      - When not set, C(<app>_<env>_<service>) with every character but letters, digits and C(_) made C(_), the
        name the nginx role's sites proxy to (filter C(appstack.platform.upstream)).
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
      headers:
        description:
          - Headers of the gate's and the smoke test's probes, which go to the release directly. A framework that
            checks the host name or the scheme (Django's C(ALLOWED_HOSTS) and C(SECURE_SSL_REDIRECT)) needs what
            nginx sends it.
          - "For example C({Host: app.example.com, X-Forwarded-Proto: https})."
        type: dict
        default: {}
      status:
        description: Status codes a probe passes on (the gate's, the smoke test's and the verification's).
        type: list
        elements: int
        default: [200]
      min_uptime:
        description:
          - Seconds a worker without O(health.command) must keep running, never restarted by Docker, to pass.
          - Any kind of release that Docker restarts during the gate fails it at once.
        type: float
        default: 10
  verify_url:
    description: URL probed through nginx after the switch (for example C(http://127.0.0.1/health)).
    type: str
  verify_headers:
    description:
      - Headers of the smoke and verification probes (for example C(Host)). Never logged (it may carry an
        C(Authorization) header).
    type: dict
    default: {}
  verify_seconds:
    description: How long to keep probing through nginx after the switch; 0 skips the verification.
    type: float
    default: 10
  smoke_paths:
    description:
      - Paths probed on the new release directly (with O(verify_headers)) after its health gate and before the
        switch, O(health.successes) times each, besides the path of O(verify_url). Any failure stops the rollout
        before the release receives traffic.
    type: list
    elements: str
    default: []
  lock_timeout:
    description: Seconds to wait for another run of the same service to finish before failing with its holder.
    type: float
    default: 600
  drain_seconds:
    description:
      - Longest time a release nginx no longer proxies to keeps running (the old one after a switch, the new one
        after a revert), for requests in flight. The drain ends as soon as no nginx worker from before the reload
        is left and no connection to its port is open; only streams (server-sent events, WebSockets, long
        downloads) make it last, and the bound cuts them.
    type: float
    default: 30
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
  migration_revision:
    description:
      - Revision the database is at once this release's migrations ran (the C(revision_after) of
        M(appstack.platform.db_migrate)), recorded in the ledger. Not with O(rollback_to), which takes it from the
        ledger.
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
    deployment: prod
    service: web
    image: registry.example.com/demo:1.4.2
    env_file: /etc/appstack/demo-prod/releases/5d41402abc4b/app.env
    secrets_dir: /etc/appstack/demo-prod/releases/5d41402abc4b/secrets
    release_configs_dir: /etc/appstack/demo-prod/releases
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
    deployment: prod
    service: web
    rollback_to: previous
    slot_ports: [8101, 8102]
    upstream_file: /etc/nginx/appstack/upstreams/demo-prod-web.conf

- name: Roll out the Celery worker
  appstack.platform.app_rollout:
    app: demo
    deployment: prod
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
reconciled:
  description: What this run repaired after an interrupted one before rolling out (active release, containers
    stopped, releases whose attempt was interrupted).
  type: dict
  returned: when something was reconciled
  sample: {active_release: 3f9a1c0b7d21, stopped: [demo-prod-web-0b1c2d3e4f50], interrupted: [3f9a1c0b7d21]}
database_ahead:
  description:
    - After a rollback, the database's heads (each app's newest migration for Django) that it was not at when the
      release was last deployed (not rolled back to), from the ledger's revisions when both are known; empty when
      none.
    - Migrations applied since the release was last deployed, which the rollback did not revert.
  type: list
  elements: str
  returned: when a rollback rolled out
  sample: [notes.0002_note_pinned]
lock_waited:
  description: Seconds this run waited for another run of the service.
  type: float
  returned: when not in check mode
phases:
  description:
    - Seconds spent in each phase (start, gate, smoke, static, switch, verify, revert_drain, drain, stop, prune).
  type: dict
  returned: when a rollout happened
  sample: {start: 0.4, gate: 3.1, smoke: 0.1, switch: 0.2, verify: 10.0, drain: 5.0, stop: 0.3}
evidence:
  description: On failure, the last probe responses, the container's state and the tail of its log.
  type: dict
  returned: failure
"""

import contextlib
import os
import shutil
import socket
import time
import traceback
from urllib.parse import urlsplit

from ansible.module_utils.basic import AnsibleModule, missing_required_lib

from ansible_collections.appstack.platform.plugins.module_utils import (
    app_container,
    migration_state,
    nginx_upstream,
    release_ledger,
    release_plan,
    release_static,
    service_lock,
)
from ansible_collections.appstack.platform.plugins.module_utils.health_gate import (
    ProbeResult,
    http_probe,
    run_gate,
    run_smoke,
    run_window,
)
from ansible_collections.appstack.platform.plugins.module_utils.release_ledger import (
    IN_PROGRESS,
    LedgerCorrupt,
    ReleaseLedger,
)

try:
    import docker
    from docker.errors import DockerException, ImageNotFound, NotFound

    DOCKER_IMPORT_ERROR = None
except ImportError:
    DOCKER_IMPORT_ERROR = traceback.format_exc()

LOG_TAIL_LINES = 30
LABEL = app_container.LABEL


class RolloutFailed(Exception):
    def __init__(self, message, evidence):
        super().__init__(message)
        self.evidence = evidence


class Rollout:
    def __init__(self, module, client):
        self.module = module
        self.params = module.params
        self.client = client
        self.prefix = f"{self.params['app']}-{self.params['deployment']}-{self.params['service']}"
        environment = release_ledger.environment_of(self.params)
        self.ledger = ReleaseLedger.of(environment)
        self.lock_path = release_ledger.lock_path(environment, self.params["service"])
        self.phases = {}
        self.attempt = None
        self.config = app_container.config_of(self.params)
        self.identity = nginx_upstream.identity(self.params["app"], self.params["deployment"], self.params["service"])
        self.static_dir = self.identity["static_dir"] if self.params["static_path"] else None
        # A rollback's release passed its gate and verification when it was released: proven once again is enough.
        rolling_back = bool(self.params["rollback_to"])
        self.proofs_needed = 1 if rolling_back else self.params["health"]["successes"]
        self.verify_window = 0 if rolling_back else self.params["verify_seconds"]

    # What the release is

    def container_spec(self):
        """Everything besides the image that makes a release; secrets by content hash, never by value."""
        params = self.params
        return {
            "kind": params["kind"],
            "command": params["command"],
            "environment": app_container.variables(params),
            "env_file": _file_hash(self.config["env_file"]),
            "secrets": _hashes(self.config["secrets_dir"]),
            # Only when used: releases configured without it keep their identity.
            **({"env_secrets": _hashes(self.config["env_secrets_dir"])} if self.config["env_secrets_dir"] else {}),
            **({"static_path": params["static_path"]} if params["static_path"] else {}),
            "container_port": params["container_port"],
            "memory": params["memory"],
            "cpus": params["cpus"],
            "user": params["user"],
            "read_only": params["read_only"],
            "restart_policy": params["restart_policy"],
            "log": [params["log_max_size"], params["log_max_files"]],
            "extra_hosts": params["extra_hosts"],
            "health_command": params["health"]["command"],
            **({"volumes": params["volumes"]} if params["volumes"] else {}),
        }

    # What runs now

    def service_containers(self, running_only):
        filters = {"label": [f"{LABEL}.service={self.prefix}"]}
        if running_only:
            filters["status"] = "running"
        return self.client.containers.list(all=not running_only, filters=filters)

    def serving_container(self):
        """The active release: for a web service the one nginx's upstream names, for the other kinds the newest
        running one the ledger knows as proven (succeeded, or past its gate when a run was interrupted). A running
        release the ledger never saw pass its gate (a run killed during it) is not active, unless the ledger knows
        nothing of the service (then the newest running one is)."""
        running = self.service_containers(running_only=True)
        if self.params["kind"] == "web":
            live_port = nginx_upstream.current_port(self.params["upstream_file"])
            running = [c for c in running if c.labels.get(f"{LABEL}.port") == str(live_port)]
            return running[0] if running else None
        # An attempt is recorded only once its release passed the gate, whatever became of the run.
        proven = [
            r["release"]
            for r in self.ledger.records()
            if r.get("service") == self.params["service"]
            and r.get("outcome") in ("succeeded", IN_PROGRESS, "interrupted")
        ]
        by_release = {c.labels.get(f"{LABEL}.release"): c for c in running}
        newest = next((by_release[release] for release in reversed(proven) if release in by_release), None)
        if newest or proven or not running:
            return newest
        return max(running, key=lambda c: c.attrs["Created"])

    # The run

    def run(self):
        """Validate the ledger, then (outside check mode) under the service's lock: reconcile, roll out."""
        try:
            self.ledger.records()
        except LedgerCorrupt as error:
            aside = None if self.module.check_mode else self.ledger.move_aside()
            self.module.fail_json(
                msg=f"the release ledger {error}; nothing was changed. "
                + (
                    f"It was moved to {aside}: the next run starts a new ledger (rollback targets from before "
                    "are in the moved file)."
                    if aside
                    else "A real run moves it aside."
                )
            )
        if self.module.check_mode:
            return self.roll_out_release()
        holder = {
            "pid": os.getpid(),
            "host": socket.gethostname(),
            "started": release_ledger.now(),
            "image": self.params["image"] or f"rollback to {self.params['rollback_to']}",
        }
        try:
            with service_lock.held(self.lock_path, self.params["lock_timeout"], holder) as waited:
                reconciled = self.reconcile()
                result = self.roll_out_release()
        except service_lock.LockTimeout as error:
            self.module.fail_json(msg=f"{self.prefix}: {error}", holder=error.holder)
        result["lock_waited"] = waited
        if reconciled:
            result.update(reconciled=reconciled, changed=True)
        return result

    def reconcile(self):
        """Repair what an interrupted run left: every running (or created) container of the service but the active
        one is drained and stopped, unfinished ledger records are closed, and a record says what was done."""
        service = self.params["service"]
        active = self.serving_container()
        leftovers = [
            c
            for c in self.service_containers(running_only=False)
            if c.status in ("running", "created", "restarting") and (active is None or c.name != active.name)
        ]
        unfinished = self.ledger.unfinished(service)
        if not leftovers and not unfinished:
            return None
        if self.params["kind"] == "web" and any(c.status == "running" for c in leftovers):
            self.reload_upstream()
            # One of them may have been nginx's target until the interrupted switch: let its requests finish.
            self.drain([port for port in map(_port_of, leftovers) if port])
        for container in leftovers:
            container.stop(timeout=self.params["stop_timeout"])
        for record in unfinished:
            self.ledger.update(record["attempt"], outcome="interrupted", finished=release_ledger.now())
        if active:
            self.sync_static(active)
        active_release = _release_labels(active).get("release")
        reconciled = {
            "active_release": active_release,
            "stopped": sorted(c.name for c in leftovers),
            "interrupted": [record["release"] for record in unfinished],
        }
        self.ledger.append(
            {
                "service": service,
                "release": active_release,
                "outcome": "reconciled",
                "started": release_ledger.now(),
                "finished": release_ledger.now(),
                **{key: value for key, value in reconciled.items() if key != "active_release"},
            }
        )
        return reconciled

    def reload_upstream(self):
        """Make nginx serve what the upstream file says: a run killed between writing it and reloading nginx left
        them apart, and the release the file names is the one kept."""
        params = self.params
        with open(params["upstream_file"], encoding="utf-8") as handle:
            content = handle.read()
        try:
            self.switch_upstream(content)
        except nginx_upstream.UpstreamError as error:
            self.module.fail_json(
                msg=f"{self.prefix}: an interrupted run left containers to reconcile, but nginx could not be made to "
                f"serve {params['upstream_file']}: {error}; nothing was stopped"
            )

    def roll_out_release(self):
        serving = self.serving_container()
        serving_labels = _release_labels(serving)
        previous = serving_labels.get("release")
        target = self.rollback_target(previous) if self.params["rollback_to"] else None
        image, reference, config = self.release_source(target)
        missing = app_container.missing(config)
        if missing and self.module.check_mode and not self.params["rollback_to"]:
            # A changed configuration is written to a directory of its own, which check mode did not write.
            return {"release": None, "previous_release": previous, "changed": True, "outcome": "would_roll_out"}
        if missing:
            self.module.fail_json(
                msg=f"{self.prefix}: the configuration of the release ({', '.join(missing)}) is not on this host"
                + (
                    f"; it was pruned with the containers of release {self.params['rollback_to']}: roll back to a "
                    "release that is kept, or deploy that image again"
                    if self.params["rollback_to"]
                    else ": write it first (the app role's `migrate` entry point does, which deploy.yml runs on every "
                    "app host before the rollout; or its `main` entry point, which configures, migrates and rolls out)"
                )
            )
        self.use_config(config)
        spec_hash = release_plan.config_hash(self.container_spec())
        release = release_plan.release_id(image.id, spec_hash)
        result = {"release": release, "previous_release": previous, "changed": False}

        if release_plan.is_current(serving_labels, image.id, spec_hash):
            # Static files removed by hand, or a run interrupted between the switch and the link, are put right.
            synced = not self.module.check_mode and self.sync_static(serving)
            return dict(
                result, outcome="unchanged", changed=synced, container=serving.name, **self.port_result(serving)
            )
        if self.module.check_mode:
            return dict(result, outcome="would_roll_out", changed=True, container=self.container_name(release))

        revision, deployed_revision, ahead = self.database_revision(target, previous)
        record = {
            "service": self.params["service"],
            "release": release,
            "previous_release": previous,
            "image": reference,
            "rollback_to": self.params["rollback_to"],
            "image_id": image.id,
            "config_hash": spec_hash,
            **self.config,
            "migration_revision": revision,
            "started": release_ledger.now(),
        }
        try:
            new = self.roll_out(image, release, spec_hash, serving, record)
        except RolloutFailed as failure:
            self.record_outcome(record, outcome="failed", error=str(failure))
            self.module.fail_json(
                msg=str(failure),
                evidence=failure.evidence,
                release=release,
                previous_release=previous,
                phases=self.phases,
            )
        self.record_outcome(record, outcome="succeeded")
        if ahead:
            self.module.warn(
                f"{self.prefix}: the database has {', '.join(ahead)} since release {release} was deployed (at "
                f"{deployed_revision}); a rollback reverts no migration: the release runs on the newer schema"
            )
        return dict(
            result,
            outcome="succeeded",
            changed=True,
            container=new.name,
            phases=self.phases,
            **self.port_result(new),
            **({"database_ahead": ahead} if target else {}),
        )

    def database_revision(self, target, serving_release):
        """The revision the ledger records for this rollout; for a rollback, also the revision its release was last
        deployed at, and what the database gained since. A rollback migrates nothing: the database is where the
        release it replaces left it (a rollback record's revision is inherited, so it says nothing of the release)."""
        if target is None:
            return self.params["migration_revision"], None, []
        service = self.params["service"]
        replaced = self.ledger.find(service, serving_release) if serving_release else None
        revision = (replaced or {}).get("migration_revision")
        deployed = (self.ledger.find(service, target["release"], deployed=True) or {}).get("migration_revision")
        return revision, deployed, migration_state.heads_since(deployed, revision)

    def use_config(self, config):
        """Release with this env file and secrets directory; their values are masked in everything returned."""
        self.config = config
        self.module.no_log_values.update(app_container.secret_values(config))

    def rollback_target(self, serving_release):
        """The ledger record of the release O(rollback_to) names."""
        target = self.params["rollback_to"]
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
        return record

    def release_source(self, record):
        """The image to release, the reference the ledger keeps for it, and the configuration files: O(image) with
        O(env_file) and O(secrets_dir), or a rollback target's image (its ledger ``record``) with the files it was
        released with.

        A rollback target whose image was pruned is pulled again by its reference when it has one (a registry
        image), and refused when what the registry now serves under it is another image. O(image) pinned by its
        digest and gone since the deploy pulled it (another environment's image pruning, a `docker image prune -a`)
        is pulled again: a digest names the same bytes.
        """
        if record is None:
            reference = self.params["image"]
            try:
                return self.client.images.get(reference), reference, self.config
            except ImageNotFound:
                if "@sha256:" not in reference or self.module.check_mode:
                    raise
            return self.client.images.pull(reference), reference, self.config
        reference, image_id = record.get("image") or record["image_id"], record["image_id"]
        described = f"release {record['release']} of {self.prefix} (image {reference}, id {image_id})"
        config = app_container.config_of(record)
        try:
            return self.client.images.get(image_id), reference, config
        except ImageNotFound:
            if reference == image_id:
                self.module.fail_json(msg=f"{described} is no longer on this host and has no reference to pull it by")
        try:
            pulled = self.client.images.pull(reference)
        except DockerException as error:
            self.module.fail_json(msg=f"{described} is no longer on this host and pulling it failed: {error}")
        if pulled.id != image_id:
            self.module.fail_json(
                msg=f"{described} is no longer on this host, and {reference} now is another image ({pulled.id}): "
                "roll back to a release whose image is still here, or deploy that image by its digest"
            )
        return pulled, reference, config

    def record_in_progress(self, record):
        """Before traffic moves (or a worker replaces another): a run that dies after this leaves a record."""
        self.attempt = f"{record['started']}-{os.getpid()}-{record['release']}"
        self.ledger.append(dict(record, attempt=self.attempt, outcome=IN_PROGRESS))

    def record_outcome(self, record, **outcome):
        outcome.update(finished=release_ledger.now(), phases=self.phases)
        if self.attempt:
            self.ledger.update(self.attempt, **outcome)
        else:
            self.ledger.append(dict(record, **outcome))

    def roll_out(self, image, release, spec_hash, serving, record):
        web = self.params["kind"] == "web"
        port = release_plan.idle_port(self.params["slot_ports"], _port_of(serving)) if web else None
        if self.params["kind"] == "singleton" and serving:
            with self.phase("stop"):
                serving.stop(timeout=self.params["stop_timeout"])
            try:
                new = self.start_and_gate(image, release, spec_hash, port, "the previous release was started again")
            except (RolloutFailed, DockerException):
                serving.start()
                raise
            self.record_in_progress(record)
            with self.phase("prune"):
                self.prune(keep_names={new.name})
            return new
        still_serving = "the previous release keeps serving" if serving else "nothing was serving"
        new = self.start_and_gate(image, release, spec_hash, port, still_serving)
        if web:
            with self.phase("smoke"):
                smoke = self.smoke(port)
            if smoke:
                raise RolloutFailed(
                    f"release {release} of {self.prefix} failed its smoke test before the switch: {smoke['reason']}; "
                    f"it received no traffic and {still_serving}",
                    self.remove_with_evidence(new, smoke),
                )
            if self.static_dir:
                with self.phase("static"):
                    self.publish_static(new, release, still_serving)
        self.record_in_progress(record)
        if web:
            self.switch_and_verify(new, release, port, serving)
        if serving:
            if web:
                with self.phase("drain"):
                    self.drain([_port_of(serving)])
            with self.phase("stop"):
                serving.stop(timeout=self.params["stop_timeout"])
        with self.phase("prune"):
            self.prune(keep_names={new.name})
        return new

    def start_and_gate(self, image, release, spec_hash, port, still_serving):
        with self.phase("start"):
            new = self.start(image, release, spec_hash, port)
        with self.phase("gate"):
            gate = self.gate(new, port)
        if not gate.passed:
            raise RolloutFailed(
                f"release {release} of {self.prefix} failed its health gate: {gate.reason}; {still_serving}",
                self.remove_with_evidence(new, gate.as_dict()),
            )
        return new

    def switch_and_verify(self, new, release, port, serving):
        params = self.params
        upstream = params["upstream_name"] or self.identity["name"]
        with self.phase("switch"):
            try:
                previous_content = self.switch_upstream(nginx_upstream.render(upstream, port, release))
            except nginx_upstream.UpstreamError as error:
                raise RolloutFailed(str(error), self.remove_with_evidence(new, {})) from None
            previous_static = self.point_static(release)
        if not (params["verify_url"] and params["verify_seconds"] > 0):
            return
        with self.phase("verify"):
            probe = http_probe(
                params["verify_url"],
                params["health"]["timeout"],
                params["verify_headers"],
                params["health"]["status"],
            )
            verification = run_window(probe, self.verify_window, params["health"]["interval"])
        if verification is None:
            return
        if previous_content is None or not serving:
            self.point_static(previous_static)
            raise RolloutFailed(
                f"release {release} of {self.prefix} failed verification through nginx after the switch "
                f"({verification['reason']}) and nothing served before it: it was removed",
                self.remove_with_evidence(new, verification),
            )
        try:
            self.switch_upstream(previous_content)
        except nginx_upstream.UpstreamError as error:
            # nginx may still send traffic to the new release: it keeps running.
            raise RolloutFailed(
                f"release {release} of {self.prefix} failed after the switch AND the revert failed: {error}; "
                f"{new.name} keeps running, fix nginx and re-run",
                self.evidence(new, verification),
            ) from None
        self.point_static(previous_static)
        with self.phase("revert_drain"):
            # Workers from before the revert may still hold requests to the new release.
            self.drain([port])
        back_to = _release_labels(serving).get("release")
        raise RolloutFailed(
            f"release {release} of {self.prefix} failed verification through nginx after the switch "
            f"({verification['reason']}); traffic was switched back to {back_to}",
            self.remove_with_evidence(new, verification),
        )

    def smoke(self, port):
        """Probe the verification URL's path and the smoke paths on the new release directly, before the switch."""
        params = self.params
        paths = list(params["smoke_paths"])
        if params["verify_url"]:
            verify = urlsplit(params["verify_url"])
            paths.insert(0, verify.path + (f"?{verify.query}" if verify.query else "") or "/")
        health = params["health"]
        headers = {**health["headers"], **params["verify_headers"]}
        probes = [
            (path, http_probe(f"http://127.0.0.1:{port}{path}", health["timeout"], headers, health["status"]))
            for path in dict.fromkeys(paths)
        ]
        return run_smoke(probes, self.proofs_needed) if probes else None

    # Static files

    def publish_static(self, container, release, still_serving):
        try:
            self.copy_static(container, release)
        except release_static.StaticError as error:
            raise RolloutFailed(
                f"release {release} of {self.prefix}: its static files could not be copied ({error}); it received "
                f"no traffic and {still_serving}",
                self.remove_with_evidence(container, {"static_path": self.params["static_path"]}),
            ) from None

    def copy_static(self, container, release):
        """Copy O(static_path) out of the release's container, once per release; True when it did."""
        source = self.params["static_path"]
        if os.path.isdir(release_static.release_dir(self.static_dir, release)):
            return False
        try:
            chunks, _stat = container.get_archive(source)
        except NotFound:
            raise release_static.StaticError(f"{source} is not in the image") from None
        release_static.publish(self.static_dir, release, chunks, source)
        return True

    def point_static(self, release):
        """Serve the release's static files (None: none); returns the release served before."""
        return release_static.point_current(self.static_dir, release) if self.static_dir else None

    def sync_static(self, container):
        """Make the running release's copy the one served; True when something had to change."""
        if not self.static_dir:
            return False
        release = _release_labels(container).get("release")
        try:
            copied = self.copy_static(container, release)
        except release_static.StaticError as error:
            self.module.fail_json(
                msg=f"{self.prefix}: the static files of release {release} could not be copied ({error})"
            )
        return self.point_static(release) != release or copied

    # Containers

    def container_name(self, release):
        return f"{self.prefix}-{release}"

    def start(self, image, release, spec_hash, port):
        params = self.params
        name = self.container_name(release)
        self.remove_if_exists(name)
        app_container.ensure_volumes(self.client, params)
        labels = {
            f"{LABEL}.service": self.prefix,
            f"{LABEL}.release": release,
            f"{LABEL}.image_id": image.id,
            f"{LABEL}.config_hash": spec_hash,
            **{f"{LABEL}.{key}": path for key, path in self.config.items() if path},
        }
        options = {
            **app_container.container_options(self.config, params),
            "name": name,
            "command": params["command"],
            "detach": True,
            "labels": labels,
            "restart_policy": {"Name": params["restart_policy"]},
            "log_config": {
                "Type": "json-file",
                "Config": {"max-size": params["log_max_size"], "max-file": str(params["log_max_files"])},
            },
            "read_only": params["read_only"],
            "tmpfs": {"/tmp": "rw,noexec,nosuid,size=64m"} if params["read_only"] else None,
            "mem_limit": params["memory"],
            "nano_cpus": int(params["cpus"] * 1e9) if params["cpus"] else None,
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
            # Docker's restart policy brings a crashing process back: running is not proof it stays up.
            if container.attrs.get("RestartCount"):
                return (
                    f"container {container.name} was restarted {container.attrs['RestartCount']} times by Docker "
                    f"(last exit code {state.get('ExitCode')})"
                )
            return None

        if port:
            probe = http_probe(
                f"http://127.0.0.1:{port}{health['path']}", health["timeout"], health["headers"], health["status"]
            )
        elif health["command"]:
            probe = self.docker_health_probe(container)
        else:
            probe = self.running_probe(container, health["min_uptime"])
        return run_gate(probe, self.proofs_needed, health["interval"], health["deadline"], still_alive=still_alive)

    @staticmethod
    def docker_health_probe(container):
        def probe():
            container.reload()
            health = container.attrs["State"].get("Health") or {}
            log = health.get("Log") or [{}]
            return ProbeResult(health.get("Status") == "healthy", log[-1].get("ExitCode"), log[-1].get("Output", ""))

        return probe

    @staticmethod
    def running_probe(container, min_uptime):
        """A worker without a health check passes once it has kept running for ``min_uptime`` seconds."""
        started = time.monotonic()

        def probe():
            container.reload()
            uptime = time.monotonic() - started
            running = container.status == "running"
            return ProbeResult(running and uptime >= min_uptime, None, f"{container.status} for {uptime:.1f} s")

        return probe

    def remove_with_evidence(self, container, evidence):
        evidence = self.evidence(container, evidence)
        container.remove(force=True)
        return evidence

    def evidence(self, container, evidence):
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
        return evidence

    def remove_if_exists(self, name):
        with contextlib.suppress(NotFound):
            self.client.containers.get(name).remove(force=True)

    def prune(self, keep_names):
        containers = {c.name: c for c in self.service_containers(running_only=False)}
        stopped = [
            (c.attrs["Created"], c.name)
            for c in containers.values()
            if c.status != "running" and c.name not in keep_names
        ]
        for name in release_plan.to_prune(stopped, self.params["keep_releases"]):
            containers.pop(name).remove(force=True)
        if self.static_dir:
            release_static.prune(self.static_dir, [_release_labels(c).get("release") for c in containers.values()])
        root = self.params["release_configs_dir"]
        if root and os.path.isdir(root):
            in_use = [
                container.labels.get(f"{LABEL}.{key}")
                for container in self.client.containers.list(all=True, filters={"label": [f"{LABEL}.release"]})
                for key in self.config
            ]
            for name in release_plan.unused_configs(sorted(os.listdir(root)), root, in_use):
                shutil.rmtree(os.path.join(root, name))

    def port_result(self, container):
        port = _port_of(container)
        return {"port": port} if port else {}

    def switch_upstream(self, content):
        """Make ``content`` the upstream file nginx serves (validated, reloaded, old workers gone); returns the
        previous content."""
        params = self.params
        return nginx_upstream.switch(
            params["upstream_file"],
            content,
            self.command,
            params["nginx_test_command"],
            params["nginx_reload_command"],
            params["nginx_pid_file"],
        )

    def drain(self, ports):
        """Until nginx can no longer reach ``ports`` (O(drain_seconds) at most)."""
        nginx_upstream.drain(ports, self.params["drain_seconds"], self.params["nginx_pid_file"])

    def command(self, argv):
        """Run nginx's commands; a missing binary is a failed command (the caller restores the upstream file)."""
        try:
            return self.module.run_command(argv, handle_exceptions=False)
        except OSError as error:
            return 127, "", f"{argv[0]}: {error}"

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


def _hashes(directory):
    return {name: _file_hash(path) for name, path in app_container.secret_files(directory).items()}


def argument_spec():
    return {
        **release_ledger.ARGUMENT_SPEC,
        "service": {"type": "str", "required": True},
        "kind": {"type": "str", "choices": ["web", "worker", "singleton"], "default": "web"},
        "image": {"type": "str"},
        "rollback_to": {"type": "str"},
        "command": {"type": "list", "elements": "str"},
        **app_container.ARGUMENT_SPEC,
        "release_configs_dir": {"type": "path"},
        "static_path": {"type": "str"},
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
                "min_uptime": {"type": "float", "default": 10},
                "headers": {"type": "dict", "default": {}},
                "status": {"type": "list", "elements": "int", "default": [200]},
            },
        },
        "verify_url": {"type": "str"},
        "verify_headers": {"type": "dict", "default": {}, "no_log": True},
        "verify_seconds": {"type": "float", "default": 10},
        "smoke_paths": {"type": "list", "elements": "str", "default": []},
        "lock_timeout": {"type": "float", "default": 600},
        "drain_seconds": {"type": "float", "default": 30},
        "stop_timeout": {"type": "int", "default": 30},
        "keep_releases": {"type": "int", "default": 3},
        "memory": {"type": "str"},
        "cpus": {"type": "float"},
        "read_only": {"type": "bool", "default": False},
        "restart_policy": {
            "type": "str",
            "choices": ["no", "on-failure", "always", "unless-stopped"],
            "default": "unless-stopped",
        },
        "log_max_size": {"type": "str", "default": "10m"},
        "log_max_files": {"type": "int", "default": 3},
        "migration_revision": {"type": "str"},
    }


def main():
    module = AnsibleModule(
        argument_spec=argument_spec(),
        required_if=[("kind", "web", ("slot_ports", "upstream_file"))],
        required_one_of=[("image", "rollback_to")],
        mutually_exclusive=[("rollback_to", name) for name in (*app_container.CONFIG_OPTIONS, "migration_revision")],
        supports_check_mode=True,
    )
    if DOCKER_IMPORT_ERROR:
        if module.check_mode:
            # A host without Docker yet (check mode before the docker_engine role ever ran) runs nothing: all of it
            # would be rolled out.
            module.warn("Docker SDK not installed yet: assuming nothing runs")
            module.exit_json(changed=True, outcome="would_roll_out", release=None, previous_release=None)
        module.fail_json(msg=missing_required_lib("docker (python3-docker)"), exception=DOCKER_IMPORT_ERROR)
    if module.params["static_path"] and module.params["kind"] != "web":
        module.fail_json(msg="static_path is for web services (nginx serves the files of the release it proxies to)")
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
