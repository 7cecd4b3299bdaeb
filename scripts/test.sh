#!/usr/bin/env bash
# `npm test`: everything, against the real components.
#   1. install (first time) and start the real infrastructure on 127.0.0.1 (scripts/infra/up.sh)
#   2. type-check and lint the whole workspace (incl. the Nx module-boundary rule)
#   3. build every project to dist/ (the CLI, the offline signer, npm start and npm run up run as child processes)
#   4. Jest: unit specs, then integration tests against PostgreSQL, Kafka, OPA, SoftHSM2
# Extra arguments go to Jest, e.g. `npm test -- libs/event-bus`.
set -euo pipefail
cd "$(dirname "$0")/.."
export NX_DAEMON=false NX_NO_CLOUD=true NX_TUI=false

step() { printf '\n==> %s\n' "$*"; }

step "infrastructure (scripts/infra/up.sh)"
bash scripts/infra/up.sh

step "type-check (tsc --noEmit)"
npx tsc -p tsconfig.json --noEmit

step "lint (eslint, Nx module boundaries)"
# @nx/enforce-module-boundaries reads the cached project graph and silently skips itself
# when there is none (a fresh clone): compute the graph first.
npx nx show projects >/dev/null
npx eslint --max-warnings=0 .

if [ -x scripts/policy-test.sh ]; then
  step "policies (opa fmt, check, test)"
  bash scripts/policy-test.sh
fi

step "build (swc → dist/: tests that run our programs as child processes use it)"
bash scripts/build.sh

step "jest (unit + integration)"
mkdir -p .local
node --experimental-vm-modules --no-warnings=ExperimentalWarning node_modules/jest/bin/jest.js --json --outputFile=.local/jest-results.json "$@"
