#!/usr/bin/env bash
# Installs, on demand only, what the opt-in real Temporal cluster needs (infra/devstack/temporal-cluster.ts):
# the Temporal server and temporal-sql-tool v1.32.2 from the Go module proxy, into the user's tools
# cache outside the clone, keyed by version (like fake-gcs-server in infra/install.sh).
# Not called by infra/install.sh, .ci/run or npm test. Prints nothing when the binaries are already there.
set -euo pipefail
cd "$(dirname "$0")/.."

TEMPORAL_SERVER_VERSION=v1.32.2
GO_TOOLCHAIN=go1.27.3
TOOLS_CACHE="${IMAGECAST_TOOLS_CACHE:-$HOME/.cache/imagecast/tools}"
dir="$TOOLS_CACHE/temporal-server-$TEMPORAL_SERVER_VERSION"
log=$(mktemp)
trap 'rm -f "$log"' EXIT

fail() {
  echo "install-cluster: $1" >&2
  [ -s "$log" ] && tail -n 30 "$log" >&2
  exit 1
}

if [ ! -x "$dir/server" ] || [ ! -x "$dir/sql" ]; then
  command -v go >/dev/null || fail "go is needed to build the Temporal server"
  mkdir -p "$dir.tmp"
  for pkg in cmd/server cmd/tools/sql; do
    GOTOOLCHAIN=$GO_TOOLCHAIN GOBIN="$dir.tmp" GOFLAGS=-mod=mod \
      go install "go.temporal.io/server/$pkg@$TEMPORAL_SERVER_VERSION" >"$log" 2>&1 \
      || fail "go install go.temporal.io/server/$pkg@$TEMPORAL_SERVER_VERSION failed"
  done
  rm -rf "$dir" && mv "$dir.tmp" "$dir"
fi
