#!/usr/bin/env bash
# Run a benchmark: scripts/bench.sh <name> [args...]   e.g. scripts/bench.sh event-bus --events 5000
# Benchmarks are plain Node programs (not Jest): bench/<name>.bench.ts is compiled with swc
# into .local/bench-dist and run with node. The workspace packages it imports (@custody/*)
# are resolved through node_modules to their dist/ builds, so those are compiled first.
# Infrastructure facts come from .local/infra.env (npm run infra:up writes it).
# `pipeline` is the exception that starts processes: it runs the distributed deployment
# (scripts/up.mjs --no-build after this build, `down` at the end unless --keep) and loads it
# over intake's gRPC (docs/distributed.md, "Load").
set -euo pipefail
cd "$(dirname "$0")/.."

name="${1:-}"
[ -n "$name" ] || { echo "usage: scripts/bench.sh <name> [args...]  (benchmarks: $(cd bench && ls *.bench.ts 2>/dev/null | sed 's/\.bench\.ts$//' | tr '\n' ' '))" >&2; exit 2; }
shift
[ -f "bench/$name.bench.ts" ] || { echo "error: no benchmark bench/$name.bench.ts" >&2; exit 2; }
[ -f .local/infra.env ] || { echo "error: .local/infra.env is missing: run npm run infra:up first" >&2; exit 1; }

# The workspace packages benchmarks import (@custody/* resolve through node_modules to
# <project>/dist/index.js): every libs/* and services/* project (and deploy/embedded) is
# rebuilt by the workspace build, from each project's own folder, without specs, with
# --copy-files (dist/ then carries the descriptor sets gRPC reflection serves) and no stale
# files left in dist/.
bash scripts/build.sh

out=.local/bench-dist
rm -rf "$out"
# bench/ and services/ side by side, so a bench may also import a service's internals
# (../services/<svc>/src/...): -> $out/bench/..., $out/services/...
npx swc bench services -d "$out" --config-file .swcrc --copy-files --ignore '**/*.spec.ts' -q

set -a
# shellcheck disable=SC1091
source .local/infra.env
set +a
exec node --enable-source-maps "$out/bench/$name.bench.js" "$@"
