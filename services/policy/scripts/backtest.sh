#!/usr/bin/env bash
# What-if / backtest of a candidate policy bundle against the stored decision inputs:
#   bash services/policy/scripts/backtest.sh --bundle <bundle.tar.gz> [--limit N] [--since ISO-time]
# Needs CUSTODY_DB_URL (and CUSTODY_DB_SCHEMA when the schema is not "policy").
# Compiles the workspace packages with swc (like scripts/bench.sh), then runs the CLI.
set -euo pipefail
cd "$(dirname "$0")/../../.."
for dir in libs/* services/policy; do
  [ -d "$dir/src" ] || continue
  (cd "$dir" && npx swc src -d dist --strip-leading-paths --config-file ../../.swcrc --ignore '**/*.spec.ts' -q)
done
exec node --enable-source-maps services/policy/dist/cli/backtest.js "$@"
