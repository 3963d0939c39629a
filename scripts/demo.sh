#!/usr/bin/env bash
# The built-in demo environment: one all-in-one host in a local container (systemd as PID 1),
# brought to the stack by the same playbook a user runs against a real server.
#   scripts/demo.sh           create the host if needed and run playbooks/site.yml against it
#   scripts/demo.sh destroy   remove the host and its network
set -euo pipefail
cd "$(dirname "$0")/.."
# shellcheck source=scripts/env.sh
source scripts/env.sh

readonly HOST=appstack-demo
readonly NETWORK=appstack-demo-net
readonly IMAGE=${APPSTACK_BASE_IMAGE:-appstack-base:trixie}

log() { printf '[demo] %s\n' "$*" >&2; }

if [ "${1:-}" = destroy ]; then
  docker rm -f "$HOST" >/dev/null 2>&1 || true
  docker network rm "$NETWORK" >/dev/null 2>&1 || true
  log "removed $HOST"
  exit 0
fi

scripts/setup.sh

docker network inspect "$NETWORK" >/dev/null 2>&1 || docker network create "$NETWORK" >/dev/null
if [ "$(docker inspect -f '{{.State.Running}}' "$HOST" 2>/dev/null)" != true ]; then
  docker rm -f "$HOST" >/dev/null 2>&1 || true
  log "starting $HOST from $IMAGE"
  docker run -d --name "$HOST" --hostname "$HOST" --network "$NETWORK" \
    --cap-add SYS_ADMIN --cap-add SYS_PTRACE --cgroupns host -v /sys/fs/cgroup:/sys/fs/cgroup:rw \
    --tmpfs /run --tmpfs /run/lock --tmpfs /tmp --stop-signal SIGRTMIN+3 \
    "$IMAGE" /lib/systemd/systemd >/dev/null
fi
for _ in $(seq 30); do
  state=$(docker exec "$HOST" systemctl is-system-running 2>/dev/null || true)
  case "$state" in running|degraded) break ;; esac
  sleep 1
done

ansible-playbook -i inventories/demo playbooks/site.yml
log "done. Try: docker exec -it $HOST runuser -u postgres -- psql demo -c 'SELECT extversion FROM pg_extension'"
