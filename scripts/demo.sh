#!/usr/bin/env bash
# The built-in demo environment: one all-in-one host in a local container (systemd as PID 1, its own Docker
# engine), brought to the stack and given a release by the same playbooks a user runs against a real server.
#   scripts/demo.sh           create the host if needed, run playbooks/site.yml, load the demo app, deploy it
#   scripts/demo.sh destroy   remove the host, its network and its Docker volume
set -euo pipefail
cd "$(dirname "$0")/.."
# shellcheck source=scripts/env.sh
source scripts/env.sh

readonly HOST=appstack-demo
readonly NETWORK=appstack-demo-net
readonly DOCKER_VOLUME=appstack-demo-docker
# Bumped when the container's options change: a host made by an older recipe is replaced.
readonly RECIPE=2
readonly IMAGE=${APPSTACK_BASE_IMAGE:-appstack-base:trixie}

log() { printf '[demo] %s\n' "$*" >&2; }

if [ "${1:-}" = destroy ]; then
  docker rm -f "$HOST" >/dev/null 2>&1 || true
  docker network rm "$NETWORK" >/dev/null 2>&1 || true
  docker volume rm "$DOCKER_VOLUME" >/dev/null 2>&1 || true
  log "removed $HOST"
  exit 0
fi

scripts/setup.sh

docker network inspect "$NETWORK" >/dev/null 2>&1 || docker network create "$NETWORK" >/dev/null
if [ "$(docker inspect -f '{{.State.Running}} {{index .Config.Labels "appstack.demo.recipe"}}' "$HOST" 2>/dev/null)" != "true $RECIPE" ]; then
  docker rm -f "$HOST" >/dev/null 2>&1 || true
  log "starting $HOST from $IMAGE"
  # The host runs its own Docker engine: the engine refuses --privileged, these capabilities suffice.
  docker run -d --name "$HOST" --hostname "$HOST" --network "$NETWORK" --label "appstack.demo.recipe=$RECIPE" \
    --cap-add SYS_ADMIN --cap-add SYS_PTRACE --cap-add NET_ADMIN --cap-add NET_RAW --cap-add MKNOD \
    --cap-add SYS_CHROOT --cap-add AUDIT_WRITE --cap-add SETFCAP \
    --security-opt seccomp=unconfined --security-opt apparmor=unconfined \
    --cgroupns host -v /sys/fs/cgroup:/sys/fs/cgroup:rw -v "$DOCKER_VOLUME:/var/lib/docker" \
    --tmpfs /run --tmpfs /run/lock --tmpfs /tmp --stop-signal SIGRTMIN+3 \
    "$IMAGE" /lib/systemd/systemd >/dev/null
  # /proc/sys is read-only in a container: the inner dockerd must not try to write it.
  docker exec "$HOST" sh -c 'mkdir -p /etc/systemd/system/docker.service.d && printf "[Service]\nEnvironment=DOCKER_ALLOW_IPV6_ON_IPV4_INTERFACE=1\n" >/etc/systemd/system/docker.service.d/demo.conf'
fi
for _ in $(seq 30); do
  state=$(docker exec "$HOST" systemctl is-system-running 2>/dev/null || true)
  case "$state" in running|degraded) break ;; esac
  sleep 1
done

ansible-playbook -i inventories/demo playbooks/site.yml
log "loading the demo app's image into $HOST's engine"
tests/demo_app/build.sh
docker save appstack-demo-app:v1 | docker exec -i "$HOST" docker load >/dev/null
ansible-playbook -i inventories/demo playbooks/deploy.yml
address=$(docker inspect -f '{{range .NetworkSettings.Networks}}{{.IPAddress}}{{end}}' "$HOST")
log "done. Try: curl -sk --resolve demo.localhost:443:$address https://demo.localhost/version"
