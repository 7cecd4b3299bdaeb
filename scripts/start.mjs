#!/usr/bin/env node
// `npm start`: the system on embedded defaults. Starts PostgreSQL from node_modules
// (scripts/infra/postgres.sh, idempotent, 127.0.0.1 only), builds the workspace with swc,
// builds the policy bundle (when opa is installed), then runs the composition root
// (deploy/embedded). Arguments pass through (--demo, --once).
import { spawnSync, spawn } from 'node:child_process';
import { readFileSync, existsSync } from 'node:fs';
import { resolve } from 'node:path';

const root = resolve(new URL('..', import.meta.url).pathname);
function run(cmd, args) {
  const r = spawnSync(cmd, args, { cwd: root, stdio: ['ignore', 'inherit', 'inherit'] });
  if (r.status !== 0) {
    process.stderr.write(`npm start: \`${cmd} ${args.join(' ')}\` failed (exit ${r.status ?? r.signal})\n`);
    process.exit(r.status ?? 1);
  }
}

run('bash', ['scripts/infra/postgres.sh', 'start']);
run('bash', ['scripts/build.sh']);

const env = { ...process.env };
const infraEnv = resolve(root, '.local/infra.env');
let opaBin = process.env.OPA_BIN;
if (existsSync(infraEnv)) {
  for (const line of readFileSync(infraEnv, 'utf8').split('\n')) {
    const m = /^([A-Z0-9_]+)=(.*)$/.exec(line.trim());
    if (m && m[1].startsWith('CUSTODY_PG_') && env[m[1]] === undefined) env[m[1]] = m[2];
    if (m && m[1] === 'OPA_BIN' && opaBin === undefined) opaBin = m[2];
  }
}

// The policy service evaluates the compiled Wasm bundle of policies/ (rules + shipped data),
// built fresh at each start with the `opa` CLI. scripts/infra/opa.sh builds opa once with
// `go install` (a minute or two the first time, cached after). Without Go the embedded default
// runs without the policy service and says so: nothing is then approved (fail closed).
if (env.CUSTODY_POLICY_BUNDLE === undefined) {
  if (opaBin === undefined || !existsSync(opaBin)) {
    const ensured = spawnSync('bash', ['scripts/infra/opa.sh'], { cwd: root, encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] });
    if (ensured.status === 0) opaBin = ensured.stdout.trim();
  }
  if (opaBin !== undefined && existsSync(opaBin)) {
    const r = spawnSync('bash', ['scripts/policy-test.sh', 'build', '.local/embedded/policy'], { cwd: root, env: { ...process.env, OPA_BIN: opaBin }, encoding: 'utf8' });
    if (r.status !== 0) {
      process.stderr.write(`npm start: building the policy bundle failed (exit ${r.status ?? r.signal}):\n${r.stderr}`);
      process.exit(r.status ?? 1);
    }
  } else {
    process.stderr.write('npm start: no opa CLI (scripts/infra/opa.sh needs Go); the policy service is left out and nothing is approved\n');
  }
}
const child = spawn(process.execPath, ['deploy/embedded/dist/main.js', ...process.argv.slice(2)], { cwd: root, env, stdio: 'inherit' });
for (const signal of ['SIGINT', 'SIGTERM']) process.on(signal, () => child.kill(signal));
child.on('exit', (code, signal) => process.exit(code ?? (signal ? 1 : 0)));
