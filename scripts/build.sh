#!/usr/bin/env bash
# Compile every workspace project's src/ to dist/ with swc (decorator metadata for Nest DI).
# Type-checking is tsc's job (npm run typecheck); swc only emits.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
swc="$root/node_modules/.bin/swc"
# With arguments (project folders relative to the root, e.g. `deploy/cli`), only those.
projects=("$root"/libs/* "$root"/services/* "$root"/deploy/embedded "$root"/deploy/cli)
[ "$#" -gt 0 ] && projects=("${@/#/$root/}")
for dir in "${projects[@]}"; do
  [ -d "$dir/src" ] || continue
  (cd "$dir" && rm -rf dist && "$swc" src -d dist --strip-leading-paths --config-file "$root/.swcrc" --copy-files --ignore '**/*.spec.ts' -q)
done
