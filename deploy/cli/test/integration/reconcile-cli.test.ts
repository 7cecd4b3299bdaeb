// The BUILT `custody reconcile` (node deploy/cli/dist/main.js, a child process) against the REAL
// ledger: startLedger on real PostgreSQL (a throw-away database provisioned like production), its
// Reconcile RPC asking the REAL chain-adapter (its own process, as production runs it:
// services/chain-adapter/test/process/run-chain-adapter.ts, on real Kafka topics) about a REAL
// anvil. The books hold 10 ETH (a booked deposit) and the custody address holds 10 ETH: BALANCED
// (exit 0) with the exact base-unit figures; one wei appears on chain without a booking: DRIFT
// with an incident id (exit 1); the chain-adapter stops: FAILED (exit 1); an asset the ledger
// does not reconcile is refused with the server's reason (exit 1); a stopped ledger is
// unreachable (exit 3).
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes, randomUUID } from 'node:crypto';
import { createServer } from 'node:net';
import { resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { InProcessBus } from '@custody/event-bus';
import { createLogger } from '@custody/platform';
// The composition layer may start a service (as deploy/embedded does).
// eslint-disable-next-line @nx/enforce-module-boundaries
import { GrpcChainSnapshotSource, LEDGER_ENTITIES, LEDGER_MIGRATIONS, prefixedTopics, startLedger, type LedgerHandle } from '@custody/ledger';
import { createPrefixedTopics, createTestDatabase, deletePrefixedTopics, rand, waitFor, type TestDatabase } from '@custody/testing';
import { buildCli, cli, root, type Cli } from './support.js';

const ANVIL_BIN = resolve(root, 'node_modules/@foundry-rs/anvil-linux-amd64/bin/anvil');
const ETHER = 10n ** 18n;
const CHAIN = 'ethereum';
const prefix = `clirec${rand()}.`;
const hotAddress = `0x${randomBytes(20).toString('hex')}`;
const depositAddress = `0x${randomBytes(20).toString('hex')}`;

interface RunDoc {
  outcome: string;
  asset: string;
  snapshot: { blockHeight: string; blockHash: string } | null;
  ledgerBalance: string;
  chainBalance: string;
  unexplained: string;
  incidentId: string | null;
  failureReason: string | null;
  wallets: { account: string; available: string }[];
}
const runsOf = (r: Cli): RunDoc[] => (JSON.parse(r.stdout) as { runs: RunDoc[] }).runs;

let anvil: ChildProcess | undefined;
let adapter: ChildProcess | undefined;
let rpcUrl = '';
let db: TestDatabase;
let bus: InProcessBus;
let ledger: LedgerHandle;
let ledgerStopped = false;
let source: GrpcChainSnapshotSource;
let server: string[];

async function freePort(): Promise<number> {
  return new Promise((res, rej) => {
    const s = createServer();
    s.once('error', rej);
    s.listen(0, '127.0.0.1', () => {
      const a = s.address();
      s.close(() => (typeof a === 'object' && a ? res(a.port) : rej(new Error('no port'))));
    });
  });
}

let rpcId = 0;
async function rpc<T = unknown>(method: string, params: unknown[] = []): Promise<T> {
  const response = await fetch(rpcUrl, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ jsonrpc: '2.0', id: ++rpcId, method, params }) });
  const body = (await response.json()) as { result?: T; error?: { message: string } };
  if (body.error) throw new Error(`${method}: ${body.error.message}`);
  return body.result as T;
}
const hex = (n: bigint): string => `0x${n.toString(16)}`;
async function mine(): Promise<bigint> {
  await rpc('evm_mine');
  return BigInt(await rpc<string>('eth_blockNumber'));
}

function stopChild(child: ChildProcess | undefined): Promise<void> {
  if (!child || child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  const exited = new Promise<void>((res) => child.once('exit', () => res()));
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), 30_000);
  return exited.finally(() => clearTimeout(timer));
}

async function startChainAdapterProcess(): Promise<number> {
  const child = spawn(process.execPath, ['--import', resolve(root, 'services/ledger/test/process/ts-register.mjs'), resolve(root, 'services/chain-adapter/test/process/run-chain-adapter.ts')], {
    cwd: root,
    env: { ...process.env, CHAIN_TOPIC_PREFIX: prefix, ANVIL_RPC_URL: rpcUrl, CHAIN_NAME: CHAIN, CHAIN_ASSET: 'ETH', CHAIN_CONFIRMATIONS: '3', CHAIN_DEPOSIT_ADDRESSES: `${depositAddress}=alice`, CHAIN_CUSTODY_ADDRESSES: hotAddress },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  adapter = child;
  const lines = createInterface({ input: child.stdout! });
  return new Promise<number>((res, rej) => {
    const timer = setTimeout(() => rej(new Error('the chain-adapter process did not report its gRPC port within 90 s')), 90_000);
    child.once('exit', (code) => rej(new Error(`the chain-adapter process exited (${code}) before it was ready`)));
    lines.once('line', (line) => {
      clearTimeout(timer);
      res((JSON.parse(line) as { grpcPort: number }).grpcPort);
    });
  });
}

/** Runs `custody reconcile --asset ETH --json` until the snapshot block reaches `height` (the adapter indexes every 200 ms). */
async function reconcileAt(height: bigint): Promise<{ r: Cli; run: RunDoc }> {
  let last: Cli | undefined;
  let run: RunDoc | undefined;
  await waitFor(
    async () => {
      last = await cli(['reconcile', '--asset', 'ETH', ...server, '--json']);
      run = runsOf(last)[0];
      return run !== undefined && run.snapshot !== null && BigInt(run.snapshot.blockHeight) >= height;
    },
    60_000,
    () => `a reconciliation at block ${height} (last: ${last?.stdout ?? ''} ${last?.stderr ?? ''})`,
  );
  return { r: last!, run: run! };
}

beforeAll(async () => {
  await buildCli();
  const port = await freePort();
  rpcUrl = `http://127.0.0.1:${port}`;
  anvil = spawn(ANVIL_BIN, ['--host', '127.0.0.1', '--port', String(port), '--chain-id', '31337', '--silent', '--no-mining'], { stdio: 'ignore' });
  await waitFor(async () => rpc('eth_chainId').then(() => true, () => false), 15_000, () => `anvil on ${rpcUrl}`);
  await rpc('anvil_setBalance', [hotAddress, hex(10n * ETHER)]);
  await mine();
  await createPrefixedTopics(prefix);
  const adapterPort = await startChainAdapterProcess();
  db = await createTestDatabase({ service: 'ledger', entities: LEDGER_ENTITIES, migrations: LEDGER_MIGRATIONS });
  bus = new InProcessBus();
  source = new GrpcChainSnapshotSource([{ asset: 'ETH', address: `127.0.0.1:${adapterPort}` }], { timeoutMs: 5_000 });
  ledger = await startLedger({
    bus,
    database: { url: db.appUrl, schema: db.schema },
    logger: createLogger({ service: 'ledger-cli-test', level: 'warn' }),
    topicName: prefixedTopics(''),
    consumerGroupId: `ledger-${rand()}`,
    outboxPollIntervalMs: 50,
    grpc: { host: '127.0.0.1', port: 0, credentials: { kind: 'insecure' } },
    reconciliation: { targets: [{ asset: 'ETH', chain: CHAIN, feeAsset: 'ETH' }], source, intervalMs: 0 },
  });
  server = ['--server', `127.0.0.1:${ledger.grpcPort}`, '--insecure-loopback'];
  // The books hold what the custody address holds: 10 ETH booked as a final deposit.
  await ledger.store.transaction((t) =>
    ledger.postings.depositFinal({ depositId: 'seed-alice', clientId: 'acme', customerAccount: 'alice', asset: 'ETH', amount: 10n * ETHER, chain: CHAIN, address: hotAddress }, { eventId: randomUUID(), correlationId: 'seed' }, t),
  );
}, 300_000);

afterAll(async () => {
  source?.close();
  if (!ledgerStopped) await ledger?.stop();
  await stopChild(adapter);
  await bus?.close();
  await db?.drop();
  await stopChild(anvil);
  await deletePrefixedTopics(prefix).catch(() => undefined);
}, 120_000);

describe('custody reconcile (built CLI) against the real ledger, chain-adapter and anvil', () => {
  it('BALANCED: exit 0, the snapshot block and the exact base-unit figures (10 ETH = 10^19 wei, no float)', async () => {
    const height = await mine();
    const { r, run } = await reconcileAt(height);
    expect(r.code).toBe(0);
    expect(run).toMatchObject({ outcome: 'BALANCED', asset: 'ETH', ledgerBalance: '10000000000000000000', chainBalance: '10000000000000000000', unexplained: '0', incidentId: null });
    expect(run.snapshot?.blockHash).toMatch(/^0x[0-9a-f]{64}$/);
    expect(run.wallets.reduce((s, w) => s + BigInt(w.available), 0n)).toBe(10n * ETHER);
    const text = await cli(['reconcile', '--asset', 'ETH', ...server]);
    expect(text.code).toBe(0);
    expect(text.stdout).toMatch(/ETH on ethereum: BALANCED[\s\S]*snapshot block \d+ 0x[0-9a-f]{64}[\s\S]*chain balance\s+10000000000000000000/);
  });

  it('DRIFT: one wei on chain the books do not explain → exit 1 with the unexplained amount and the incident id', async () => {
    await rpc('anvil_setBalance', [hotAddress, hex(10n * ETHER + 1n)]);
    const height = await mine();
    const { r, run } = await reconcileAt(height);
    expect(r.code).toBe(1);
    expect(run).toMatchObject({ outcome: 'DRIFT', chainBalance: '10000000000000000001', unexplained: '1' });
    expect(run.incidentId).toMatch(/\S+/);
    const text = await cli(['reconcile', '--asset', 'ETH', ...server]);
    expect(text.code).toBe(1);
    expect(text.stdout).toContain(`incident ${run.incidentId ?? ''}`);
  });

  it('an asset the ledger does not reconcile is refused with the server reason (exit 1)', async () => {
    const r = await cli(['reconcile', '--asset', 'BTC', ...server, '--json']);
    expect(r.code).toBe(1);
    expect(JSON.parse(r.stdout)).toMatchObject({ ok: false, reason: 'ASSET_NOT_RECONCILED' });
  });

  it('FAILED: the chain-adapter is down → exit 1, the failure reason, no figures', async () => {
    await stopChild(adapter);
    const r = await cli(['reconcile', '--asset', 'ETH', ...server, '--json']);
    expect(r.code).toBe(1);
    const [run] = runsOf(r);
    expect(run).toMatchObject({ outcome: 'FAILED', snapshot: null, unexplained: '' });
    expect(run?.failureReason).toMatch(/\S+/);
  });

  it('a stopped ledger is unreachable (exit 3)', async () => {
    const target = [...server];
    await ledger.stop();
    ledgerStopped = true;
    const r = await cli(['reconcile', '--asset', 'ETH', ...target, '--timeout', '5', '--json']);
    expect(r.code).toBe(3);
    expect(JSON.parse(r.stdout)).toMatchObject({ ok: false, reason: 'UNREACHABLE' });
  });
});
