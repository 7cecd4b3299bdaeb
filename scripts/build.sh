#!/usr/bin/env bash
# Compile every workspace project's src/ to dist/ with swc (decorator metadata for Nest DI).
# Type-checking is tsc's job (npm run typecheck); swc only emits.
set -euo pipefail
cd "$(dirname "$0")/.."
for dir in libs/* services/* deploy/embedded; do
  [ -d "$dir/src" ] || continue
  npx swc "$dir/src" -d "$dir/dist" --strip-leading-paths --config-file .swcrc --ignore '**/*.spec.ts' -q
done
