// Jest globalSetup for the integration project. The infrastructure is started by
// scripts/infra/up.sh (npm test does it first); this only loads the connection facts it
// wrote to .local/infra.env and refuses to run integration tests against nothing.
import { readFileSync, existsSync } from 'node:fs';
import { resolve } from 'node:path';
import net from 'node:net';

const envFile = resolve(process.cwd(), '.local/infra.env');

function loadEnvFile(path) {
  for (const line of readFileSync(path, 'utf8').split('\n')) {
    const m = /^(?:export\s+)?([A-Z0-9_]+)=(.*)$/.exec(line.trim());
    if (m && process.env[m[1]] === undefined) process.env[m[1]] = m[2].replace(/^['"]|['"]$/g, '');
  }
}

function canConnect(host, port) {
  return new Promise((done) => {
    const socket = net.connect({ host, port: Number(port) });
    socket.setTimeout(2000);
    socket.once('connect', () => { socket.destroy(); done(true); });
    socket.once('error', () => done(false));
    socket.once('timeout', () => { socket.destroy(); done(false); });
  });
}

export default async function integrationSetup() {
  if (!existsSync(envFile)) {
    throw new Error('integration tests need the real infrastructure: run `npm run infra:up` (npm test does it for you)');
  }
  loadEnvFile(envFile);
  const checks = [
    ['PostgreSQL', process.env.CUSTODY_PG_HOST, process.env.CUSTODY_PG_PORT],
    ['Kafka', ...(process.env.KAFKA_BROKERS ?? ':').split(',')[0].split(':')],
  ];
  for (const [name, host, port] of checks) {
    if (!host || !port || !(await canConnect(host, port))) {
      throw new Error(`${name} is not reachable at ${host}:${port}; run \`npm run infra:up\``);
    }
  }
}
