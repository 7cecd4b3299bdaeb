#!/usr/bin/env bash
# Bundle activation tooling (digest, sign, stage):
#   bash services/policy/scripts/policy-bundle.sh digest|sign|stage --bundle <bundle.tar.gz> ...
# Needs CUSTODY_DB_URL (and CUSTODY_DB_SCHEMA when the schema is not "policy").
# Compiles the workspace packages with swc (like scripts/bench.sh), then runs the CLI.
set -euo pipefail
cd "$(dirname "$0")/../../.."
for dir in libs/* services/policy; do
  [ -d "$dir/src" ] || continue
  (cd "$dir" && npx swc src -d dist --strip-leading-paths --config-file ../../.swcrc --ignore '**/*.spec.ts' -q)
done
exec node --enable-source-maps services/policy/dist/cli/policy-bundle.js "$@"
