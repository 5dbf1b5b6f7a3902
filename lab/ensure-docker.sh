#!/usr/bin/env bash
# Make sure a Docker engine is installed and answering, and that debootstrap is present.
# Idempotent and quick when everything is already there. Must run as root.
#   - installs docker.io (+ debootstrap) with apt when missing (one `apt-get update`);
#   - starts dockerd in the background (log: /var/log/dockerd-lab.log) when `docker info` fails;
#   - waits up to DOCKER_WAIT_S (60) seconds for it, printing progress.
set -euo pipefail

DOCKER_WAIT_S="${DOCKER_WAIT_S:-60}"
DOCKERD_LOG="${DOCKERD_LOG:-/var/log/dockerd-lab.log}"

log() { printf '[ensure-docker] %s\n' "$*"; }

if [ "$(id -u)" -ne 0 ]; then
  log "must run as root (installs packages and starts dockerd)" >&2
  exit 1
fi

missing=()
command -v dockerd >/dev/null 2>&1 || missing+=(docker.io)
command -v debootstrap >/dev/null 2>&1 || missing+=(debootstrap)
command -v ssh >/dev/null 2>&1 || missing+=(openssh-client)   # the lab is reached over SSH
if [ "${#missing[@]}" -gt 0 ]; then
  log "installing ${missing[*]} (apt-get update once)"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
else
  log "dockerd and debootstrap already installed"
fi

if docker info >/dev/null 2>&1; then
  log "engine answering ($(docker version --format '{{.Server.Version}}' 2>/dev/null))"
  exit 0
fi

if command -v pgrep >/dev/null 2>&1 && pgrep -x dockerd >/dev/null 2>&1; then
  log "dockerd process exists but does not answer yet; waiting for it"
else
  # In its own session (setsid): the engine must outlive the shell and process group that started
  # it (a plain background job dies with its group). live-restore is left to the lab servers'
  # restart policies: when this engine restarts, they and the Ray nodes inside come back by themselves.
  log "starting dockerd in its own session (log: ${DOCKERD_LOG})"
  setsid --fork dockerd >>"${DOCKERD_LOG}" 2>&1 </dev/null
fi

for ((i = 1; i <= DOCKER_WAIT_S; i++)); do
  if docker info >/dev/null 2>&1; then
    log "engine answering after ${i}s ($(docker version --format '{{.Server.Version}}' 2>/dev/null))"
    exit 0
  fi
  if ((i % 5 == 0)); then log "waiting for dockerd... ${i}s"; fi
  sleep 1
done
log "dockerd did not answer within ${DOCKER_WAIT_S}s; last log lines:" >&2
tail -n 20 "${DOCKERD_LOG}" >&2 || true
exit 1
