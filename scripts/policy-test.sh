#!/usr/bin/env bash
# The policy pipeline (CONVENTIONS §13): Rego in policies/ → one immutable Wasm bundle.
#
#   bash scripts/policy-test.sh          # fmt → check → test (+coverage) → build → digest
#   bash scripts/policy-test.sh build    # build only (used by the Jest acceptance test)
#
# Steps:
#   1. opa fmt --fail: every .rego file formatted
#   2. opa check --strict against the builtins opa-wasm supports
#      (node_modules/@open-policy-agent/opa-wasm/capabilities.json)
#   3. every deny/require/hold rule carries a METADATA custom.code (its reason code)
#   4. opa test with coverage; results as JSON in .local/opa-results.json (read by
#      scripts/controls-report.mjs: test names like test_c_9_3_6_2_c_* prove C-9.3.6.2-c)
#   5. opa build -t wasm -e custody/decision/decision → .local/policy/bundle.tar.gz,
#      policy.wasm and data.json extracted beside it; the SHA-256 of the bundle archive
#      is the policy version (.local/policy/bundle.sha256)
#
# Rules and tests live under policies/custody, data under policies/data (each file one
# top-level document: limits.json → data.limits). Both are loaded as plain roots, never as
# `-b policies`: bundle mode reads only files named data.json, and policies/acceptance
# (JSON cases for Jest) must not become policy data. Tests (*_test.rego) stay out of the
# bundle.
#
# Environment: OPA_BIN (default .local/bin/opa, built by scripts/infra/opa.sh),
# POLICY_COVERAGE_MIN (default 90: fail below this line coverage).
set -euo pipefail
cd "$(dirname "$0")/.."

RULES=policies/custody
DATA="${POLICY_DATA_DIR:-policies/data}"   # another data directory: only for `build` (scripts/up.mjs)
OUT=.local/policy
ENTRYPOINT=custody/decision/decision
COVERAGE_MIN="${POLICY_COVERAGE_MIN:-90}"

die() { echo "policy-test: $*" >&2; exit 1; }
step() { printf '\n==> %s\n' "$*"; }

if [ -z "${OPA_BIN:-}" ] && [ -f .local/infra.env ]; then
  OPA_BIN="$(sed -n 's/^OPA_BIN=//p' .local/infra.env | tail -n1)"
fi
OPA="${OPA_BIN:-.local/bin/opa}"
[ -x "$OPA" ] || die "no opa binary at $OPA: run \`bash scripts/infra/opa.sh\` (or set OPA_BIN)"
command -v node >/dev/null || die "node is required"

mkdir -p "$OUT"

# Capabilities = the builtins the opa-wasm SDK implements (natively or in JS), plus the
# rego_v1 language feature, plus rego.metadata.rule: the compiler replaces that call by
# the rule's annotations at build time, so it never reaches the Wasm module (the Jest
# acceptance test evaluates the compiled module to prove it).
CAPS="$OUT/capabilities.json"
"$OPA" capabilities --current >"$OUT/opa-capabilities.json"
node - "$OUT/opa-capabilities.json" "$CAPS" <<'NODE'
const { readFileSync, writeFileSync } = require('node:fs');
const [current, out] = process.argv.slice(2);
// Not in the package's "exports": read the file itself.
const wasm = JSON.parse(readFileSync('node_modules/@open-policy-agent/opa-wasm/capabilities.json', 'utf8'));
const opa = JSON.parse(readFileSync(current, 'utf8'));
const compileTime = opa.builtins.filter((b) => b.name === 'rego.metadata.rule');
if (compileTime.length !== 1) throw new Error('opa capabilities lack rego.metadata.rule');
const caps = { builtins: [...wasm.builtins, ...compileTime], features: ['rego_v1'], wasm_abi_versions: wasm.wasm_abi_versions };
writeFileSync(out, JSON.stringify(caps, null, 1) + '\n');
NODE

build() {
  local out=$1
  mkdir -p "$out"
  "$OPA" build -t wasm -e "$ENTRYPOINT" --capabilities "$CAPS" --ignore '*_test.rego' \
    -o "$out/bundle.tar.gz" "$RULES" "$DATA"
  tar -xzf "$out/bundle.tar.gz" -C "$out" /policy.wasm /data.json 2>/dev/null ||
    tar -xzf "$out/bundle.tar.gz" -C "$out" policy.wasm data.json
  local digest
  digest="$(sha256sum "$out/bundle.tar.gz" | cut -d' ' -f1)"
  echo "$digest" >"$out/bundle.sha256"
  echo "bundle: $out/bundle.tar.gz"
  echo "bundle sha256: $digest"
}

if [ "${1:-}" = build ]; then
  build "${2:-$OUT}"
  exit 0
fi
[ $# -eq 0 ] || die "usage: scripts/policy-test.sh [build [OUT_DIR]]"

step "opa fmt --fail"
"$OPA" fmt --fail -l policies >/dev/null || {
  "$OPA" fmt -l policies >&2
  die "the files above are not formatted: run \`$OPA fmt -w policies\`"
}
echo "formatted"

step "opa check --strict (opa-wasm builtins)"
"$OPA" check --strict --capabilities "$CAPS" "$RULES" "$DATA"
echo "checked"

step "reason codes in METADATA"
"$OPA" inspect -a --format json "$RULES" >"$OUT/inspect.json"
node - "$OUT/inspect.json" "$RULES" <<'NODE'
// Every deny/require/hold rule must carry `# METADATA` with custom.code, the stable
// reason code it reports; a code belongs to one rule only.
const { readFileSync, readdirSync } = require('node:fs');
const { join } = require('node:path');
const [inspectFile, root] = process.argv.slice(2);
const inspect = JSON.parse(readFileSync(inspectFile, 'utf8'));
const CODE = /^[a-z][a-z0-9_]*$/;
const codes = new Map();
const annotated = new Map();
for (const a of inspect.annotations ?? []) {
  if (a.annotations?.scope !== 'rule') continue;
  annotated.set(`${a.location.file}:${a.location.row}`, a);
}
const files = (dir) => readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
  e.isDirectory() ? files(join(dir, e.name)) : e.name.endsWith('.rego') && !e.name.endsWith('_test.rego') ? [join(dir, e.name)] : []);
const problems = [];
for (const file of files(root)) {
  readFileSync(file, 'utf8').split('\n').forEach((line, i) => {
    if (!/^(deny|require|hold) contains /.test(line)) return;
    const where = `${file}:${i + 1}`;
    const code = annotated.get(where)?.annotations.custom?.code;
    if (typeof code !== 'string' || !CODE.test(code)) problems.push(`${where}: rule without METADATA custom.code`);
    else if (codes.has(code)) problems.push(`${where}: code ${code} already used at ${codes.get(code)}`);
    else codes.set(code, where);
  });
}
if (problems.length) { console.error(problems.join('\n')); process.exit(1); }
console.log(`${codes.size} rules, each with its reason code: ${[...codes.keys()].sort().join(', ')}`);
NODE

step "opa test"
set +e
"$OPA" test --format=json "$RULES" "$DATA" >.local/opa-results.json
test_rc=$?
set -e
node - .local/opa-results.json <<'NODE'
const { readFileSync } = require('node:fs');
const results = JSON.parse(readFileSync(process.argv[2], 'utf8'));
const bad = results.filter((t) => t.fail || t.error);
for (const t of bad) console.error(`FAIL ${t.package}.${t.name}${t.error ? `: ${JSON.stringify(t.error)}` : ''}`);
console.log(`${results.length - bad.length}/${results.length} Rego tests passed`);
if (bad.length || results.length === 0) process.exit(1);
NODE
[ "$test_rc" -eq 0 ] || die "opa test exited with $test_rc"

"$OPA" test --coverage --format=json "$RULES" "$DATA" >"$OUT/coverage.json"
node - "$OUT/coverage.json" "$COVERAGE_MIN" <<'NODE'
const { readFileSync } = require('node:fs');
const report = JSON.parse(readFileSync(process.argv[2], 'utf8'));
const min = Number(process.argv[3]);
// Coverage of the rules and libraries; test files themselves are left out.
const files = Object.entries(report.files ?? {}).filter(([file]) => !file.endsWith('_test.rego')).sort();
let covered = 0;
let total = 0;
for (const [file, f] of files) {
  covered += f.covered_lines ?? 0;
  total += (f.covered_lines ?? 0) + (f.not_covered_lines ?? 0);
  console.log(`  ${Number(f.coverage ?? 0).toFixed(1).padStart(6)}%  ${file}`);
}
const pct = total ? (100 * covered) / total : 0;
console.log(`coverage: ${pct.toFixed(2)}% of ${total} policy lines (tests excluded; minimum ${min}%)`);
if (!(pct >= min)) process.exit(1);
NODE

step "opa build -t wasm"
build "$OUT"
