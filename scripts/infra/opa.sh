#!/usr/bin/env bash
# Ensures the Open Policy Agent CLI (not on npm or Debian), built once with `go install` and
# cached (lib.sh go_tool); prints the path of .local/bin/opa.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

OPA_VERSION="${OPA_VERSION:-v1.22.2}"
opa_ok() { version_is "$1" "^Version: ${OPA_VERSION#v}$" version; }
go_tool opa "$OPA_VERSION" "github.com/open-policy-agent/opa@$OPA_VERSION" opa_ok
