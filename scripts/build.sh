#!/usr/bin/env bash
# Compile every workspace project's src/ to dist/ with swc (decorator metadata for Nest DI).
# Type-checking is tsc's job (npm run typecheck); swc only emits.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
swc="$root/node_modules/.bin/swc"
for dir in "$root"/libs/* "$root"/services/* "$root"/deploy/embedded; do
  [ -d "$dir/src" ] || continue
  (cd "$dir" && rm -rf dist && "$swc" src -d dist --strip-leading-paths --config-file "$root/.swcrc" --copy-files --ignore '**/*.spec.ts' -q)
done
