#!/usr/bin/env node
// `npm start`: the system on embedded defaults. Starts PostgreSQL from node_modules
// (scripts/infra/postgres.sh, idempotent, 127.0.0.1 only), builds the workspace with swc,
// then runs the composition root (deploy/embedded). Arguments pass through (--once).
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
if (existsSync(infraEnv)) {
  for (const line of readFileSync(infraEnv, 'utf8').split('\n')) {
    const m = /^([A-Z0-9_]+)=(.*)$/.exec(line.trim());
    if (m && m[1].startsWith('CUSTODY_PG_') && env[m[1]] === undefined) env[m[1]] = m[2];
  }
}
const child = spawn(process.execPath, ['deploy/embedded/dist/main.js', ...process.argv.slice(2)], { cwd: root, env, stdio: 'inherit' });
for (const signal of ['SIGINT', 'SIGTERM']) process.on(signal, () => child.kill(signal));
child.on('exit', (code, signal) => process.exit(code ?? (signal ? 1 : 0)));
