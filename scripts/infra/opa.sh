#!/usr/bin/env bash
# Ensures the Open Policy Agent CLI (not on npm or Debian): built once with `go install`
# from the Go module proxy into $CUSTODY_CACHE/opa-<version>/bin, linked to .local/bin/opa.
#   bash scripts/infra/opa.sh          # prints the absolute path of the opa binary
# The first build takes a few minutes; later runs (and fresh clones) reuse the cache.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

OPA_VERSION="${OPA_VERSION:-v1.22.2}"
OPA_GOBIN="$CUSTODY_CACHE/opa-$OPA_VERSION/bin"
OPA_LINK="$LOCAL_DIR/bin/opa"

# Capture first: `cmd | grep -q` under pipefail fails when grep exits early (SIGPIPE).
has_version() { [ -x "$1" ] || return 1; local out; out="$("$1" version 2>/dev/null)" || return 1; grep -qx "Version: ${OPA_VERSION#v}" <<<"$out"; }

if ! has_version "$OPA_GOBIN/opa"; then
  need go "install Go 1.24+ (https://go.dev/dl/) to build the OPA CLI"
  echo "opa: building $OPA_VERSION with go install (takes a few minutes the first time)" >&2
  mkdir -p "$OPA_GOBIN"
  # A Go older than the module's go directive fetches the newer toolchain from the module proxy.
  GOBIN="$OPA_GOBIN" GOFLAGS="${GOFLAGS:-} -trimpath" GOTOOLCHAIN="${GOTOOLCHAIN:-auto}" \
    go install "github.com/open-policy-agent/opa@$OPA_VERSION" >&2 ||
    die "go install github.com/open-policy-agent/opa@$OPA_VERSION failed (see output above)"
  has_version "$OPA_GOBIN/opa" || die "built opa does not report version $OPA_VERSION"
fi

mkdir -p "$(dirname "$OPA_LINK")"
if [ "$(readlink "$OPA_LINK" 2>/dev/null || true)" != "$OPA_GOBIN/opa" ]; then
  ln -sfn "$OPA_GOBIN/opa" "$OPA_LINK"
fi
echo "$OPA_LINK"
