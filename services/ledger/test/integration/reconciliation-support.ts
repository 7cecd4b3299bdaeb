// Shared setup of the reconciliation integration tests (ledger-reconciliation*.test.ts): a REAL
// anvil (own process, random port, mining on demand), the REAL chain-adapter as its own process
// (services/chain-adapter/test/process/run-chain-adapter.ts), a stand-in signer over Kafka (viem),
// and the ledger with reconciliation against the adapter's ChainQueryService over gRPC. The hot
// wallet holds 10 ETH on chain and alice's 10 ETH in the books.
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes, randomUUID } from 'node:crypto';
import { createServer } from 'node:net';
import { resolve } from 'node:path';
import { createInterface, type Interface } from 'node:readline';
import { credentials, Metadata } from '@grpc/grpc-js';
import {
  KeyLifecycle,
  KeyPurpose,
  KeyTier,
  KeyTransition,
  LedgerServiceClient,
  PolicyDecided,
  PolicyDecision,
  Topics,
  TxSigned,
  decodePayload,
  encodeEvent,
  timestampFromDate,
  topicVersion,
  type EventMessages,
  type EventType,
  type ReconciliationResult,
} from '@custody/contracts';
import { KafkaBus, OUTBOX_TABLE, createEnvelope, createKafkaClient, protobufEnvelopeCodec, type Subscription } from '@custody/event-bus';
import type { Registry } from 'prom-client';
import { keccak256, parseTransaction, type Hex, type PrivateKeyAccount } from 'viem';
import { GrpcChainSnapshotSource, prefixedTopics, startLedger, type LedgerHandle } from '../../src/index.js';
import { createPrefixedTopics, createTestDatabase, deletePrefixedTopics, quietLogger, rand, requireEnv, waitFor, type TestDatabase } from './support.js';

const root = resolve(import.meta.dirname, '../../../..');
const ANVIL_BIN = resolve(root, 'node_modules/@foundry-rs/anvil-linux-amd64/bin/anvil');
export const ETHER = 10n ** 18n;
export const CHAIN = 'ethereum';

export const hex = (n: bigint): string => `0x${n.toString(16)}`;

export async function freePort(): Promise<number> {
  return new Promise((res, rej) => {
    const server = createServer();
    server.once('error', rej);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => (typeof address === 'object' && address ? res(address.port) : rej(new Error('no port'))));
    });
  });
}

export function stopChild(child: ChildProcess | undefined): Promise<void> {
  if (!child || child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  const exited = new Promise<void>((res) => child.once('exit', () => res()));
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), 30_000);
  return exited.finally(() => clearTimeout(timer));
}

/** anvil as its own process (random port, --no-mining) and its JSON-RPC; the methods are bound, so they can be destructured before start(). */
export class AnvilNode {
  url = '';
  private process: ChildProcess | undefined;
  private id = 0;

  readonly rpc = async <T = unknown>(method: string, params: unknown[] = []): Promise<T> => {
    const response = await fetch(this.url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ jsonrpc: '2.0', id: ++this.id, method, params }) });
    const body = (await response.json()) as { result?: T; error?: { message: string } };
    if (body.error) throw new Error(`${method}: ${body.error.message}`);
    return body.result as T;
  };
  readonly head = async (): Promise<bigint> => BigInt(await this.rpc<string>('eth_blockNumber'));
  readonly balanceOf = async (address: string): Promise<bigint> => BigInt(await this.rpc<string>('eth_getBalance', [address, 'latest']));
  readonly mine = async (blocks = 1): Promise<bigint> => {
    for (let i = 0; i < blocks; i++) await this.rpc('evm_mine');
    return this.head();
  };

  async start(): Promise<void> {
    const port = await freePort();
    this.url = `http://127.0.0.1:${port}`;
    this.process = spawn(ANVIL_BIN, ['--host', '127.0.0.1', '--port', String(port), '--chain-id', '31337', '--silent', '--no-mining'], { stdio: 'ignore' });
    await waitFor(async () => this.rpc('eth_chainId').then(() => true, () => false), 15_000, () => `anvil on ${this.url}`);
  }

  stop(): Promise<void> {
    return stopChild(this.process);
  }
}

/** services/chain-adapter as its own process, with its ChainQueryService port (and, with stdin piped, its pass-by-pass command channel). */
export class ChainAdapterProcess {
  private constructor(
    private readonly child: ChildProcess,
    private readonly lines: Interface,
    readonly grpcPort: number,
  ) {}

  static async start(env: Record<string, string>, stdin: 'pipe' | 'ignore'): Promise<ChainAdapterProcess> {
    const child = spawn(process.execPath, ['--import', resolve(root, 'services/ledger/test/process/ts-register.mjs'), resolve(root, 'services/chain-adapter/test/process/run-chain-adapter.ts')], {
      cwd: root,
      env: { ...process.env, ...env },
      stdio: [stdin, 'pipe', 'inherit'],
    });
    const lines = createInterface({ input: child.stdout! });
    try {
      const grpcPort = await new Promise<number>((res, rej) => {
        const timer = setTimeout(() => rej(new Error('the chain-adapter process did not report its gRPC port within 90 s')), 90_000);
        child.once('exit', (code) => rej(new Error(`the chain-adapter process exited (${code}) before it was ready`)));
        lines.once('line', (line) => {
          clearTimeout(timer);
          res((JSON.parse(line) as { grpcPort: number }).grpcPort);
        });
      });
      return new ChainAdapterProcess(child, lines, grpcPort);
    } catch (err) {
      await stopChild(child);
      throw err;
    }
  }

  /** One command to the chain-adapter process (stdin piped; its answer is one JSON line). */
  command(command: string): Promise<void> {
    return new Promise((res, rej) => {
      const timer = setTimeout(() => rej(new Error(`the chain-adapter did not answer "${command}" within 30 s`)), 30_000);
      this.lines.once('line', (line) => {
        clearTimeout(timer);
        const r = JSON.parse(line) as { ok: boolean; error?: string };
        if (r.ok) res();
        else rej(new Error(`chain-adapter "${command}": ${r.error}`));
      });
      this.child.stdin!.write(`${command}\n`);
    });
  }

  stop(): Promise<void> {
    return stopChild(this.child);
  }
}

export interface ReconciliationRigOptions {
  readonly prefix: string;
  /** Kafka client id of the test's bus. */
  readonly clientId: string;
  /** The hot wallet's id (registered through key.lifecycle) and its key (the stand-in signer signs with it). */
  readonly walletId: string;
  readonly hot: PrivateKeyAccount;
  readonly anvil: AnvilNode;
  readonly registry: Registry;
  /** chain-adapter settings beyond the prefix, RPC, chain, asset, 3 confirmations and the hot address. */
  readonly adapterEnv: Record<string, string>;
  readonly adapterStdin: 'pipe' | 'ignore';
  /** Further subscriptions of the test, made before the stand-in signer's (stopped with the rig). */
  readonly subscribe?: (bus: KafkaBus) => Promise<Subscription[]>;
}

/** Everything the reconciliation tests run against; stop() ends what was started, in reverse. */
export class ReconciliationRig {
  bus!: KafkaBus;
  db!: TestDatabase;
  ledger!: LedgerHandle;
  adapter!: ChainAdapterProcess;
  private source: GrpcChainSnapshotSource | undefined;
  private client: LedgerServiceClient | undefined;
  private readonly subscriptions: Subscription[] = [];
  private topicsCreated = false;

  private constructor(private readonly o: ReconciliationRigOptions) {}

  static async start(o: ReconciliationRigOptions): Promise<ReconciliationRig> {
    const rig = new ReconciliationRig(o);
    try {
      await rig.setUp();
      return rig;
    } catch (err) {
      await rig.stop();
      throw err;
    }
  }

  private async setUp(): Promise<void> {
    const { prefix, anvil, hot, walletId } = this.o;
    const hotAddress = hot.address.toLowerCase();
    await anvil.start();
    await anvil.rpc('anvil_setBalance', [hotAddress, hex(10n * ETHER)]);
    await anvil.mine();

    await createPrefixedTopics(prefix);
    this.topicsCreated = true;
    this.bus = new KafkaBus({ kafka: createKafkaClient({ brokers: requireEnv('KAFKA_BROKERS').split(','), clientId: this.o.clientId, logLevel: 'nothing' }) });
    if (this.o.subscribe) this.subscriptions.push(...(await this.o.subscribe(this.bus)));
    // Stand-in signer: signs every tx.prepared of our wallet with viem and answers tx.signed.
    this.subscriptions.push(
      await this.bus.subscribe({
        groupId: `signer-${rand()}`,
        topics: [`${prefix}${Topics.txPrepared}`],
        fromBeginning: true,
        handler: async (m) => {
          const decoded = decodePayload(protobufEnvelopeCodec.decode(m.value));
          if (decoded.type !== Topics.txPrepared || decoded.message.sourceWallet !== walletId) return;
          const p = decoded.message;
          const raw = await hot.signTransaction(parseTransaction(`0x${Buffer.from(p.unsignedTx).toString('hex')}` as Hex) as never);
          await this.publish(Topics.txSigned, p.sourceWallet, TxSigned.fromPartial({ withdrawalId: p.withdrawalId, decisionId: p.decisionId, chain: p.chain, sourceWallet: p.sourceWallet, keyId: 'key-hot', signedTx: Buffer.from(raw.slice(2), 'hex'), txHash: keccak256(raw) }));
        },
      }),
    );

    this.adapter = await ChainAdapterProcess.start(
      { CHAIN_TOPIC_PREFIX: prefix, ANVIL_RPC_URL: anvil.url, CHAIN_NAME: CHAIN, CHAIN_ASSET: 'ETH', CHAIN_CONFIRMATIONS: '3', CHAIN_CUSTODY_ADDRESSES: hotAddress, ...this.o.adapterEnv },
      this.o.adapterStdin,
    );
    // The signer announces the wallet (key.lifecycle): the adapter's registry maps its id to the address.
    await this.publish(
      Topics.keyLifecycle,
      'key-hot',
      KeyLifecycle.fromPartial({ keyId: 'key-hot', transition: KeyTransition.KEY_TRANSITION_GENERATED, purpose: KeyPurpose.KEY_PURPOSE_SIGNATURE, tier: KeyTier.KEY_TIER_HOT, chain: CHAIN, actor: 'signer', walletId, address: hotAddress, transitionedAt: timestampFromDate(new Date()) }),
    );

    this.db = await createTestDatabase();
    this.source = new GrpcChainSnapshotSource([{ asset: 'ETH', address: `127.0.0.1:${this.adapter.grpcPort}` }], { timeoutMs: 5_000 });
    this.ledger = await startLedger({
      bus: this.bus,
      database: { url: this.db.appUrl, schema: this.db.schema },
      logger: quietLogger(),
      topicName: prefixedTopics(prefix),
      consumerGroupId: `ledger-${prefix}`,
      outboxPollIntervalMs: 50,
      grpc: { host: '127.0.0.1', port: 0, credentials: { kind: 'insecure' } },
      registry: this.o.registry,
      reconciliation: { targets: [{ asset: 'ETH', chain: CHAIN, feeAsset: 'ETH' }], source: this.source, intervalMs: 0 },
    });
    this.client = new LedgerServiceClient(`127.0.0.1:${this.ledger.grpcPort}`, credentials.createInsecure());
    // The ledger registers the hot wallet from the same key.lifecycle event (its own consumer group).
    await waitFor(async () => (await this.db.admin(`SELECT 1 FROM "${this.db.schema}"."ledger_wallet" WHERE "wallet_id" = $1`, [walletId])).length === 1, 60_000, () => 'the ledger registering the hot wallet');
    // The books hold what the custody addresses hold: alice's 10 ETH, received at the hot wallet's
    // address, so booked to custodian:ETH:<hot wallet id>.
    await this.ledger.store.transaction((t) =>
      this.ledger.postings.depositFinal({ depositId: 'seed-alice', clientId: 'acme', customerAccount: 'alice', asset: 'ETH', amount: 10n * ETHER, chain: CHAIN, address: hotAddress }, { eventId: randomUUID(), correlationId: 'seed' }, t),
    );
  }

  readonly publish = async <K extends EventType>(type: K, key: string, message: EventMessages[K]): Promise<void> => {
    const envelope = createEnvelope({ type, key, correlationId: `corr-${rand()}`, producer: 'test', schemaVersion: topicVersion(type), payload: encodeEvent(type, message) });
    await this.bus.publish([{ topic: `${this.o.prefix}${type}`, key, value: protobufEnvelopeCodec.encode(envelope) }]);
  };

  /** alice's withdrawal of `amount` ETH: held in the ledger, then policy.decided ALLOW from the hot wallet (the ledger prepares it, the stand-in signer signs, the adapter broadcasts). */
  async withdrawalAllowed(withdrawalId: string, amount: bigint): Promise<void> {
    await this.ledger.store.transaction((t) =>
      this.ledger.postings.withdrawalRequested({ withdrawalId, clientId: 'acme', customerAccount: 'alice', asset: 'ETH', chain: CHAIN, amount }, { eventId: randomUUID(), correlationId: withdrawalId }, t),
    );
    await this.publish(
      Topics.policyDecided,
      withdrawalId,
      PolicyDecided.fromPartial({
        decisionId: randomUUID(),
        withdrawalId,
        decision: PolicyDecision.POLICY_DECISION_ALLOW,
        bundleDigest: 'ab'.repeat(32),
        decisionToken: Buffer.from('signed-decision-token'),
        asset: 'ETH',
        chain: CHAIN,
        amount: amount.toString(),
        sourceWallet: this.o.walletId,
        destinationAddress: `0x${randomBytes(20).toString('hex')}`,
        approvals: [{ operatorId: 'op', role: 'treasury', signature: Buffer.alloc(64, 7), keyId: 'op-1' }],
        expiresAt: timestampFromDate(new Date('2099-01-01T00:00:00Z')),
      }),
    );
  }

  /** One run over the operators' LedgerService/Reconcile RPC (ETH only). */
  readonly reconcile = (): Promise<ReconciliationResult> =>
    new Promise((res, rej) =>
      this.client!.reconcile({ assets: ['ETH'] }, new Metadata(), { deadline: Date.now() + 30_000 }, (err, r) => {
        if (err) return rej(err);
        if (r.results.length !== 1) return rej(new Error(`expected one result, got ${r.results.length}`));
        res(r.results[0]!);
      }),
    );

  readonly incidentRowsInOutbox = async (): Promise<number> =>
    Number((await this.db.admin<{ n: string }>(`SELECT count(*)::text AS n FROM "${this.db.schema}"."${OUTBOX_TABLE}" WHERE "topic" = $1`, [`${this.o.prefix}${Topics.incidentRaised}`]))[0]!.n);

  async stop(): Promise<void> {
    this.client?.close();
    this.source?.close();
    for (const s of this.subscriptions) await s.stop().catch(() => undefined);
    await this.ledger?.stop();
    await this.adapter?.stop();
    await this.bus?.close();
    await this.db?.drop();
    await this.o.anvil.stop();
    if (this.topicsCreated) await deletePrefixedTopics(this.o.prefix).catch(() => undefined);
  }
}
