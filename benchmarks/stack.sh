#!/usr/bin/env bash
# The stack's figures (issue #18) on the demo host, in one run, printed side by side: a fresh converge of site.yml,
# its no-op re-run, a deploy of a new image (with a migration, then without), and a rollback under load (wall time,
# time until the load generator's answers come from the other release, failed requests), a re-run of the same
# deploy, and the host's memory per component read as PSS (summed RSS would count PostgreSQL's shared buffers once
# per backend) with Redis at its cap, for prod alone and with a staging environment beside it (benchmarks/staging/).
# First, Ansible's own cost here (a play of one task, and each task more): this machine's pace moves by a third from
# one hour to the next, and the figures are read in tasks of it.
# Not a test: it asserts nothing. It replaces the demo host (`make demo` afterwards gives a fresh one back).
#   benchmarks/stack.sh
set -euo pipefail
cd "$(dirname "$0")/.."
# shellcheck source=scripts/env.sh
source scripts/env.sh

readonly HOST=appstack-demo
readonly INVENTORY=inventories/demo
readonly URL=http://127.0.0.1:8088/version
readonly SITE=demo.localhost
results=$(mktemp -d)
trap 'rm -rf "$results"' EXIT

# The seconds of the "Playbook run took 0 days, 0 hours, 1 minutes, 3 seconds" lines (ansible.posix.timer) on stdin.
took_seconds() {
  grep -o 'Playbook run took .*' | awk '{print $4 * 86400 + $6 * 3600 + $8 * 60 + $10}'
}

# playbook NAME ARGS...: runs ansible-playbook, keeps its output, prints its wall time in seconds (and FAILED, with
# the end of its output on stderr, when it failed).
playbook() {
  local name=$1 started outcome=""; shift
  started=$(date +%s.%N)
  ansible-playbook -i "$INVENTORY" "$@" >"$results/$name.log" 2>&1 || {
    tail -n 40 "$results/$name.log" >&2
    outcome=" FAILED"
  }
  python3 -c 'import sys, time; print(f"{time.time() - float(sys.argv[1]):.1f}{sys.argv[2]}")' "$started" "$outcome"
}

# wait_on_host CONDITION...: polls a test on the host until it holds; gives up after 120 s, saying which.
wait_on_host() {
  local deadline=$((SECONDS + 120))
  until docker exec "$HOST" "$@"; do
    [ "$SECONDS" -lt "$deadline" ] || { echo "gave up waiting on the host for: $*" >&2; return 1; }
    sleep 0.2
  done
}

# The version nginx serves now.
serving_version() {
  docker exec "$HOST" python3 -c "
import json, urllib.request
request = urllib.request.Request('$URL', headers={'Host': '$SITE'})
print(json.load(urllib.request.urlopen(request, timeout=10))['version'])"
}

# under_load NAME ARGS...: the playbook while the load generator on the host asks nginx for the release; prints
# "wall seconds, seconds from the command's start until another version answered, failed/requests".
under_load() {
  local name=$1 before started wall; shift
  before=$(serving_version)
  docker exec "$HOST" rm -f /tmp/benchmark.stop /tmp/benchmark.ready /tmp/benchmark.json
  # 2 workers, 20 ms apart: 100 requests a second, under the demo site's rate limit (200/s per address), which the
  # rollout's own verification shares.
  docker exec -d "$HOST" sh -c "python3 /usr/local/lib/appstack-load.py $URL --host $SITE --workers 2 --interval 0.02 \
    --stop-file /tmp/benchmark.stop --ready-file /tmp/benchmark.ready >/tmp/benchmark.json"
  wait_on_host test -e /tmp/benchmark.ready
  started=$(date +%s.%N)
  wall=$(playbook "$name" "$@")
  docker exec "$HOST" touch /tmp/benchmark.stop
  wait_on_host test -s /tmp/benchmark.json
  docker exec "$HOST" cat /tmp/benchmark.json | python3 "$results/moved.py" "$started" "$wall" "$before"
}

# PSS per component, in MiB: PostgreSQL, PgBouncer, Redis, nginx, the app's containers, the Docker engine; and the
# part of it only swap can take (anonymous memory, and shared memory such as PostgreSQL's buffers). The rest is pages
# of files, mostly the programs' own code (dockerd, containerd and each container's shim are large Go binaries),
# which the kernel drops under pressure and reads again when they run.
# PostgreSQL's shared memory counts at its full size, as when its buffers are warm: PSS only counts the pages a
# living process has touched, and a page only an exited backend read counts for nobody.
memory() {
  docker exec -i "$HOST" python3 - <<'PY'
import collections
import glob
import os

GROUPS = {"postgres": "PostgreSQL", "pgbouncer": "PgBouncer", "redis-server": "Redis", "nginx": "nginx",
          "python3": "app (containers)", "dockerd": "Docker engine", "containerd": "Docker engine",
          "docker-proxy": "Docker engine"}
OTHER = "other (systemd, sshd, ...)"
pss = collections.Counter()
swap_backed = collections.Counter()
for rollup in glob.glob("/proc/[0-9]*/smaps_rollup"):
    directory = rollup.rsplit("/", 1)[0]
    if directory == f"/proc/{os.getpid()}":
        continue
    try:
        with open(f"{directory}/comm") as comm_file, open(rollup) as rollup_file:
            comm = comm_file.read().strip()
            fields = {line.split(":")[0]: int(line.split()[1]) for line in rollup_file if line.endswith("kB\n")}
    except (OSError, IndexError, ValueError):
        continue
    group = next((group for prefix, group in GROUPS.items() if comm.startswith(prefix)), OTHER)
    shared = 0 if group == "PostgreSQL" else fields.get("Pss_Shmem", 0)
    pss[group] += fields.get("Pss", 0) - fields.get("Pss_Shmem", 0) + shared
    swap_backed[group] += fields.get("Pss_Anon", 0) + shared
# The postmaster's shared segment (shared_memory_type mmap: an anonymous shared mapping of /dev/zero).
with open("/var/lib/postgresql/17/main/postmaster.pid") as pid_file:
    postmaster = pid_file.readline().strip()
with open(f"/proc/{postmaster}/smaps") as smaps:
    in_segment = False
    for line in smaps:
        if line[0] in "0123456789abcdef" and "-" in line.split()[0]:
            in_segment = line.rstrip("\n").endswith(" /dev/zero (deleted)")
        elif line.startswith("Size:") and in_segment:
            segment_kib = int(line.split()[1])
            pss["PostgreSQL"] += segment_kib
            swap_backed["PostgreSQL"] += segment_kib
print(f"  {'':28} {'PSS':>7}     {'of it not in files':>18}")
for name in [*dict.fromkeys(GROUPS.values()), OTHER]:
    print(f"  {name:28} {pss[name] / 1024:7.1f} MiB {swap_backed[name] / 1024:14.1f} MiB")
print(f"  {'total':28} {sum(pss.values()) / 1024:7.1f} MiB {sum(swap_backed.values()) / 1024:14.1f} MiB")
PY
}

# Each Redis instance filled to its maxmemory (as the demo app's user), 1 KiB values past the cap: the cache evicts,
# the broker (noeviction) refuses the rest.
fill_redis() {
  local port
  for port in 6379 6380; do
    python3 "$results/fill.py" 48000 |
      docker exec -i -e REDISCLI_AUTH="$(cat .cache/demo/app_redis_password)" "$HOST" \
        redis-cli --user demo -p "$port" --pipe >/dev/null 2>&1 || true
  done
}

# SET commands in Redis' protocol, for redis-cli --pipe.
cat >"$results/fill.py" <<'PY'
import sys

value = "x" * 1024
for number in range(int(sys.argv[1])):
    key = f"benchmark:fill:{number}"
    sys.stdout.write(f"*3\r\n$3\r\nSET\r\n${len(key)}\r\n{key}\r\n${len(value)}\r\n{value}\r\n")
PY

# A deploy's own seconds beyond its services' start, health gate and verification window (the rollout's phases).
cat >"$results/overhead.py" <<'PY'
import re
import sys

log, wall = open(sys.argv[1]).read(), float(sys.argv[2].split()[0].rstrip(","))
phases = re.findall(r"\b(start|gate|verify) ([0-9.]+) s", log)
healthy = sum(float(seconds) for name, seconds in phases if name in ("start", "gate"))
window = sum(float(seconds) for name, seconds in phases if name == "verify")
print(f"start and gate {healthy:.1f} s, verification {window:.1f} s, the rest {wall - healthy - window:.1f} s")
PY

# What the load generator saw: wall time, when another version first answered, failures.
cat >"$results/moved.py" <<'PY'
import json
import sys

summary = json.load(sys.stdin)
started, wall, before = float(sys.argv[1]), sys.argv[2], sys.argv[3]
moved = [seen - started for version, seen in summary["first_seen"].items() if version != before]
traffic = f"traffic on the other release after {min(moved):.1f} s" if moved else "traffic did not move"
print(f"{wall} s, {traffic}, {summary['failed']}/{summary['requests']} requests failed")
PY

# Ansible's own cost on this machine, the unit the other figures are read in: a play of `ping` tasks through the
# inventory's connection with become, as the roles' tasks run (its argument: how many).
ping_play() {
  printf -- '- name: Pings\n  hosts: %s\n  gather_facts: false\n  become: true\n  tasks:\n' "$HOST"
  for _ in $(seq "$1"); do printf -- '    - name: Ping\n      ansible.builtin.ping:\n'; done
}
ping_play 1 >"$results/ping-1.yml"
ping_play 11 >"$results/ping-11.yml"

scripts/setup.sh >/dev/null
scripts/demo.sh destroy
ANSIBLE_CALLBACKS_ENABLED=ansible.posix.timer scripts/demo.sh >"$results/demo.log" 2>&1 || { tail -n 40 "$results/demo.log" >&2; exit 1; }
# demo.sh runs site.yml, then deploy.yml.
fresh_site=$(took_seconds <"$results/demo.log" | head -n 1)
first_deploy=$(took_seconds <"$results/demo.log" | tail -n 1)
docker cp molecule/shared/load.py "$HOST:/usr/local/lib/appstack-load.py"
docker save appstack-demo-app:v2 | docker exec -i "$HOST" docker load >/dev/null

one_ping=$(playbook ping-1 "$results/ping-1.yml")
eleven_pings=$(playbook ping-11 "$results/ping-11.yml")
task_cost=$(python3 -c 'import sys; print(f"{(float(sys.argv[2]) - float(sys.argv[1])) / 10:.2f}")' "$one_ping" "$eleven_pings")
noop_site=$(playbook noop-site playbooks/site.yml)
noop_site_tasks=$(grep -c '^TASK ' "$results/noop-site.log")
deploy=$(under_load deploy playbooks/deploy.yml -e app_image=appstack-demo-app:v2)
noop_deploy=$(playbook noop-deploy playbooks/deploy.yml -e app_image=appstack-demo-app:v2)
# v2 under another version: a new image with no migration pending.
printf 'FROM appstack-demo-app:v2\nENV APP_VERSION=v3\n' | docker exec -i "$HOST" docker build -q -t appstack-demo-app:v3 - >/dev/null
schemaless_deploy=$(under_load schemaless-deploy playbooks/deploy.yml -e app_image=appstack-demo-app:v3)
schemaless_phases=$(python3 "$results/overhead.py" "$results/schemaless-deploy.log" "$schemaless_deploy")
rollback=$(under_load rollback playbooks/rollback.yml)
fill_redis
memory_prod=$(memory)
# The seed's 512 MB host runs staging beside prod: its database, login, site and release added.
staging_site=$(playbook staging-site playbooks/site.yml -e @benchmarks/staging/site.yml)
staging_deploy=$(playbook staging-deploy playbooks/deploy.yml -e @benchmarks/staging/site.yml \
  -e @benchmarks/staging/app.yml)

cat <<EOF

appstack.platform stack benchmark, demo host ($(nproc) cores, $(date -u +%Y-%m-%dT%H:%MZ), $(git rev-parse --short HEAD))
  Ansible alone                      ${one_ping} s for a play of one task, ${task_cost} s for each task more
  site.yml, fresh host               ${fresh_site} s
  deploy.yml, first release          ${first_deploy} s
  site.yml, no-op re-run             ${noop_site} s (${noop_site_tasks} tasks)
  deploy.yml, new image              ${deploy}
  deploy.yml, same image again       ${noop_deploy} s
  deploy.yml, new image, no migration ${schemaless_deploy}
                                     (${schemaless_phases})
  rollback.yml                       ${rollback}
  site.yml, staging added            ${staging_site} s
  deploy.yml, staging's first release ${staging_deploy} s
memory (PSS), prod after the rollback, Redis at its cap:
${memory_prod}
memory (PSS), prod and staging:
$(memory)
EOF
