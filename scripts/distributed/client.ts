// What the distributed tests share: running up/down, the state up writes, an integrator's
// client of intake's CustodyGateway (mTLS + Ed25519-signed calls, docs/intake.md), JSON-RPC
// to the dev chain, and read-only queries on the services' schemas (admin role).
import { spawn } from 'node:child_process';
import { createPrivateKey, createPublicKey, randomBytes, sign, type KeyObject } from 'node:crypto';
import { mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { credentials, Metadata, type ServiceError } from '@grpc/grpc-js';
import pg from 'pg';
import { CustodyGatewayServiceClient, WithdrawalState, type Withdrawal } from '@custody/contracts';
import { AuthHeaders, encodeSigningInput, type BodyField } from '@custody/intake';
import { DEFAULT_RULE_SET } from '@custody/risk';

export const ROOT = resolve(import.meta.dirname, '../..');
export const DIR = resolve(ROOT, '.local/distributed');
const GATEWAY = '/custody.intake.v1.CustodyGatewayService';
export const ETH = 10n ** 18n;

export const TERMINAL: readonly WithdrawalState[] = [WithdrawalState.WITHDRAWAL_STATE_COMPLETED, WithdrawalState.WITHDRAWAL_STATE_DENIED, WithdrawalState.WITHDRAWAL_STATE_FAILED, WithdrawalState.WITHDRAWAL_STATE_CANCELLED];

export interface UpState {
  readonly pids: Record<string, number | null>;
  readonly ports: { readonly intake: number; readonly ledger: number };
  readonly anvil: { readonly url: string; readonly pid: number };
  readonly hotWallet: { readonly address: string };
  readonly integrator: { readonly clientId: string; readonly keyId: string; readonly seedFile: string; readonly cert: string; readonly key: string; readonly ca: string };
}

/**
 * The environment `up` gets in the tests: risk runs the default rule set without the two
 * behaviour rules that hold a customer's rapid, repeated withdrawals for review
 * (rapid_succession, velocity_customer_count_1h: the tests' two customers make dozens of
 * withdrawals an hour across runs). The tests are about processes and crashes, not AML review.
 */
export function testEnv(): NodeJS.ProcessEnv {
  mkdirSync(DIR, { recursive: true, mode: 0o700 });
  const rulesFile = resolve(DIR, 'test-risk-rules.json');
  const rules = { ...DEFAULT_RULE_SET, version: 'distributed-test-1', rules: DEFAULT_RULE_SET.rules.filter((r) => r.code !== 'rapid_succession' && r.code !== 'velocity_customer_count_1h') };
  writeFileSync(rulesFile, `${JSON.stringify(rules, null, 2)}\n`, { mode: 0o600 });
  return { CUSTODY_DIST_RISK_RULES_FILE: rulesFile, CUSTODY_DIST_POLICY_DATA: testPolicyData() };
}

/**
 * The shipped policy data without its daily time-of-day freezes (policies/data/freezes.json
 * freezes ETH every day 23:30–00:30 UTC): the tests are about processes and crashes and must
 * not depend on the hour they run at. The freeze rules have their own opa tests.
 */
function testPolicyData(): string {
  const dir = resolve(DIR, 'test-policy-data');
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const shipped = resolve(ROOT, 'policies/data');
  for (const name of readdirSync(shipped).filter((n) => n.endsWith('.json'))) {
    const data = JSON.parse(readFileSync(resolve(shipped, name), 'utf8')) as Record<string, unknown>;
    if (name === 'freezes.json') (data['freezes'] as { daily: unknown[] }).daily = [];
    writeFileSync(resolve(dir, name), `${JSON.stringify(data, null, 2)}\n`);
  }
  return dir;
}

export const readState = (): UpState => JSON.parse(readFileSync(resolve(DIR, 'state.json'), 'utf8')) as UpState;

export function runScript(args: string[], timeoutMs: number, env: NodeJS.ProcessEnv = {}): Promise<{ code: number | null; output: string }> {
  return new Promise((done) => {
    const child = spawn(process.execPath, args, { cwd: ROOT, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.on('data', (b: Buffer) => (output += b.toString()));
    child.stderr.on('data', (b: Buffer) => (output += b.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.once('exit', (code) => {
      clearTimeout(timer);
      done({ code, output });
    });
  });
}

export const alive = (pid: number): boolean => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

export async function rpc<T>(url: string, method: string, params: unknown[] = []): Promise<T> {
  const res = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ jsonrpc: '2.0', id: 1, method, params }), signal: AbortSignal.timeout(5_000) });
  const body = (await res.json()) as { result?: T; error?: { message: string } };
  if (body.error) throw new Error(`${method}: ${body.error.message}`);
  return body.result as T;
}

function unary<Req, Res>(fn: (req: Req, md: Metadata, options: { deadline: number }, cb: (err: ServiceError | null, res: Res) => void) => unknown, req: Req, md: Metadata): Promise<Res> {
  return new Promise((done, reject) => {
    fn(req, md, { deadline: Date.now() + 5_000 }, (err, res) => (err ? reject(err) : done(res)));
  });
}

export interface WithdrawalRequest {
  readonly idempotencyKey: string;
  readonly customerAccount: string;
  readonly amount: bigint;
  readonly destination: string;
}

/** The demo integrator's client of intake's CustodyGateway. */
export class Integrator {
  readonly #client: CustodyGatewayServiceClient;
  readonly #key: KeyObject;

  constructor(private readonly state: UpState) {
    const i = state.integrator;
    const seed = Buffer.from(readFileSync(i.seedFile, 'utf8').trim(), 'hex');
    this.#key = createPrivateKey({ key: Buffer.concat([Buffer.from('302e020100300506032b657004220420', 'hex'), seed]), format: 'der', type: 'pkcs8' });
    this.#client = new CustodyGatewayServiceClient(`127.0.0.1:${state.ports.intake}`, credentials.createSsl(readFileSync(i.ca), readFileSync(i.key), readFileSync(i.cert)), {
      'grpc.ssl_target_name_override': 'localhost',
      // intake may be killed and restarted under the client: reconnect within a second, not
      // after grpc-js's default backoff (up to 120 s).
      'grpc.initial_reconnect_backoff_ms': 200,
      'grpc.max_reconnect_backoff_ms': 1_000,
    });
  }

  #signed(method: string, body: readonly BodyField[]): Metadata {
    const { clientId, keyId } = this.state.integrator;
    const timestampMs = Date.now();
    const nonce = randomBytes(16).toString('hex');
    const md = new Metadata();
    md.set(AuthHeaders.clientId, clientId);
    md.set(AuthHeaders.keyId, keyId);
    md.set(AuthHeaders.timestamp, String(timestampMs));
    md.set(AuthHeaders.nonce, nonce);
    md.set(AuthHeaders.signature, sign(null, encodeSigningInput({ method: `${GATEWAY}/${method}`, clientId, keyId, timestampMs, nonce, body }), this.#key).toString('base64'));
    return md;
  }

  async submit(w: WithdrawalRequest): Promise<string> {
    const request = {
      idempotencyKey: w.idempotencyKey,
      customerAccount: w.customerAccount,
      asset: 'ETH',
      amount: w.amount.toString(),
      destinationAddress: w.destination,
      destinationTag: '',
      clientReference: 'distributed',
      signatureKeyId: '',
      signature: Buffer.alloc(0),
    };
    const body: BodyField[] = [
      ['idempotency_key', request.idempotencyKey],
      ['customer_account', request.customerAccount],
      ['asset', request.asset],
      ['amount', request.amount],
      ['destination_address', request.destinationAddress],
      ['destination_tag', request.destinationTag],
      ['client_reference', request.clientReference],
    ];
    const res = await unary<typeof request, { withdrawal?: Withdrawal }>(this.#client.submitWithdrawal.bind(this.#client) as never, request, this.#signed('SubmitWithdrawal', body));
    const id = res.withdrawal?.withdrawalId ?? '';
    if (id === '') throw new Error('SubmitWithdrawal returned no withdrawal');
    return id;
  }

  async get(withdrawalId: string): Promise<Withdrawal> {
    const res = await unary<{ withdrawalId: string }, { withdrawal?: Withdrawal }>(this.#client.getWithdrawal.bind(this.#client) as never, { withdrawalId }, this.#signed('GetWithdrawal', [['withdrawal_id', withdrawalId]]));
    if (!res.withdrawal) throw new Error(`GetWithdrawal ${withdrawalId}: empty response`);
    return res.withdrawal;
  }

  /** Polls (bounded) until the withdrawal is terminal or `stop` says so; the last state read. */
  async waitFor(withdrawalId: string, timeoutMs: number, stop: (w: Withdrawal) => boolean = (w) => TERMINAL.includes(w.state)): Promise<Withdrawal | undefined> {
    const deadline = Date.now() + timeoutMs;
    let last: Withdrawal | undefined;
    for (let n = 0; n < 2_000 && Date.now() < deadline; n++) {
      last = await this.get(withdrawalId).catch(() => last); // intake may be restarting
      if (last && stop(last)) return last;
      await new Promise((r) => setTimeout(r, 250));
    }
    return last;
  }

  close(): void {
    this.#client.close();
  }
}

/** Read-only queries on database custody_distributed as the administrator (test evidence). */
export async function query<T>(sql: string, params: unknown[] = []): Promise<T[]> {
  const admin = process.env.CUSTODY_PG_ADMIN_URL;
  if (!admin) throw new Error('CUSTODY_PG_ADMIN_URL is not set (jest integration globalSetup loads .local/infra.env)');
  const url = new URL(admin);
  url.pathname = '/custody_distributed';
  const client = new pg.Client({ connectionString: url.toString() });
  await client.connect();
  try {
    return (await client.query(sql, params)).rows as T[];
  } finally {
    await client.end();
  }
}

// ---------------------------------------------------------------------------------------
// Infrastructure faults for the fault-injection test, on THIS checkout's own Kafka and
// PostgreSQL (scripts/infra, .local/): never a process found by name.

/** Runs a command (bounded); its exit code and output. */
export function runCommand(cmd: string, args: string[], timeoutMs: number, env: NodeJS.ProcessEnv = {}): Promise<{ code: number | null; output: string }> {
  return new Promise((done) => {
    const child = spawn(cmd, args, { cwd: ROOT, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.on('data', (b: Buffer) => (output += b.toString()));
    child.stderr.on('data', (b: Buffer) => (output += b.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.once('exit', (code) => {
      clearTimeout(timer);
      done({ code, output });
    });
  });
}

/**
 * The ports this checkout's broker was configured with (.local/kafka/server.properties, written
 * by kafka.sh): `kafka.sh stop` / `start` get them back, so the broker restarts exactly as it ran
 * (a second, isolated copy on other ports included).
 */
export function kafkaPortsEnv(): NodeJS.ProcessEnv {
  const props = readFileSync(resolve(ROOT, '.local/kafka/server.properties'), 'utf8');
  const listeners = /^listeners=(.*)$/m.exec(props)?.[1] ?? '';
  const port = (name: string): string | undefined => new RegExp(`${name}://[^:,]+:(\\d+)`).exec(listeners)?.[1];
  const env: NodeJS.ProcessEnv = {};
  const plain = port('PLAINTEXT');
  const controller = port('CONTROLLER');
  const sasl = port('SASL_SSL');
  if (!plain || !controller) throw new Error(`no PLAINTEXT/CONTROLLER listener in .local/kafka/server.properties: ${listeners}`);
  env['INFRA_KAFKA_PORT'] = plain;
  env['INFRA_KAFKA_CONTROLLER_PORT'] = controller;
  if (sasl) env['INFRA_KAFKA_SASL_PORT'] = sasl;
  return env;
}

/** `bash scripts/infra/kafka.sh stop|start` for this checkout's broker (pid file .local/kafka/kafka.pid). */
export async function kafkaScript(action: 'stop' | 'start'): Promise<void> {
  const r = await runCommand('bash', ['scripts/infra/kafka.sh', action], 150_000, kafkaPortsEnv());
  if (r.code !== 0) throw new Error(`kafka.sh ${action} failed (exit ${r.code}):\n${r.output.slice(-2_000)}`);
}

/** The pids of this checkout's PostgreSQL: the postmaster (.local/postgres/data/postmaster.pid) and its children. */
export function postgresPids(): number[] {
  const postmaster = Number(readFileSync(resolve(ROOT, '.local/postgres/data/postmaster.pid'), 'utf8').split('\n')[0]);
  if (!Number.isInteger(postmaster) || postmaster <= 1 || !alive(postmaster)) throw new Error(`no running postmaster in .local/postgres/data/postmaster.pid (${postmaster})`);
  const children: number[] = [];
  for (const name of readdirSync('/proc').filter((n) => /^\d+$/.test(n))) {
    try {
      // /proc/<pid>/stat: "pid (comm) state ppid …"; comm may hold spaces, so split after ')'.
      const stat = readFileSync(`/proc/${name}/stat`, 'utf8');
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      if (ppid === postmaster) children.push(Number(name));
    } catch {
      /* gone */
    }
  }
  return [postmaster, ...children];
}

/** The scheduler state of a process (/proc/<pid>/stat: R, S, T = stopped, …). */
export function procState(pid: number): string {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[0] ?? '?';
  } catch {
    return 'gone';
  }
}

/**
 * Pauses this checkout's PostgreSQL (SIGSTOP the postmaster first, so it forks nothing, then
 * every child) for `ms`, then SIGCONT — in a finally, and a detached watchdog sends SIGCONT
 * too a few seconds later, so the server is never left stopped even if this process dies.
 * Returns the pids that were stopped (and seen stopped).
 */
export async function pausePostgres(ms: number): Promise<{ pids: number[]; stoppedSeen: number }> {
  const [postmaster] = postgresPids();
  const signal = (pids: number[], sig: NodeJS.Signals): void => {
    for (const pid of pids) {
      try {
        process.kill(pid, sig);
      } catch {
        /* exited */
      }
    }
  };
  const stopped = new Set<number>([postmaster!]);
  const watchdogPids = (): string => [...stopped].join(' ');
  let watchdog: ReturnType<typeof spawn> | undefined;
  try {
    signal([postmaster!], 'SIGSTOP');
    for (let pass = 0; pass < 2; pass++) {
      const children = postgresPids().slice(1).filter((p) => !stopped.has(p));
      signal(children, 'SIGSTOP');
      for (const p of children) stopped.add(p);
    }
    watchdog = spawn('sh', ['-c', `sleep ${Math.ceil(ms / 1000) + 5}; kill -CONT ${watchdogPids()} 2>/dev/null; exit 0`], { detached: true, stdio: 'ignore' });
    watchdog.unref();
    await new Promise((r) => setTimeout(r, 200));
    const stoppedSeen = [...stopped].filter((p) => procState(p) === 'T').length;
    await new Promise((r) => setTimeout(r, Math.max(0, ms - 200)));
    return { pids: [...stopped], stoppedSeen };
  } finally {
    signal([...stopped].filter((p) => p !== postmaster), 'SIGCONT');
    signal([postmaster!], 'SIGCONT');
  }
}

/** The CLI (`node deploy/cli/dist/main.js …`, docs/cli.md) as a process: exit code and stdout. */
export async function custodyCli(args: string[], env: NodeJS.ProcessEnv = {}, timeoutMs = 60_000): Promise<{ code: number | null; stdout: string; output: string }> {
  return new Promise((done) => {
    const child = spawn(process.execPath, ['deploy/cli/dist/main.js', ...args], { cwd: ROOT, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let output = '';
    child.stdout.on('data', (b: Buffer) => {
      stdout += b.toString();
      output += b.toString();
    });
    child.stderr.on('data', (b: Buffer) => (output += b.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.once('exit', (code) => {
      clearTimeout(timer);
      done({ code, stdout, output });
    });
  });
}

/** The Ed25519 public key (hex) of a seed file of the deployment (e.g. keys/audit-checkpoint.seed). */
export function publicKeyHexOfSeed(seedFile: string): string {
  const seed = Buffer.from(readFileSync(resolve(DIR, seedFile), 'utf8').trim(), 'hex');
  const key = createPrivateKey({ key: Buffer.concat([Buffer.from('302e020100300506032b657004220420', 'hex'), seed]), format: 'der', type: 'pkcs8' });
  return Buffer.from(String(createPublicKey(key).export({ format: 'jwk' }).x), 'base64url').toString('hex');
}

/** The URL of database custody_distributed as the administrator (the audit verifier needs SELECT). */
export function distributedDbUrl(): string {
  const admin = process.env.CUSTODY_PG_ADMIN_URL;
  if (!admin) throw new Error('CUSTODY_PG_ADMIN_URL is not set (jest integration globalSetup loads .local/infra.env)');
  const url = new URL(admin);
  url.pathname = '/custody_distributed';
  return url.toString();
}

/** Every transaction sent from `from` in blocks [fromBlock, latest] of the chain. */
export async function transactionsFrom(url: string, from: string, fromBlock: number): Promise<{ hash: string; to: string; value: bigint; nonce: number; block: number }[]> {
  const latest = Number(BigInt(await rpc<string>(url, 'eth_blockNumber')));
  const out: { hash: string; to: string; value: bigint; nonce: number; block: number }[] = [];
  for (let n = fromBlock; n <= latest; n++) {
    const block = await rpc<{ transactions: { hash: string; from: string; to: string | null; value: string; nonce: string }[] }>(url, 'eth_getBlockByNumber', [`0x${n.toString(16)}`, true]);
    for (const tx of block.transactions) {
      if (tx.from.toLowerCase() === from.toLowerCase()) out.push({ hash: tx.hash.toLowerCase(), to: (tx.to ?? '').toLowerCase(), value: BigInt(tx.value), nonce: Number(BigInt(tx.nonce)), block: n });
    }
  }
  return out;
}
