#!/usr/bin/env bash
# Ensures grpcurl (a stock gRPC client that knows nothing of this project; not on npm or
# Debian): built once with `go install` from the Go module proxy into
# $CUSTODY_CACHE/grpcurl-<version>/bin, linked to .local/bin/grpcurl.
#   bash scripts/infra/grpcurl.sh      # prints the absolute path of the grpcurl link
# Idempotent: a cached binary of the right version is reused (fresh clones too).
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

GRPCURL_VERSION="${GRPCURL_VERSION:-v1.9.4}"
GRPCURL_GOBIN="$CUSTODY_CACHE/grpcurl-$GRPCURL_VERSION/bin"
GRPCURL_LINK="$LOCAL_DIR/bin/grpcurl"

# `grpcurl -version` prints "grpcurl v1.9.4" (to stderr on some versions).
# Capture first: `cmd | grep -q` under pipefail fails when grep exits early (SIGPIPE).
has_version() { [ -x "$1" ] || return 1; local out; out="$("$1" -version 2>&1)" || return 1; grep -qx "grpcurl ${GRPCURL_VERSION}" <<<"$out"; }

if ! has_version "$GRPCURL_GOBIN/grpcurl"; then
  need go "install Go 1.24+ (https://go.dev/dl/) to build grpcurl"
  echo "grpcurl: building $GRPCURL_VERSION with go install (about a minute the first time)" >&2
  mkdir -p "$GRPCURL_GOBIN"
  # -ldflags sets the version string the release builds carry (go install leaves it "dev build").
  GOBIN="$GRPCURL_GOBIN" GOFLAGS="${GOFLAGS:-} -trimpath" GOTOOLCHAIN="${GOTOOLCHAIN:-auto}" \
    go install -ldflags "-X main.version=$GRPCURL_VERSION" "github.com/fullstorydev/grpcurl/cmd/grpcurl@$GRPCURL_VERSION" >&2 ||
    die "go install github.com/fullstorydev/grpcurl/cmd/grpcurl@$GRPCURL_VERSION failed (see output above)"
  has_version "$GRPCURL_GOBIN/grpcurl" || die "built grpcurl does not report version $GRPCURL_VERSION"
fi

mkdir -p "$(dirname "$GRPCURL_LINK")"
if [ "$(readlink "$GRPCURL_LINK" 2>/dev/null || true)" != "$GRPCURL_GOBIN/grpcurl" ]; then
  ln -sfn "$GRPCURL_GOBIN/grpcurl" "$GRPCURL_LINK"
fi
echo "$GRPCURL_LINK"
