#!/usr/bin/env bash
# Builds the Debian 13 (trixie) base image used by every Molecule host and the demo environment:
# debootstrap + docker import, systemd as PID 1, the host's CA certificates trusted.
# The image is tagged with a hash of this recipe, so an unchanged recipe reuses the cached image
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

if docker image inspect "$versioned_tag" >/dev/null 2>&1; then
  docker tag "$versioned_tag" "$stable_tag"
  log "reusing $versioned_tag"
  exit 0
fi

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
docker tag "$versioned_tag" "$stable_tag"
log "built $versioned_tag"
