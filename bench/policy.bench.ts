// Policy evaluation throughput and latency: the compiled Wasm bundle in-process
// (@open-policy-agent/opa-wasm via the service's WasmPolicyEvaluator) against the same
// inputs through the OPA toolchain on this machine: `opa eval` (one process per decision,
// what a CLI/sidecar-exec integration pays) and `opa run --server` (Rego interpreter over
// loopback HTTP, what a sidecar pays). The inputs are the acceptance cases
// (policies/acceptance/*.json), cycled. Every decision of every path is checked against
// the expected outcome, so the bench cannot measure a broken evaluation.
// Run: bash scripts/bench.sh policy [--decisions 20000] [--evals 100] [--server-decisions 5000]
import { execFile, spawn } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { Agent, request } from 'node:http';
import { createServer } from 'node:net';
import { join, resolve } from 'node:path';
import { parseArgs, promisify } from 'node:util';
import { WasmPolicyEvaluator, readBundleArchive } from '@custody/policy';

const run = promisify(execFile);
const { values } = parseArgs({ options: { decisions: { type: 'string', default: '20000' }, evals: { type: 'string', default: '100' }, 'server-decisions': { type: 'string', default: '5000' } } });
const decisions = Number(values.decisions);
const evals = Number(values.evals);
const serverDecisions = Number(values['server-decisions']);
for (const n of [decisions, evals, serverDecisions]) if (!Number.isInteger(n) || n < 1) throw new Error('counts must be positive integers');

const root = process.cwd();
const opa = process.env['OPA_BIN'] ?? resolve(root, '.local/bin/opa');
const bundlePath = resolve(root, '.local/policy/bundle.tar.gz');

interface Case {
  readonly name: string;
  readonly input: unknown;
  readonly outcome: string;
}
const cases: Case[] = readdirSync(resolve(root, 'policies/acceptance'))
  .filter((f) => f.endsWith('.json'))
  .sort()
  .map((f) => JSON.parse(readFileSync(join(root, 'policies/acceptance', f), 'utf8')) as { name: string; input?: unknown; expected: { outcome: string } })
  .filter((c) => c.input !== undefined)
  .map((c) => ({ name: c.name, input: c.input, outcome: c.expected.outcome }));

interface Stats {
  readonly n: number;
  readonly perSecond: number;
  readonly p50: number;
  readonly p99: number;
}

function stats(latenciesNs: bigint[], wallNs: bigint): Stats {
  const ms = latenciesNs.map((l) => Number(l) / 1e6).sort((a, b) => a - b);
  const at = (q: number): number => ms[Math.min(ms.length - 1, Math.floor(q * ms.length))] ?? NaN;
  return { n: ms.length, perSecond: ms.length / (Number(wallNs) / 1e9), p50: at(0.5), p99: at(0.99) };
}

function check(c: Case, outcome: unknown, path: string): void {
  if (outcome !== c.outcome) throw new Error(`${path}: case "${c.name}" decided ${String(outcome)}, expected ${c.outcome}`);
}

async function wasmBench(): Promise<Stats> {
  const bundle = await readBundleArchive(bundlePath);
  const evaluator = new WasmPolicyEvaluator();
  for (const c of cases) check(c, (await evaluator.evaluate(bundle, c.input)).decision.outcome, 'wasm'); // warm-up + correctness
  const lat: bigint[] = [];
  const start = process.hrtime.bigint();
  for (let i = 0; i < decisions; i++) {
    const c = cases[i % cases.length] as Case;
    const t = process.hrtime.bigint();
    const { decision } = await evaluator.evaluate(bundle, c.input);
    lat.push(process.hrtime.bigint() - t);
    if (decision.outcome !== c.outcome) check(c, decision.outcome, 'wasm');
  }
  return stats(lat, process.hrtime.bigint() - start);
}

async function opaEvalBench(): Promise<Stats> {
  const lat: bigint[] = [];
  const start = process.hrtime.bigint();
  for (let i = 0; i < evals; i++) {
    const c = cases[i % cases.length] as Case;
    const t = process.hrtime.bigint();
    const out = await new Promise<string>((res, rej) => {
      const child = execFile(opa, ['eval', '-I', '-f', 'json', '-d', 'policies/custody', '-d', 'policies/data', '--ignore', '*_test.rego', 'data.custody.decision.decision'], { cwd: root, maxBuffer: 1 << 22 }, (err, stdout) => (err ? rej(err) : res(stdout)));
      child.stdin?.end(JSON.stringify(c.input));
    });
    lat.push(process.hrtime.bigint() - t);
    const parsed = JSON.parse(out) as { result?: { expressions: { value: { outcome: string } }[] }[] };
    check(c, parsed.result?.[0]?.expressions[0]?.value.outcome, 'opa eval');
  }
  return stats(lat, process.hrtime.bigint() - start);
}

async function freePort(): Promise<number> {
  return new Promise((res, rej) => {
    const s = createServer();
    s.listen(0, '127.0.0.1', () => {
      const a = s.address();
      s.close(() => (typeof a === 'object' && a ? res(a.port) : rej(new Error('no port'))));
    });
  });
}

function post(port: number, body: string): Promise<string> {
  return new Promise((res, rej) => {
    const req = request({ host: '127.0.0.1', port, path: '/v1/data/custody/decision/decision', method: 'POST', headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) }, agent: keepAlive }, (r) => {
      const chunks: Buffer[] = [];
      r.on('data', (c: Buffer) => chunks.push(c));
      r.on('end', () => res(Buffer.concat(chunks).toString('utf8')));
      r.on('error', rej);
    });
    req.on('error', rej);
    req.end(body);
  });
}

const keepAlive = new Agent({ keepAlive: true, maxSockets: 1 });

async function opaServerBench(): Promise<Stats> {
  const port = await freePort();
  const server = spawn(opa, ['run', '--server', '--addr', `127.0.0.1:${port}`, '--log-level', 'error', '--ignore', '*_test.rego', 'policies/custody', 'policies/data'], { cwd: root, stdio: 'ignore' });
  try {
    for (let i = 0; i < 200; i++) {
      try {
        await post(port, '{"input":{}}');
        break;
      } catch {
        await new Promise((r) => setTimeout(r, 50));
      }
    }
    const bodies = cases.map((c) => JSON.stringify({ input: c.input }));
    for (const [i, c] of cases.entries()) check(c, (JSON.parse(await post(port, bodies[i] as string)) as { result?: { outcome: string } }).result?.outcome, 'opa server');
    const lat: bigint[] = [];
    const start = process.hrtime.bigint();
    for (let i = 0; i < serverDecisions; i++) {
      const k = i % cases.length;
      const t = process.hrtime.bigint();
      const out = await post(port, bodies[k] as string);
      lat.push(process.hrtime.bigint() - t);
      const outcome = (JSON.parse(out) as { result?: { outcome: string } }).result?.outcome;
      if (outcome !== (cases[k] as Case).outcome) check(cases[k] as Case, outcome, 'opa server');
    }
    return stats(lat, process.hrtime.bigint() - start);
  } finally {
    server.kill('SIGTERM');
    keepAlive.destroy();
  }
}

async function main(): Promise<void> {
  if (!existsSync(opa)) throw new Error(`no opa binary at ${opa}: run bash scripts/infra/opa.sh`);
  if (!existsSync(bundlePath)) await run('bash', ['scripts/policy-test.sh', 'build'], { cwd: root });
  const version = (await run(opa, ['version'])).stdout.split('\n')[0];
  console.log(`policy bench: ${cases.length} acceptance inputs cycled; ${version}; node ${process.version}`);
  const wasm = await wasmBench();
  const server = await opaServerBench();
  const evalStats = await opaEvalBench();
  const row = (name: string, s: Stats): string => `${name.padEnd(42)} ${String(s.n).padStart(7)} ${s.perSecond.toFixed(0).padStart(12)} ${s.p50.toFixed(3).padStart(10)} ${s.p99.toFixed(3).padStart(10)}`;
  console.log(`${'path'.padEnd(42)} ${'n'.padStart(7)} ${'decisions/s'.padStart(12)} ${'p50 ms'.padStart(10)} ${'p99 ms'.padStart(10)}`);
  console.log(row('wasm in-process (opa-wasm, sequential)', wasm));
  console.log(row('opa run --server (HTTP loopback, 1 conn)', server));
  console.log(row('opa eval (one process per decision)', evalStats));
  console.log(`wasm vs opa server: ${(wasm.perSecond / server.perSecond).toFixed(1)}x decisions/s; vs opa eval: ${(wasm.perSecond / evalStats.perSecond).toFixed(0)}x`);
}

main().catch((err: unknown) => {
  console.error(err);
  process.exitCode = 1;
});
