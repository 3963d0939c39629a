#!/usr/bin/env bash
# Brings a fresh Debian machine to the point where the test harness can run:
# host packages, a running Docker engine. Safe to run again; does nothing when all is present.
set -euo pipefail

log() { printf '[host-setup] %s\n' "$*" >&2; }
die() { printf '[host-setup] ERROR: %s\n' "$*" >&2; exit 1; }

# openssh-client: the stack scenario reaches its host over SSH, as users reach theirs.
readonly REQUIRED_PACKAGES=(docker.io iptables debootstrap openssh-client)
readonly DOCKERD_LOG=${APPSTACK_DOCKERD_LOG:-/var/log/appstack-dockerd.log}

missing_packages() {
  local pkg
  for pkg in "${REQUIRED_PACKAGES[@]}"; do
    dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q 'install ok installed' || printf '%s\n' "$pkg"
  done
}

install_packages() {
  local missing
  mapfile -t missing < <(missing_packages)
  [ "${#missing[@]}" -eq 0 ] && return 0
  if [ "$(id -u)" -ne 0 ]; then
    die "missing host packages: ${missing[*]}. Install them as root: apt-get install -y ${missing[*]}"
  fi
  log "installing ${missing[*]}"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
}

engine_answers() { timeout 10 docker info >/dev/null 2>&1; }

start_engine() {
  engine_answers && return 0
  [ "$(id -u)" -eq 0 ] || die "no Docker engine answers and starting one needs root (run: dockerd &)"
  command -v dockerd >/dev/null || die "dockerd not found although docker.io is installed"
  log "starting dockerd (log: $DOCKERD_LOG)"
  nohup dockerd >"$DOCKERD_LOG" 2>&1 &
  local waited=0
  until engine_answers; do
    sleep 1
    waited=$((waited + 1))
    if [ "$waited" -ge 60 ]; then
      tail -n 30 "$DOCKERD_LOG" >&2 || true
      die "dockerd did not answer within 60 s; its log tail is above"
    fi
  done
  log "engine up after ${waited}s"
}

install_packages
start_engine
