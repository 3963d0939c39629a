#!/usr/bin/env bash
# Builds the Debian 13 (trixie) base image used by every Molecule host and the demo environment:
# debootstrap + docker import, systemd as PID 1, the host's CA certificates trusted. Then the images of the
# Molecule hosts that are not under test but hold what every run would otherwise download again (derive below).
# Each image is tagged with a hash of this recipe, so an unchanged recipe reuses the cached image
# and a changed one rebuilds; the stable tag always points at the current recipe's build.
set -euo pipefail

log() { printf '[base-image] %s\n' "$*" >&2; }

readonly IMAGE_REPO=${APPSTACK_BASE_IMAGE_REPO:-appstack-base}
readonly SUITE=trixie
readonly MIRROR=${APPSTACK_DEBIAN_MIRROR:-http://deb.debian.org/debian}
readonly PACKAGES=python3,python3-apt,systemd,systemd-sysv,dbus,ca-certificates,sudo,iproute2,procps,locales
readonly HOST_CA_DIR=/usr/local/share/ca-certificates

recipe_hash=$( { cat "$0"; cat "$HOST_CA_DIR"/*.crt 2>/dev/null || true; } | sha256sum | cut -c1-12)
readonly versioned_tag="$IMAGE_REPO:$SUITE-$recipe_hash"
readonly stable_tag="$IMAGE_REPO:$SUITE"

build_base() {
  rootfs=$(mktemp -d /var/tmp/appstack-rootfs.XXXXXX)
  trap 'rm -rf "$rootfs"' EXIT

  log "debootstrap $SUITE into $rootfs (about a minute)"
  debootstrap --variant=minbase --include="$PACKAGES" "$SUITE" "$rootfs" "$MIRROR" >"$rootfs.log" 2>&1 || {
    tail -n 30 "$rootfs.log" >&2; rm -f "$rootfs.log"; exit 1; }
  rm -f "$rootfs.log"

  # The machine's HTTPS proxy re-signs traffic: hosts must trust its CA to reach PyPI.
  if compgen -G "$HOST_CA_DIR/*.crt" >/dev/null; then
    cp "$HOST_CA_DIR"/*.crt "$rootfs$HOST_CA_DIR/"
    chroot "$rootfs" update-ca-certificates >/dev/null 2>&1
  fi

  # Units that cannot work in a container and only delay boot or fail it.
  for unit in systemd-modules-load.service systemd-udevd.service systemd-udev-trigger.service \
    getty.target console-getty.service systemd-firstboot.service; do
    ln -sf /dev/null "$rootfs/etc/systemd/system/$unit"
  done
  echo 'en_US.UTF-8 UTF-8' >"$rootfs/etc/locale.gen"
  chroot "$rootfs" locale-gen >/dev/null
  echo 'LANG=C.UTF-8' >"$rootfs/etc/default/locale"
  : >"$rootfs/etc/machine-id"
  # Each container gets its own machine-id and apt lists; an epoch mtime on the lists dir makes the
  # apt module's cache_valid_time consider the (empty) cache stale and update it.
  rm -rf "$rootfs"/var/lib/apt/lists/* "$rootfs"/var/cache/apt/archives/*.deb
  touch -d @0 "$rootfs/var/lib/apt/lists"

  log "importing as $versioned_tag"
  tar -C "$rootfs" -c . | docker import --change 'CMD ["/lib/systemd/systemd"]' - "$versioned_tag" >/dev/null
  log "built $versioned_tag"
}

# The apt lists go, as in the base image: a host's first apt task fetches current ones (the mirror moves on).
readonly APT_CLEAN='rm -rf /var/lib/apt/lists/* /var/cache/apt/archives/*.deb && touch -d @0 /var/lib/apt/lists'
readonly APT_INSTALL='apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq'

# derive NAME SCRIPT: the base image with SCRIPT run in it, tagged $SUITE-NAME.
derive() {
  local name=$1 script=$2 container
  local tag="$IMAGE_REPO:$SUITE-$name-$recipe_hash"
  if ! docker image inspect "$tag" >/dev/null 2>&1; then
    log "building $tag"
    container=$(docker create "$versioned_tag" bash -euc "$script && $APT_CLEAN")
    docker start -a "$container" >"/var/tmp/appstack-$name-image.log" 2>&1 || {
      tail -n 30 "/var/tmp/appstack-$name-image.log" >&2; docker rm "$container" >/dev/null; exit 1; }
    docker commit --change 'CMD ["/lib/systemd/systemd"]' "$container" "$tag" >/dev/null
    docker rm "$container" >/dev/null
    rm -f "/var/tmp/appstack-$name-image.log"
  fi
  docker tag "$tag" "$IMAGE_REPO:$SUITE-$name"
}

if docker image inspect "$versioned_tag" >/dev/null 2>&1; then log "reusing $versioned_tag"; else build_base; fi
docker tag "$versioned_tag" "$stable_tag"

# Molecule's app hosts: their own Docker engine (Docker in Docker: dockerd may not write /proc/sys, which the
# drop-in's variable spares it) and curl for the proofs. Not sshd: the baseline role hardens it where it is found.
derive docker "$APT_INSTALL docker.io docker-cli curl
  mkdir -p /etc/systemd/system/docker.service.d
  printf '[Service]\\nEnvironment=DOCKER_ALLOW_IPV6_ON_IPV4_INTERFACE=1\\n' >/etc/systemd/system/docker.service.d/molecule.conf" &
builds=("$!")
# molecule/stack's backup storage host: moto's S3 server (PyPI) behind nginx's TLS, and sshd for an SFTP repository.
derive s3 "$APT_INSTALL nginx-light openssl python3-venv openssh-server
  python3 -m venv /opt/moto && /opt/moto/bin/pip install --quiet 'moto[server]'" &
builds+=("$!")
# molecule/cluster's managed PostgreSQL (a provider's, which the collection does not run).
derive provider "$APT_INSTALL postgresql-17 postgresql-17-pgvector openssl python3-psycopg2" &
builds+=("$!")
# Side by side: each build mostly waits on the mirror and on dpkg. A failed one fails the script.
for build in "${builds[@]}"; do wait "$build"; done

# Builds of older recipes lose their tags (an image a container still runs stays until that container goes).
docker image ls --format '{{.Repository}}:{{.Tag}}' "$IMAGE_REPO" | grep -E ":$SUITE(-[a-z0-9]+)?-[0-9a-f]{12}$" \
  | grep -v -- "-$recipe_hash$" | xargs -r docker rmi >/dev/null 2>&1 || true
