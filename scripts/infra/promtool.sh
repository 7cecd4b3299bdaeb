#!/usr/bin/env bash
# Ensures promtool (Prometheus' rule checker and unit tester; not on npm or Debian in a usable
# version), built once with `go install` and cached (lib.sh go_tool); prints the path of
# .local/bin/promtool. Module github.com/prometheus/prometheus v0.316.0 is Prometheus 3.16.0
# (Go module versions are v0.<major><minor>.<patch>). The build is heavy, once.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

PROMTOOL_MODULE_VERSION="${PROMTOOL_MODULE_VERSION:-v0.316.0}"
PROMTOOL_VERSION="${PROMTOOL_VERSION:-3.16.0}"
ldflags="-s -w -X github.com/prometheus/common/version.Version=$PROMTOOL_VERSION"
ldflags+=" -X github.com/prometheus/common/version.Branch=HEAD"
ldflags+=" -X github.com/prometheus/common/version.Revision=$PROMTOOL_MODULE_VERSION"
promtool_ok() { version_is "$1" "^promtool, version ${PROMTOOL_VERSION//./\\.} " --version; }
export CGO_ENABLED=0
go_tool promtool "$PROMTOOL_MODULE_VERSION" "github.com/prometheus/prometheus/cmd/promtool@$PROMTOOL_MODULE_VERSION" promtool_ok \
  -tags netgo -ldflags "$ldflags"
