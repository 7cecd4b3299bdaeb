// Plumbing for the policy service's integration tests (copied from intake's): a throw-away
// database provisioned like production (owner runs migrations, app role serves), prefixed
// Kafka topics, the compiled bundle (and a candidate with different data), operators with
// Ed25519 keys, a clock the test can move.
import { execFile } from 'node:child_process';
import { cp, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { spawn, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import { Metadata, credentials, type ServiceError } from '@grpc/grpc-js';
import {
  ApprovalServiceClient,
  DepositDetected,
  DepositState,
  LedgerServiceClient,
  PolicyDecided,
  RiskAssessed,
  RiskVerdict,
  Topics,
  WithdrawalRequested,
  decodePayload,
  encodeEvent,
  timestampFromDate,
  timestampToDate,
  topicVersion,
  type EventMessages,
  type EventType,
  type GetBalancesResponse,
  type GetWithdrawalHoldResponse,
  type ListPendingApprovalsResponse,
  type PendingApproval,
} from '@custody/contracts';
import { InProcessBus, KafkaBus, createEnvelope, createKafkaClient, protobufEnvelopeCodec, type Subscription } from '@custody/event-bus';
import { ed25519 } from '@noble/curves/ed25519.js';
import { createLogger, errorReason } from '@custody/platform';
import { createTestDatabase as createServiceTestDatabase, createPrefixedTopics, deletePrefixedTopics, rand, requireEnv, waitFor, type TestDatabase } from '@custody/testing';
import { operatorDirectory } from '../../src/adapters/operators/operator-file.js';
import {
  POLICY_ENTITIES,
  POLICY_MIGRATIONS,
  StaticFactsProvider,
  localDecisionSigner,
  prefixedTopics,
  redeliveryFor,
  startPolicy,
  type ApprovalSubject,
  type OperatorDirectory,
  type PolicyHandle,
  type StaticFactsDocument,
  type WithdrawalFactsProvider,
} from '../../src/index.js';

const run = promisify(execFile);
export const root = fileURLToPath(new URL('../../../../', import.meta.url));

export { requireEnv, rand, waitFor, createPrefixedTopics, deletePrefixedTopics, type TestDatabase } from '@custody/testing';

export const quietLogger = () => createLogger({ service: 'policy-test', level: 'warn' });

/** CREATE DATABASE policy_test_<rand>, provision schema + roles, run the migrations as owner. */
export const createTestDatabase = (): Promise<TestDatabase> => createServiceTestDatabase({ service: 'policy', entities: POLICY_ENTITIES, migrations: POLICY_MIGRATIONS });

/** A clock the test can move. */
export class TestClock {
  constructor(public current: Date) {}
  now(): Date {
    return this.current;
  }
  advance(ms: number): void {
    this.current = new Date(this.current.getTime() + ms);
  }
}

export interface TestOperator {
  readonly id: string;
  readonly roles: readonly string[];
  readonly keyId: string;
  readonly secret: Uint8Array;
}

export function newOperator(id: string, roles: readonly string[]): TestOperator {
  return { id, roles, keyId: `${id}-k1`, secret: ed25519.utils.randomSecretKey() };
}

export function directoryOf(ops: readonly TestOperator[]): OperatorDirectory {
  return operatorDirectory(ops.map((o) => ({ operatorId: o.id, roles: o.roles, keys: new Map([[o.keyId, ed25519.getPublicKey(o.secret)]]) })));
}

export interface Bundles {
  /** policies/ as shipped. */
  readonly current: Uint8Array;
  /** Same rules, BTC institutional single_max lowered to 100000000 (1 BTC). */
  readonly candidate: Uint8Array;
  cleanup(): Promise<void>;
}

/** Builds the shipped bundle with scripts/policy-test.sh and a candidate with changed data. */
export async function buildBundles(): Promise<Bundles> {
  const opa = process.env['OPA_BIN'] ?? resolve(root, '.local/bin/opa');
  const dir = await mkdtemp(join(tmpdir(), 'policy-svc-'));
  await run('bash', [resolve(root, 'scripts/policy-test.sh'), 'build', join(dir, 'current')], { cwd: root, env: { ...process.env, OPA_BIN: opa } });
  const data = join(dir, 'data');
  await cp(resolve(root, 'policies/data'), data, { recursive: true });
  const limits = JSON.parse(await readFile(join(data, 'limits.json'), 'utf8')) as { limits: { version: string; assets: { BTC: { tiers: { institutional: { single_max: string } } } } } };
  limits.limits.version = 'candidate-test';
  limits.limits.assets.BTC.tiers.institutional.single_max = '100000000';
  await writeFile(join(data, 'limits.json'), JSON.stringify(limits, null, 2));
  // scripts/policy-test.sh writes the Wasm SDK's capabilities to .local/policy/capabilities.json.
  await run(opa, ['build', '-t', 'wasm', '-e', 'custody/decision/decision', '--capabilities', resolve(root, '.local/policy/capabilities.json'), '--ignore', '*_test.rego', '-o', join(dir, 'candidate.tar.gz'), 'policies/custody', data], { cwd: root });
  return {
    current: new Uint8Array(await readFile(join(dir, 'current', 'bundle.tar.gz'))),
    candidate: new Uint8Array(await readFile(join(dir, 'candidate.tar.gz'))),
    cleanup: () => rm(dir, { recursive: true, force: true }),
  };
}

/** Promisified unary call. */
export function call<Req, Res>(fn: (req: Req, md: Metadata, cb: (err: ServiceError | null, res: Res) => void) => unknown, req: Req, md: Metadata): Promise<Res> {
  return new Promise((res, rej) => {
    fn(req, md, (err, r) => (err ? rej(err) : res(r)));
  });
}

export async function failure(p: Promise<unknown>): Promise<{ code: number; reason: string | undefined }> {
  try {
    await p;
  } catch (e) {
    const err = e as ServiceError;
    return { code: err.code, reason: errorReason(err.metadata) };
  }
  throw new Error('expected the call to fail');
}

/**
 * A 1.5 BTC institutional withdrawal (withdrawal.requested + risk.assessed CLEAR on the unprefixed topics of
 * `bus`): REQUIRE_APPROVAL, quorum compliance + treasury. Resolves with its pending approval once ApprovalService
 * lists it. Needs the policy's facts to be institutionalFactsWithHold.
 */
export async function pendingWithdrawal(bus: InProcessBus, client: ApprovalServiceClient): Promise<PendingApproval> {
  const id = `wd-${rand()}`;
  const now = new Date();
  const send = async (type: typeof Topics.withdrawalRequested | typeof Topics.riskAssessed, payload: Uint8Array) =>
    bus.publish([{ topic: type, key: id, value: protobufEnvelopeCodec.encode(createEnvelope({ type, key: id, correlationId: `corr-${rand()}`, producer: 'test', schemaVersion: topicVersion(type), payload })) }]);
  await send(Topics.withdrawalRequested, encodeEvent(Topics.withdrawalRequested, WithdrawalRequested.fromPartial({ withdrawalId: id, clientId: 'client-acme', customerAccount: 'acct-inst-1', asset: 'BTC', chain: 'bitcoin-mainnet', amount: '150000000', destinationAddress: 'bc1qinstitutionalvaultxxxxxxxxxxxxxxxxxx', requestedAt: timestampFromDate(now) })));
  await send(Topics.riskAssessed, encodeEvent(Topics.riskAssessed, RiskAssessed.fromPartial({ assessmentId: `as-${id}`, withdrawalId: id, verdict: RiskVerdict.RISK_VERDICT_CLEAR, score: 10, assessedAt: timestampFromDate(new Date(now.getTime() - 60_000)) })));
  let pending: PendingApproval | undefined;
  await waitFor(
    async () => {
      const res = await call<object, ListPendingApprovalsResponse>(client.listPendingApprovals.bind(client) as never, { pageSize: 500, pageToken: '' }, new Metadata());
      pending = res.approvals.find((a) => a.withdrawalId === id);
      return pending !== undefined;
    },
    20_000,
    () => `pending approval for ${id}`,
  );
  return pending as PendingApproval;
}

/** What an approver signs for a pending approval (approvalSigningBytes' subject). */
export const subjectOf = (p: PendingApproval): ApprovalSubject => ({
  decisionId: p.decisionId,
  withdrawalId: p.withdrawalId,
  asset: p.asset,
  sourceWallet: p.sourceWallet,
  destinationAddress: p.destinationAddress,
  destinationTag: p.destinationTag,
  amount: BigInt(p.amount),
  bundleDigest: p.bundleDigest,
  quorum: p.quorum,
  roles: p.roles,
  expiresAt: Math.floor(timestampToDate(p.expiresAt!).getTime() / 1000),
});

/** Withdrawal facts of an institutional account from a hot wallet, with a ledger hold of the amount (no ledger behind it). */
export const institutionalFactsWithHold: WithdrawalFactsProvider = {
  factsFor: (r) =>
    Promise.resolve({
      account: { id: 'acct-inst-1', tier: 'institutional', openedAt: '2023-01-01T00:00:00Z' },
      sourceWallet: { id: 'btc-hot-01', tier: 'hot' as const },
      ledgerHold: { id: `hold-${r.withdrawalId}`, amount: r.amount },
    }),
};

export interface PolicyWithLedgerOptions {
  readonly prefix: string;
  /** Kafka client id prefix and decision-signer key id prefix (`<name>-k1`). */
  readonly name: string;
  readonly clock: TestClock;
  readonly clientId: string;
  /** Destination of every withdrawal submitted. */
  readonly destination: string;
  readonly staticFacts: StaticFactsDocument;
  /** The policy's facts: the static ones plus what it asks the ledger process (over `ledger`). */
  readonly facts: (staticFacts: StaticFactsProvider, ledger: LedgerServiceClient) => WithdrawalFactsProvider;
  /** The bounded wait of the ledger lookups (the policy's redelivery window). */
  readonly waitMs: number;
  /** A FINAL BTC deposit the ledger credits before the tests run. */
  readonly deposit: { readonly address: string; readonly account: string; readonly amount: string };
}

/**
 * The policy in this process and services/ledger as its own process (services/ledger/test/process/run-ledger.ts:
 * real Postgres, Kafka consumer, LedgerService gRPC on 127.0.0.1:<free port>) on the same REAL Kafka topics.
 * No service imports the other. The methods are bound, so a test can destructure them before start().
 */
export class PolicyWithLedgerProcess {
  db!: TestDatabase;
  bus!: KafkaBus;
  policy!: PolicyHandle;
  /** LedgerService client of the ledger process. */
  ledger!: LedgerServiceClient;
  /** Every policy.decided seen on the topic. */
  readonly decided: PolicyDecided[] = [];
  private bundles: Bundles | undefined;
  private observer: Subscription | undefined;
  private ledgerProcess: ChildProcess | undefined;
  private topicsCreated = false;

  constructor(private readonly o: PolicyWithLedgerOptions) {}

  async start(): Promise<void> {
    try {
      await this.setUp();
    } catch (err) {
      await this.stop();
      throw err;
    }
  }

  private async setUp(): Promise<void> {
    const { prefix, name } = this.o;
    const [db, bundles] = await Promise.all([createTestDatabase(), buildBundles(), createPrefixedTopics(prefix).then(() => (this.topicsCreated = true))]);
    this.db = db;
    this.bundles = bundles;
    const grpcPort = await this.startLedgerProcess();
    this.ledger = new LedgerServiceClient(`127.0.0.1:${grpcPort}`, credentials.createInsecure());
    this.bus = new KafkaBus({ kafka: createKafkaClient({ brokers: requireEnv('KAFKA_BROKERS').split(','), clientId: `${name}-${rand()}`, logLevel: 'nothing' }) });
    this.policy = await startPolicy({
      bus: this.bus,
      database: { url: db.appUrl, schema: db.schema },
      logger: quietLogger(),
      clock: this.o.clock,
      grpc: { port: 0, credentials: { kind: 'insecure' } },
      bootstrapBundle: bundles.current,
      signer: localDecisionSigner(`${name}-k1`, ed25519.utils.randomSecretKey()),
      operators: directoryOf([newOperator('op-alice', ['compliance'])]),
      facts: this.o.facts(new StaticFactsProvider(this.o.staticFacts), this.ledger),
      redelivery: redeliveryFor(this.o.waitMs, 100, 1_000),
      topicName: prefixedTopics(prefix),
      consumerGroupId: `policy-${rand()}`,
      outboxPollIntervalMs: 50,
    });
    this.observer = await this.bus.subscribe({
      groupId: `observer-${rand()}`,
      topics: [`${prefix}${Topics.policyDecided}`],
      handler: async (message) => {
        const event = decodePayload(protobufEnvelopeCodec.decode(message.value));
        if (event.type === Topics.policyDecided) this.decided.push(event.message);
      },
    });
    // Fund the customer through the ledger's own consumer (deposit.detected FINAL).
    const { address, account, amount } = this.o.deposit;
    await this.publish(
      Topics.depositDetected,
      address,
      DepositDetected.fromPartial({ depositId: `dep-${rand()}`, chain: 'bitcoin-mainnet', asset: 'BTC', address, customerAccount: account, clientId: this.o.clientId, amount, txHash: `tx-${rand()}`, state: DepositState.DEPOSIT_STATE_FINAL }),
    );
    await waitFor(async () => (await this.balanceOf(account)) === amount, 30_000, () => 'the deposit credited by the ledger');
  }

  /** Starts services/ledger as a child process; resolves with its gRPC port. */
  private async startLedgerProcess(): Promise<number> {
    const child = spawn(process.execPath, ['--import', resolve(root, 'services/ledger/test/process/ts-register.mjs'), resolve(root, 'services/ledger/test/process/run-ledger.ts')], {
      cwd: root,
      env: { ...process.env, LEDGER_TOPIC_PREFIX: this.o.prefix },
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    this.ledgerProcess = child;
    const lines = createInterface({ input: child.stdout! });
    return new Promise<number>((res, rej) => {
      const timer = setTimeout(() => rej(new Error('the ledger process did not report its gRPC port within 90 s')), 90_000);
      child.once('exit', (code) => rej(new Error(`the ledger process exited (${code}) before it was ready`)));
      lines.once('line', (line) => {
        clearTimeout(timer);
        res((JSON.parse(line) as { grpcPort: number }).grpcPort);
      });
    });
  }

  /** Stops the ledger process (SIGTERM, SIGKILL after 30 s); a second call does nothing. */
  readonly stopLedgerProcess = async (): Promise<void> => {
    const child = this.ledgerProcess;
    this.ledgerProcess = undefined;
    if (!child || child.exitCode !== null) return;
    const exited = new Promise<void>((res) => child.once('exit', () => res()));
    child.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), 30_000);
    await exited;
    clearTimeout(timer);
  };

  readonly publish = async <K extends EventType>(type: K, key: string, message: EventMessages[K]): Promise<void> => {
    const envelope = createEnvelope({ type, key, correlationId: `corr-${rand()}`, producer: 'test', schemaVersion: topicVersion(type), payload: encodeEvent(type, message) });
    await this.bus.publish([{ topic: `${this.o.prefix}${type}`, key, value: protobufEnvelopeCodec.encode(envelope) }]);
  };

  /** withdrawal.requested of `amount` BTC base units from `account` to the destination. */
  readonly requested = (id: string, account: string, amount: string): Promise<void> =>
    this.publish(
      Topics.withdrawalRequested,
      id,
      WithdrawalRequested.fromPartial({ withdrawalId: id, clientId: this.o.clientId, customerAccount: account, asset: 'BTC', chain: 'bitcoin-mainnet', amount, destinationAddress: this.o.destination, requestedAt: timestampFromDate(this.o.clock.now()) }),
    );

  /** risk.assessed CLEAR (two minutes old), then withdrawal.requested. */
  readonly submit = async (id: string, account: string, amount: string): Promise<void> => {
    await this.publish(
      Topics.riskAssessed,
      id,
      RiskAssessed.fromPartial({ assessmentId: `as-${id}`, withdrawalId: id, verdict: RiskVerdict.RISK_VERDICT_CLEAR, score: 12, assessedAt: timestampFromDate(new Date(this.o.clock.now().getTime() - 120_000)) }),
    );
    await this.requested(id, account, amount);
  };

  /** The policy.decided of withdrawal `id`, once seen. */
  readonly decisionOf = async (id: string, timeoutMs = 30_000): Promise<PolicyDecided> => {
    await waitFor(() => this.decided.some((d) => d.withdrawalId === id), timeoutMs, () => `policy.decided for ${id}`);
    return this.decided.find((d) => d.withdrawalId === id) as PolicyDecided;
  };

  private readonly unary = <Res>(fn: (cb: (err: ServiceError | null, res: Res) => void) => unknown): Promise<Res> => new Promise((res, rej) => fn((err, r) => (err ? rej(err) : res(r))));

  /** The ledger's hold of `withdrawalId` (LedgerService/GetWithdrawalHold). */
  readonly holdOf = (withdrawalId: string): Promise<GetWithdrawalHoldResponse> => this.unary<GetWithdrawalHoldResponse>((cb) => this.ledger.getWithdrawalHold({ withdrawalId }, new Metadata(), cb));

  /** What the ledger says `account` of the client has available in BTC ('0' when nothing). */
  readonly balanceOf = async (account: string): Promise<string> =>
    (await this.unary<GetBalancesResponse>((cb) => this.ledger.getBalances({ account: `customer:${this.o.clientId}:${account}`, assets: ['BTC'] }, new Metadata(), cb))).balances[0]?.available ?? '0';

  /** The input the policy stored with its decision of withdrawal `id`. */
  readonly storedInput = async (id: string): Promise<Record<string, unknown> | undefined> =>
    (await this.db.admin<{ input: Record<string, unknown> }>(`SELECT input FROM decision WHERE withdrawal_id = $1`, [id]))[0]?.input;

  async stop(): Promise<void> {
    await this.observer?.stop();
    await this.policy?.stop();
    this.ledger?.close();
    await this.stopLedgerProcess();
    await this.bus?.close();
    if (this.topicsCreated) await deletePrefixedTopics(this.o.prefix).catch(() => undefined);
    await this.db?.drop();
    await this.bundles?.cleanup();
  }
}
