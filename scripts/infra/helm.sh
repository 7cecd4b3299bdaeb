#!/usr/bin/env bash
# Ensures the Helm CLI (not on npm or Debian): built once with `go install` from the Go module
# proxy into $CUSTODY_CACHE/helm-<version>/bin, linked to .local/bin/helm.
#   bash scripts/infra/helm.sh          # prints the absolute path of the helm binary
# The first build takes a few minutes on 2 cores; later runs (and fresh clones) reuse the cache.
# The ldflags are the ones Helm's own Makefile sets: the version string and the Kubernetes
# version that `helm template`/`helm lint` assume without a cluster (client-go v0.37 -> 1.37).
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

HELM_VERSION="${HELM_VERSION:-v3.22.0}"
HELM_K8S_MAJOR="${HELM_K8S_MAJOR:-1}"
HELM_K8S_MINOR="${HELM_K8S_MINOR:-37}"
HELM_GOBIN="$CUSTODY_CACHE/helm-$HELM_VERSION/bin"
HELM_LINK="$LOCAL_DIR/bin/helm"

has_version() { [ -x "$1" ] && [ "$("$1" version --template '{{.Version}}' 2>/dev/null)" = "$HELM_VERSION" ]; }

if ! has_version "$HELM_GOBIN/helm"; then
  need go "install Go 1.24+ (https://go.dev/dl/) to build the Helm CLI"
  echo "helm: building $HELM_VERSION with go install (takes a few minutes the first time)" >&2
  mkdir -p "$HELM_GOBIN"
  ldflags="-s -w -X helm.sh/helm/v3/internal/version.version=$HELM_VERSION"
  ldflags+=" -X helm.sh/helm/v3/internal/version.gitTreeState=clean"
  for pkg in helm.sh/helm/v3/pkg/lint/rules helm.sh/helm/v3/pkg/chartutil; do
    ldflags+=" -X $pkg.k8sVersionMajor=$HELM_K8S_MAJOR -X $pkg.k8sVersionMinor=$HELM_K8S_MINOR"
  done
  # A Go older than the module's go directive fetches the newer toolchain from the module proxy.
  GOBIN="$HELM_GOBIN" CGO_ENABLED=0 GOFLAGS="${GOFLAGS:-} -trimpath" GOTOOLCHAIN="${GOTOOLCHAIN:-auto}" \
    go install -ldflags "$ldflags" "helm.sh/helm/v3/cmd/helm@$HELM_VERSION" >&2 ||
    die "go install helm.sh/helm/v3/cmd/helm@$HELM_VERSION failed (see output above)"
  has_version "$HELM_GOBIN/helm" || die "built helm does not report version $HELM_VERSION"
fi

mkdir -p "$(dirname "$HELM_LINK")"
if [ "$(readlink "$HELM_LINK" 2>/dev/null || true)" != "$HELM_GOBIN/helm" ]; then
  ln -sfn "$HELM_GOBIN/helm" "$HELM_LINK"
fi
echo "$HELM_LINK"
