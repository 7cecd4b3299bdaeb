#!/usr/bin/env bash
# Ensures the Helm CLI (not on npm or Debian), built once with `go install` and cached
# (lib.sh go_tool); prints the path of .local/bin/helm. The ldflags are the ones Helm's own
# Makefile sets: the version string and the Kubernetes version that `helm template`/`helm lint`
# assume without a cluster (client-go v0.37 -> 1.37).
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

HELM_VERSION="${HELM_VERSION:-v3.22.0}"
HELM_K8S_MAJOR="${HELM_K8S_MAJOR:-1}"
HELM_K8S_MINOR="${HELM_K8S_MINOR:-37}"
ldflags="-s -w -X helm.sh/helm/v3/internal/version.version=$HELM_VERSION"
ldflags+=" -X helm.sh/helm/v3/internal/version.gitTreeState=clean"
for pkg in helm.sh/helm/v3/pkg/lint/rules helm.sh/helm/v3/pkg/chartutil; do
  ldflags+=" -X $pkg.k8sVersionMajor=$HELM_K8S_MAJOR -X $pkg.k8sVersionMinor=$HELM_K8S_MINOR"
done
helm_ok() { version_is "$1" "^${HELM_VERSION}$" version --template '{{.Version}}'; }
export CGO_ENABLED=0
go_tool helm "$HELM_VERSION" "helm.sh/helm/v3/cmd/helm@$HELM_VERSION" helm_ok -ldflags "$ldflags"
