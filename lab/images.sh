#!/usr/bin/env bash
# Build the lab's images, each only when its tag is missing (prints what it skips):
#   1. the server image : Debian trixie minbase (debootstrap) + systemd, python3; pre-downloaded
#                         .debs for the docker_engine/firewall roles (lab/server/Dockerfile)
#   2. the Python base  : Debian bookworm minbase (debootstrap) + python3 3.11, venv, pip
#   3. the Ray image    : roles/ray_image/files/Dockerfile on top of (2)
#   4. the monitoring image, 5. the Celery image (roles/celery/files/Dockerfile on top of (2))
# No registry is needed: base file systems come from the Debian mirror configured in this machine's
# own apt sources, and pip inside the Ray build uses this machine's pip CA bundle / index URL.
# Must run as root (debootstrap). Env overrides: RAY_VERSION, DEBIAN_MIRROR, DEBIAN_SECURITY_MIRROR,
# FORCE=1 (rebuild everything), LAB_CACHE (debootstrap cache dir, default lab/cache).
set -euo pipefail

# ---- names and versions (the collection's inventories refer to these) -------------------------
SERVER_SUITE="trixie"
SERVER_ROOTFS_IMAGE="wizardsofts-lab/debian:${SERVER_SUITE}-minbase"
SERVER_IMAGE="wizardsofts-lab/server:${SERVER_SUITE}"
PYTHON_SUITE="bookworm"                     # bookworm's python3 is 3.11, like the controller
PYTHON_IMAGE="wizardsofts-lab/python:3.11-${PYTHON_SUITE}"
# A plain registry (Debian's docker-registry) for testing the ray_image role's pull method.
REGISTRY_IMAGE="wizardsofts-lab/registry:${SERVER_SUITE}"
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(cd "${HERE}/.." && pwd)"
# pin NAME: a value of plugins/module_utils/_pins.py, the one place the collection pins it.
pin() {
  local value
  value="$(sed -n "s/^$1 = \"\(.*\)\"\$/\1/p" "${ROOT}/plugins/module_utils/_pins.py")"
  [ -n "${value}" ] || { printf '[images] %s not found in plugins/module_utils/_pins.py\n' "$1" >&2; exit 1; }
  printf '%s\n' "${value}"
}
RAY_VERSION="${RAY_VERSION:-$(pin RAY_VERSION)}"
RAY_PYTHON_TAG="py$(pin RAY_PYTHON_VERSION | tr -d .)"
RAY_IMAGE="${RAY_IMAGE:-wizardsofts/ray:${RAY_VERSION}-${RAY_PYTHON_TAG}}"
# Light layer of the seed's image (pinned next to the Ray version).
RAY_EXTRA_PACKAGES="${RAY_EXTRA_PACKAGES:-$(pin RAY_IMAGE_EXTRA_PACKAGES)}"
# The distribution's packages in the image (Redis, for a GCS store the collection deploys).
RAY_SYSTEM_PACKAGES="${RAY_SYSTEM_PACKAGES:-$(pin RAY_IMAGE_SYSTEM_PACKAGES)}"
# The monitoring image: Prometheus, Alertmanager and the node exporter from the distribution.
MONITORING_IMAGE="$(pin MONITORING_IMAGE)"
MONITORING_PACKAGES="$(pin MONITORING_PACKAGES)"
# The Celery image: Celery, Flower, the launcher and bookworm's redis-server (the broker).
CELERY_IMAGE="$(pin CELERY_IMAGE)"
CELERY_PACKAGES="$(pin CELERY_PACKAGES)"
CELERY_SYSTEM_PACKAGES="$(pin CELERY_SYSTEM_PACKAGES)"

CACHE="${LAB_CACHE:-${HERE}/cache}"
FORCE="${FORCE:-0}"
export DOCKER_BUILDKIT=0   # legacy builder: works without the buildx plugin

log() { printf '[images] %s\n' "$*"; }
now() { date +%s; }
INPUTS_LABEL="com.wizardsofts.ray_cluster.lab.inputs"
# An image is reused only when its tag exists *and* carries the hash of the inputs it was built
# from (label ${INPUTS_LABEL}): a changed Dockerfile, package list or version rebuilds it.
# have_image <tag> <inputs-hash>
have_image() {
  [ "${FORCE}" != 1 ] || return 1
  local seen
  seen="$(docker image inspect -f "{{ index .Config.Labels \"${INPUTS_LABEL}\" }}" "$1" 2>/dev/null)" || return 1
  if [ "${seen}" != "$2" ]; then
    log "${1}: present but built from other inputs (${seen:-no hash} != $2): rebuilding"
    return 1
  fi
}
# inputs_hash <strings or files...>: a short hash of everything that decides an image's content.
inputs_hash() {
  local item
  for item in "$@"; do
    if [ -f "${item}" ]; then cat "${item}"; else printf '%s\n' "${item}"; fi
  done | sha256sum | cut -c1-16
}
# Unmount whatever is mounted below a directory (debootstrap can leave /proc, /sys, /dev/pts
# mounted in its target when it is interrupted or disturbed).
unmount_below() {
  local mnt
  awk -v d="$1/" 'index($2, d) == 1 { print $2 }' /proc/mounts | sort -r | while read -r mnt; do
    log "unmounting ${mnt}"; umount -l "${mnt}" || true
  done
}

if [ "$(id -u)" -ne 0 ]; then log "must run as root (debootstrap)" >&2; exit 1; fi

# ---- the Debian mirror, read from this machine's apt sources -----------------------------------
# Prints the URI of the first enabled "deb" source whose suite is exactly $1 (deb822 *.sources
# files first, then one-line sources.list files).
apt_source_uri() {
  local want="$1" f
  for f in /etc/apt/sources.list.d/*.sources; do
    [ -f "$f" ] || continue
    awk -v want="$want" '
      function flush() { if (types ~ /(^| )deb( |$)/ && enabled != "no" && (" " suites " ") ~ (" " want " ") && uris != "" && !done) { split(uris, u, " "); print u[1]; done = 1 } types = suites = uris = ""; enabled = "" }
      /^[ \t]*#/ { next }
      /^[ \t]*$/ { flush(); next }
      tolower($1) == "types:"   { $1 = ""; types = $0 }
      tolower($1) == "uris:"    { $1 = ""; uris = $0; sub(/^ +/, "", uris) }
      tolower($1) == "suites:"  { $1 = ""; suites = $0 }
      tolower($1) == "enabled:" { enabled = tolower($2) }
      END { flush() }' "$f"
  done | head -n1 | grep . && return 0
  cat /etc/apt/sources.list /etc/apt/sources.list.d/*.list 2>/dev/null |
    awk -v want="$want" '$1 == "deb" { i = 2; if ($2 ~ /^\[/) { while ($i !~ /\]$/) i++; i++ } if ($(i + 1) == want) { print $i; exit } }' | grep .
}

HOST_CODENAME="$(. /etc/os-release && echo "${VERSION_CODENAME:-}")"
if [ -z "${DEBIAN_MIRROR:-}" ]; then
  DEBIAN_MIRROR="$(apt_source_uri "${HOST_CODENAME}")" || {
    log "cannot find a Debian mirror for '${HOST_CODENAME}' in /etc/apt/sources*; set DEBIAN_MIRROR" >&2; exit 1; }
fi
if [ -z "${DEBIAN_SECURITY_MIRROR:-}" ]; then
  DEBIAN_SECURITY_MIRROR="$(apt_source_uri "${HOST_CODENAME}-security" || true)"
fi
DEBIAN_MIRROR="${DEBIAN_MIRROR%/}"
DEBIAN_SECURITY_MIRROR="${DEBIAN_SECURITY_MIRROR%/}"

# ---- debootstrap a minbase rootfs and import it -----------------------------------------------
# $1 suite, $2 image tag, $3 comma-separated --include list (may be empty), $4 CMD (JSON)
rootfs_image() {
  local suite="$1" tag="$2" include="$3" cmd="$4" hash
  hash="$(inputs_hash rootfs-v2 "${suite}" "${include}" "${cmd}" "${DEBIAN_MIRROR}" "${DEBIAN_SECURITY_MIRROR}")"
  if have_image "${tag}" "${hash}"; then log "skip ${tag}: present (inputs ${hash})"; return 0; fi
  local dir="${CACHE}/rootfs-${suite}${include:+-extra}" t0 id rc
  t0=$(now)
  mkdir -p "${CACHE}/debs-${suite}"
  unmount_below "${dir}"
  if [ "$(cat "${dir}/.lab-complete" 2>/dev/null)" != "${hash}" ] || [ "${FORCE}" = 1 ]; then
    rm -rf "${dir}"
    log "debootstrap --variant=minbase ${suite} from ${DEBIAN_MIRROR} (${include:-no extras})"
    debootstrap --variant=minbase ${include:+--include="${include}"} \
      --cache-dir="${CACHE}/debs-${suite}" "${suite}" "${dir}" "${DEBIAN_MIRROR}" \
      >"${CACHE}/debootstrap-${suite}.log" 2>&1 || {
        log "debootstrap failed; tail of ${CACHE}/debootstrap-${suite}.log:" >&2
        unmount_below "${dir}"
        tail -n 20 "${CACHE}/debootstrap-${suite}.log" >&2; exit 1; }
    unmount_below "${dir}"
    # apt sources of the image: the same mirror, plus updates and security when the host has them
    rm -f "${dir}/etc/apt/sources.list"
    {
      printf 'Types: deb\nURIs: %s\nSuites: %s %s-updates\nComponents: main\nSigned-By: /usr/share/keyrings/debian-archive-keyring.gpg\n' \
        "${DEBIAN_MIRROR}" "${suite}" "${suite}"
      if [ -n "${DEBIAN_SECURITY_MIRROR}" ]; then
        printf '\nTypes: deb\nURIs: %s\nSuites: %s-security\nComponents: main\nSigned-By: /usr/share/keyrings/debian-archive-keyring.gpg\n' \
          "${DEBIAN_SECURITY_MIRROR}" "${suite}"
      fi
    } >"${dir}/etc/apt/sources.list.d/debian.sources"
    chroot "${dir}" apt-get clean
    rm -rf "${dir}/var/lib/apt/lists/"* "${dir}/var/log/"*.log "${dir}/var/cache/debconf/"*-old
    : >"${dir}/etc/machine-id"   # each container gets its own id at boot
    echo "${hash}" >"${dir}/.lab-complete"
  else
    log "reusing cached rootfs ${dir}"
  fi
  log "importing ${dir} as ${tag}"
  # One file system only (never a live /proc or /sys left mounted inside), into an untagged
  # image: the tag is set only when both tar and the import succeeded.
  rc=0
  id="$(tar --numeric-owner --one-file-system --exclude=./.lab-complete --exclude=./proc/* \
          --exclude=./sys/* --exclude=./dev/pts/* -C "${dir}" -c . |
        docker import --change "CMD ${cmd}" --change 'ENV LANG=C.UTF-8' \
          --change "LABEL ${INPUTS_LABEL}=${hash}" -)" || rc=$?
  if [ "${rc}" -ne 0 ] || [ -z "${id}" ]; then
    [ -n "${id}" ] && docker rmi "${id}" >/dev/null 2>&1
    log "import of ${dir} failed (rc=${rc}): ${tag} not tagged" >&2; exit 1
  fi
  docker tag "${id}" "${tag}"
  log "built ${tag} in $(($(now) - t0))s ($(image_size "${tag}"))"
}

# pip_build_context <dir>: a pip build's context trusts the CA bundle this machine's pip uses (copied
# as pip-ca.crt; the builder stage only, the final stage never sees it) and sets pip_index to this
# machine's index (empty when it is a local file index, which a build cannot see).
pip_build_context() {
  local pip_cmd pip_cert
  pip_cmd="$(command -v pip3 || command -v pip || echo "${ROOT}/.venv/bin/pip")"
  pip_cert="$("${pip_cmd}" config get global.cert 2>/dev/null || true)"
  pip_cert="${PIP_CERT:-${pip_cert:-/etc/ssl/certs/ca-certificates.crt}}"
  if [ -f "${pip_cert}" ]; then cp "${pip_cert}" "$1/pip-ca.crt"; fi
  pip_index="$("${pip_cmd}" config get global.index-url 2>/dev/null || true)"
  pip_index="${PIP_INDEX_URL:-${pip_index}}"
  case "${pip_index}" in file:*) log "ignoring local pip index ${pip_index} (not visible in a build)"; pip_index="";; esac
}

# The inputs hash an image was built from (its base's hash is an input of the image above it).
image_hash() { docker image inspect -f "{{ index .Config.Labels \"${INPUTS_LABEL}\" }}" "$1" 2>/dev/null || echo missing; }
image_size() { docker image inspect -f '{{.Size}}' "$1" | awk '{ printf "%.0f MB", $1 / 1000000 }'; }

T_ALL=$(now)
log "mirror: ${DEBIAN_MIRROR} security: ${DEBIAN_SECURITY_MIRROR:-none}"

# 1. server image
rootfs_image "${SERVER_SUITE}" "${SERVER_ROOTFS_IMAGE}" "" '["/bin/bash"]'
server_hash="$(inputs_hash "$(image_hash "${SERVER_ROOTFS_IMAGE}")" "${HERE}/server/Dockerfile")"
if have_image "${SERVER_IMAGE}" "${server_hash}"; then
  log "skip ${SERVER_IMAGE}: present (inputs ${server_hash})"
else
  t0=$(now)
  log "building ${SERVER_IMAGE} (lab/server/Dockerfile)"
  docker build --build-arg BASE_IMAGE="${SERVER_ROOTFS_IMAGE}" -t "${SERVER_IMAGE}" \
    --label "${INPUTS_LABEL}=${server_hash}" \
    -f "${HERE}/server/Dockerfile" "${HERE}/server" >"${CACHE}/server-build.log" 2>&1 || {
      log "build of ${SERVER_IMAGE} failed; tail of ${CACHE}/server-build.log:" >&2
      tail -n 30 "${CACHE}/server-build.log" >&2; exit 1; }
  log "built ${SERVER_IMAGE} in $(($(now) - t0))s ($(image_size "${SERVER_IMAGE}"))"
fi

# 2. Python base image (python3 == 3.11 in bookworm)
rootfs_image "${PYTHON_SUITE}" "${PYTHON_IMAGE}" "python3,python3-venv,python3-pip,ca-certificates" '["python3"]'

# 3. Ray image
# --- registry: Debian's docker-registry on the minbase rootfs ---------------------------------
registry_dockerfile() {
  printf '%s\n' \
    "FROM ${SERVER_ROOTFS_IMAGE}" \
    "RUN apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends docker-registry && rm -rf /var/lib/apt/lists/*" \
    "RUN printf 'version: 0.1\\nstorage:\\n  filesystem:\\n    rootdirectory: /var/lib/docker-registry\\nhttp:\\n  addr: :5000\\n' > /etc/docker/registry/config.yml" \
    "EXPOSE 5000" \
    'CMD ["/usr/bin/docker-registry", "serve", "/etc/docker/registry/config.yml"]'
}
registry_hash="$(inputs_hash "$(image_hash "${SERVER_ROOTFS_IMAGE}")" "$(registry_dockerfile)")"
if have_image "${REGISTRY_IMAGE}" "${registry_hash}"; then
  log "skip ${REGISTRY_IMAGE}: present (inputs ${registry_hash})"
else
  t0=$(now)
  registry_dockerfile |
    docker build --label "${INPUTS_LABEL}=${registry_hash}" -t "${REGISTRY_IMAGE}" - >"${CACHE}/registry-build.log" 2>&1 ||
    { log "build of ${REGISTRY_IMAGE} failed:"; tail -n 20 "${CACHE}/registry-build.log" >&2; exit 1; }
  log "built ${REGISTRY_IMAGE} in $(($(now) - t0))s ($(image_size "${REGISTRY_IMAGE}"))"
fi

ray_hash="$(inputs_hash "$(image_hash "${PYTHON_IMAGE}")" "${ROOT}/roles/ray_image/files/Dockerfile" \
  "${RAY_VERSION}" "${RAY_EXTRA_PACKAGES}" "${RAY_SYSTEM_PACKAGES}" "${ROOT}/constraints.txt")"
if have_image "${RAY_IMAGE}" "${ray_hash}"; then
  log "skip ${RAY_IMAGE}: present (inputs ${ray_hash})"
else
  t0=$(now)
  ctx="${CACHE}/ray-build-context"
  rm -rf "${ctx}"; mkdir -p "${ctx}"
  cp "${ROOT}/roles/ray_image/files/Dockerfile" "${ctx}/Dockerfile"
  pip_build_context "${ctx}"
  # Pin Ray's dependencies like the controller's (constraints.txt, minus ray itself so that other
  # RAY_VERSIONs stay buildable).
  [ -f "${ROOT}/constraints.txt" ] && grep -v '^ray==' "${ROOT}/constraints.txt" >"${ctx}/constraints.txt"
  log "building ${RAY_IMAGE} (ray ${RAY_VERSION} on ${PYTHON_IMAGE}; index: ${pip_index:-pip default})"
  docker build --build-arg BASE_IMAGE="${PYTHON_IMAGE}" --build-arg RAY_VERSION="${RAY_VERSION}" \
    --label "${INPUTS_LABEL}=${ray_hash}" \
    --build-arg PIP_INDEX_URL="${pip_index}" --build-arg EXTRA_PACKAGES="${RAY_EXTRA_PACKAGES}" \
    --build-arg SYSTEM_PACKAGES="${RAY_SYSTEM_PACKAGES}" -t "${RAY_IMAGE}" "${ctx}" >"${CACHE}/ray-build-${RAY_VERSION}.log" 2>&1 &
  pid=$!
  while kill -0 "${pid}" 2>/dev/null; do
    sleep 10
    kill -0 "${pid}" 2>/dev/null &&
      log "  ... $(($(now) - t0))s: $(grep -oE '^Step [0-9]+/[0-9]+' "${CACHE}/ray-build-${RAY_VERSION}.log" | tail -n1)" \
        "$(grep -E '^(Collecting|Installing|Successfully)' "${CACHE}/ray-build-${RAY_VERSION}.log" | tail -n1 | cut -c1-80)"
  done
  if ! wait "${pid}"; then
    log "build of ${RAY_IMAGE} failed; tail of ${CACHE}/ray-build-${RAY_VERSION}.log:" >&2
    tail -n 30 "${CACHE}/ray-build-${RAY_VERSION}.log" >&2; exit 1
  fi
  rm -rf "${ctx}"
  docker image prune -f --filter label=com.wizardsofts.ray_cluster.stage=builder >/dev/null
  docker run --rm "${RAY_IMAGE}" ray --version
  log "built ${RAY_IMAGE} in $(($(now) - t0))s ($(image_size "${RAY_IMAGE}"))"
fi
# 4. The monitoring image (Prometheus, Alertmanager, node exporter) from trixie's packages
monitoring_hash="$(inputs_hash "$(image_hash "${SERVER_ROOTFS_IMAGE}")" "${ROOT}/roles/ray_monitoring/files/Dockerfile" "${MONITORING_PACKAGES}")"
if have_image "${MONITORING_IMAGE}" "${monitoring_hash}"; then
  log "skip ${MONITORING_IMAGE}: present (inputs ${monitoring_hash})"
else
  t0=$(now)
  docker build --build-arg BASE_IMAGE="${SERVER_ROOTFS_IMAGE}" --build-arg PACKAGES="${MONITORING_PACKAGES}" \
    --label "${INPUTS_LABEL}=${monitoring_hash}" -t "${MONITORING_IMAGE}" "${ROOT}/roles/ray_monitoring/files" \
    >"${CACHE}/monitoring-build.log" 2>&1 ||
    { log "build of ${MONITORING_IMAGE} failed:"; tail -n 20 "${CACHE}/monitoring-build.log" >&2; exit 1; }
  log "built ${MONITORING_IMAGE} in $(($(now) - t0))s ($(image_size "${MONITORING_IMAGE}"))"
fi
# 5. The Celery image (Celery + Flower + the launcher, redis-server for the broker) on the Python base
celery_files="${ROOT}/roles/celery/files"
celery_hash="$(inputs_hash "$(image_hash "${PYTHON_IMAGE}")" "${celery_files}/Dockerfile" "${CELERY_IMAGE}" \
  "${CELERY_PACKAGES}" "${CELERY_SYSTEM_PACKAGES}" \
  $(find "${celery_files}/launcher" -type f \( -name '*.py' -o -name '*.toml' \) | LC_ALL=C sort))"
if have_image "${CELERY_IMAGE}" "${celery_hash}"; then
  log "skip ${CELERY_IMAGE}: present (inputs ${celery_hash})"
else
  t0=$(now)
  ctx="${CACHE}/celery-build-context"
  rm -rf "${ctx}"; mkdir -p "${ctx}"
  cp "${celery_files}/Dockerfile" "${ctx}/Dockerfile"
  cp -r "${celery_files}/launcher" "${ctx}/launcher"
  find "${ctx}/launcher" \( -name __pycache__ -o -name '*.egg-info' -o -name build \) -prune -exec rm -rf {} +
  pip_build_context "${ctx}"
  celery_version="${CELERY_IMAGE##*:}"
  log "building ${CELERY_IMAGE} on ${PYTHON_IMAGE} (index: ${pip_index:-pip default})"
  docker build --build-arg BASE_IMAGE="${PYTHON_IMAGE}" --build-arg CELERY_PACKAGES="${CELERY_PACKAGES}" \
    --build-arg SYSTEM_PACKAGES="${CELERY_SYSTEM_PACKAGES}" --build-arg PIP_INDEX_URL="${pip_index}" \
    --build-arg IMAGE_VERSION="${celery_version}" --label "${INPUTS_LABEL}=${celery_hash}" \
    --force-rm -t "${CELERY_IMAGE}" "${ctx}" >"${CACHE}/celery-build.log" 2>&1 ||
    { log "build of ${CELERY_IMAGE} failed; tail of ${CACHE}/celery-build.log:" >&2
      tail -n 30 "${CACHE}/celery-build.log" >&2; exit 1; }
  rm -rf "${ctx}"
  docker image prune -f --filter label=com.wizardsofts.ray_cluster.stage=builder >/dev/null
  docker run --rm "${CELERY_IMAGE}" celery --version
  log "built ${CELERY_IMAGE} in $(($(now) - t0))s ($(image_size "${CELERY_IMAGE}"))"
fi
log "images ready in $(($(now) - T_ALL))s"
