#!/usr/bin/env bash
# Ensures grpcurl (a stock gRPC client that knows nothing of this project; not on npm or
# Debian), built once with `go install` and cached (lib.sh go_tool); prints the path of
# .local/bin/grpcurl. -ldflags sets the version string release builds carry.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

GRPCURL_VERSION="${GRPCURL_VERSION:-v1.9.4}"
grpcurl_ok() { version_is "$1" "^grpcurl ${GRPCURL_VERSION}$" -version; }
go_tool grpcurl "$GRPCURL_VERSION" "github.com/fullstorydev/grpcurl/cmd/grpcurl@$GRPCURL_VERSION" grpcurl_ok \
  -ldflags "-X main.version=$GRPCURL_VERSION"
