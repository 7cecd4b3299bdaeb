#!/usr/bin/env bash
# Ensures promtool (Prometheus' rule checker/unit tester; not on npm or Debian in a usable
# version): built once with `go install` from the Go module proxy into
# $CUSTODY_CACHE/promtool-<version>/bin, linked to .local/bin/promtool.
#   bash scripts/infra/promtool.sh      # prints the absolute path of the promtool binary
# Module github.com/prometheus/prometheus v0.316.0 is Prometheus 3.16.0 (Go module versions are
# v0.<major><minor>.<patch>). The build is heavy (several minutes on 2 cores), once.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

PROMTOOL_MODULE_VERSION="${PROMTOOL_MODULE_VERSION:-v0.316.0}"
PROMTOOL_VERSION="${PROMTOOL_VERSION:-3.16.0}"
PROMTOOL_GOBIN="$CUSTODY_CACHE/promtool-$PROMTOOL_MODULE_VERSION/bin"
PROMTOOL_LINK="$LOCAL_DIR/bin/promtool"

# Output captured first: `cmd | grep -q` under pipefail can fail on SIGPIPE.
has_version() {
  [ -x "$1" ] || return 1
  local out
  out="$("$1" --version 2>/dev/null)" || return 1
  case "$out" in "promtool, version $PROMTOOL_VERSION "*) return 0 ;; *) return 1 ;; esac
}

if ! has_version "$PROMTOOL_GOBIN/promtool"; then
  need go "install Go 1.24+ (https://go.dev/dl/) to build promtool"
  echo "promtool: building $PROMTOOL_MODULE_VERSION with go install (several minutes the first time)" >&2
  mkdir -p "$PROMTOOL_GOBIN"
  ldflags="-s -w -X github.com/prometheus/common/version.Version=$PROMTOOL_VERSION"
  ldflags+=" -X github.com/prometheus/common/version.Branch=HEAD"
  ldflags+=" -X github.com/prometheus/common/version.Revision=$PROMTOOL_MODULE_VERSION"
  GOBIN="$PROMTOOL_GOBIN" CGO_ENABLED=0 GOFLAGS="${GOFLAGS:-} -trimpath" GOTOOLCHAIN="${GOTOOLCHAIN:-auto}" \
    go install -tags netgo -ldflags "$ldflags" \
      "github.com/prometheus/prometheus/cmd/promtool@$PROMTOOL_MODULE_VERSION" >&2 ||
    die "go install github.com/prometheus/prometheus/cmd/promtool@$PROMTOOL_MODULE_VERSION failed (see output above)"
  has_version "$PROMTOOL_GOBIN/promtool" || die "built promtool does not report version $PROMTOOL_VERSION"
fi

mkdir -p "$(dirname "$PROMTOOL_LINK")"
if [ "$(readlink "$PROMTOOL_LINK" 2>/dev/null || true)" != "$PROMTOOL_GOBIN/promtool" ]; then
  ln -sfn "$PROMTOOL_GOBIN/promtool" "$PROMTOOL_LINK"
fi
echo "$PROMTOOL_LINK"
