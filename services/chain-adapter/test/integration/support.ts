// Plumbing for chain-adapter's integration tests: a private anvil per test file (random free
// port, killed in afterAll), a throw-away database provisioned like production, prefixed
// Kafka topics, a stand-in signer that signs tx.prepared with viem (an implementation that
// is not ours), and a policy stand-in that publishes policy.decided.
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { randomBytes, randomUUID } from 'node:crypto';
import { createServer } from 'node:net';
import path from 'node:path';
import { parseTransaction, recoverTransactionAddress, type Hex } from 'viem';
import { privateKeyToAccount, type PrivateKeyAccount } from 'viem/accounts';
import {
  KeyLifecycle,
  KeyPurpose,
  KeyTier,
  KeyTransition,
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
} from '@custody/contracts';
import { KafkaBus, createEnvelope, createKafkaClient, protobufEnvelopeCodec, type Envelope, type Subscription } from '@custody/event-bus';
import { createLogger } from '@custody/platform';
import { createTestDatabase as createServiceTestDatabase, rand, requireEnv, waitFor, type TestDatabase } from '@custody/testing';
import { CHAIN_ADAPTER_ENTITIES, CHAIN_ADAPTER_MIGRATIONS, EvmJsonRpc } from '../../src/index.js';

export { requireEnv, rand, waitFor, createPrefixedTopics, deletePrefixedTopics, type TestDatabase } from '@custody/testing';

export const quietLogger = () => createLogger({ service: 'chain-adapter-test', level: 'silent' as never });

// ---------------------------------------------------------------- anvil
const ANVIL_BIN = path.resolve('node_modules/@foundry-rs/anvil-linux-amd64/bin/anvil');

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => (typeof address === 'object' && address ? resolve(address.port) : reject(new Error('no port'))));
    });
  });
}

export interface Anvil {
  readonly url: string;
  readonly rpc: EvmJsonRpc;
  readonly chainId: bigint;
  readonly genesisHash: string;
  call<T = unknown>(method: string, params?: unknown[]): Promise<T>;
  mine(blocks?: number): Promise<void>;
  stop(): Promise<void>;
}

/** anvil on a random free 127.0.0.1 port, mining on demand (automine off). */
/** `timestamp`: the genesis block's (two anvils with the same chain id and timestamp share their genesis block). */
export async function startAnvil(options: { chainId?: number; timestamp?: number } = {}): Promise<Anvil> {
  const port = await freePort();
  const chainId = options.chainId ?? 31337;
  const args = ['--host', '127.0.0.1', '--port', String(port), '--chain-id', String(chainId), '--silent', '--no-mining', ...(options.timestamp === undefined ? [] : ['--timestamp', String(options.timestamp)])];
  const child: ChildProcess = spawn(ANVIL_BIN, args, { stdio: 'ignore' });
  const url = `http://127.0.0.1:${port}`;
  const rpc = new EvmJsonRpc({ url, timeoutMs: 5_000 });
  await waitFor(async () => rpc.chainId().then(() => true, () => false), 15_000, () => `anvil on ${url}`);
  const genesisHash = await rpc.genesisHash();
  return {
    url,
    rpc,
    chainId: BigInt(chainId),
    genesisHash,
    call: (method, params = []) => rpc.call(method, params),
    mine: async (blocks = 1) => {
      for (let i = 0; i < blocks; i++) await rpc.call('evm_mine');
    },
    stop: async () => {
      if (child.exitCode !== null) return;
      const exited = new Promise((resolve) => child.once('exit', resolve));
      child.kill('SIGTERM');
      await Promise.race([exited, new Promise((r) => setTimeout(r, 3_000))]);
      if (child.exitCode === null) child.kill('SIGKILL');
    },
  };
}

/** A fresh key with 1000 ETH on the anvil. */
export async function fundedAccount(anvil: Anvil): Promise<PrivateKeyAccount & { privateKey: Hex }> {
  const privateKey = `0x${randomBytes(32).toString('hex')}` as Hex;
  const account = privateKeyToAccount(privateKey);
  await anvil.call('anvil_setBalance', [account.address, '0x3635c9adc5dea00000']);
  return Object.assign(account, { privateKey });
}

/**
 * Stand-in for the signer's key.lifecycle: `transition` of key `keyId` of wallet `walletId`
 * at `address` (signature key, hot, on `chain`), published on the prefixed topic.
 */
export async function publishKeyLifecycle(
  bus: KafkaBus,
  prefix: string,
  k: { walletId: string; address: string; keyId?: string; transition?: KeyTransition; chain?: string; at?: Date; successorKeyId?: string },
): Promise<Envelope> {
  const keyId = k.keyId ?? `key-${k.walletId}`;
  return publish(
    bus,
    prefix,
    Topics.keyLifecycle,
    keyId,
    KeyLifecycle.fromPartial({
      keyId,
      walletId: k.walletId,
      address: k.address.toLowerCase(),
      transition: k.transition ?? KeyTransition.KEY_TRANSITION_GENERATED,
      purpose: KeyPurpose.KEY_PURPOSE_SIGNATURE,
      tier: KeyTier.KEY_TIER_HOT,
      chain: k.chain ?? 'anvil',
      actor: 'carol,dave',
      reason: 'test',
      successorKeyId: k.successorKeyId ?? '',
      transitionedAt: timestampFromDate(k.at ?? new Date()),
    }),
  );
}

export const randomAddress = (): string => `0x${randomBytes(20).toString('hex')}`;

// ---------------------------------------------------------------- database
/** CREATE DATABASE chain_adapter_test_<rand>, provision schema + roles, run the migrations as owner. */
export const createTestDatabase = (): Promise<TestDatabase> => createServiceTestDatabase({ service: 'chain_adapter', entities: CHAIN_ADAPTER_ENTITIES, migrations: CHAIN_ADAPTER_MIGRATIONS });

// ---------------------------------------------------------------- kafka
/** partitionsConsumedConcurrently 3: handlers of different partitions really run at once. */
export function newBus(): KafkaBus {
  return new KafkaBus({
    kafka: createKafkaClient({ brokers: requireEnv('KAFKA_BROKERS').split(','), clientId: `chain-adapter-test-${rand()}`, logLevel: 'nothing' }),
    consumer: { partitionsConsumedConcurrently: 3 },
  });
}

export async function publish<K extends EventType>(bus: KafkaBus, prefix: string, type: K, key: string, message: EventMessages[K], correlationId: string = randomUUID()): Promise<Envelope> {
  const envelope = createEnvelope({ type, key, correlationId, producer: 'test', schemaVersion: topicVersion(type), payload: encodeEvent(type, message) });
  await bus.publish([{ topic: `${prefix}${type}`, key, value: protobufEnvelopeCodec.encode(envelope) }]);
  return envelope;
}

export interface Observed {
  readonly envelope: Envelope;
  readonly topic: string;
}

/** Collects every event on the prefixed topics (incl. dead letters: raw). */
export async function observe(bus: KafkaBus, prefix: string, sink: Observed[]): Promise<Subscription> {
  const topics = [Topics.txPrepared, Topics.txStatus, Topics.depositDetected, Topics.txSigned, Topics.incidentRaised].map((t) => `${prefix}${t}`);
  return bus.subscribe({
    groupId: `observer-${rand()}`,
    topics,
    fromBeginning: true,
    handler: async (message) => {
      sink.push({ envelope: protobufEnvelopeCodec.decode(message.value), topic: message.topic });
    },
  });
}

/**
 * Every message of a topic read by kcat (librdkafka, not our client): `%K` key length as text,
 * the key, `%R` the value length (4 bytes, big endian), the value.
 */
export function readTopicWithKcat(topic: string): { key: string; value: Buffer }[] {
  const out = execFileSync(requireEnv('KCAT_BIN'), ['-b', requireEnv('KAFKA_BROKERS'), '-C', '-t', topic, '-o', 'beginning', '-e', '-q', '-f', '%K%k%R%s'], { timeout: 30_000, maxBuffer: 64 * 1024 * 1024 });
  const messages: { key: string; value: Buffer }[] = [];
  for (let at = 0; at < out.length; ) {
    const keyLen = /^-?\d+/.exec(out.subarray(at, at + 12).toString('latin1'))?.[0];
    if (keyLen === undefined) throw new Error(`unparseable kcat output at ${at}`);
    at += keyLen.length;
    const key = out.subarray(at, at + Math.max(0, Number(keyLen))).toString('utf8');
    at += Math.max(0, Number(keyLen));
    const valueLen = out.readInt32BE(at);
    at += 4;
    messages.push({ key, value: out.subarray(at, at + valueLen) });
    at += valueLen;
  }
  return messages;
}

export const messagesOf = <K extends EventType>(sink: readonly Observed[], type: K): EventMessages[K][] =>
  sink.filter((o) => o.envelope.type === type).map((o) => decodePayload(o.envelope).message as EventMessages[K]);

// ---------------------------------------------------------------- stand-ins
/** `wallet`: the wallet id (as policy names it in the decision token), not an address. */
export function decision(w: { withdrawalId?: string; wallet: string; destination: string; amount: bigint; chain?: string; asset?: string }): PolicyDecided {
  return PolicyDecided.fromPartial({
    decisionId: randomUUID(),
    withdrawalId: w.withdrawalId ?? randomUUID(),
    decision: PolicyDecision.POLICY_DECISION_ALLOW,
    bundleDigest: 'ab'.repeat(32),
    decisionToken: Buffer.from('signed-decision-token'),
    asset: w.asset ?? 'ETH',
    chain: w.chain ?? 'anvil',
    amount: w.amount.toString(),
    sourceWallet: w.wallet,
    destinationAddress: w.destination,
    // What the signer re-verifies (C-8.2.2.5-a): the approvals and the window they were given
    // for travel on in tx.prepared unchanged.
    approvals: [{ operatorId: 'op-stand-in', role: 'treasury', signature: Buffer.alloc(64, 7), keyId: 'op-stand-in-1' }],
    expiresAt: timestampFromDate(DECISION_APPROVALS_EXPIRE_AT),
  });
}

/** The approval window every stand-in decision carries (a fixed, recognisable instant). */
export const DECISION_APPROVALS_EXPIRE_AT = new Date('2099-01-01T00:00:00Z');

export interface SignedRecord {
  readonly withdrawalId: string;
  readonly raw: Hex;
  readonly hash: string;
  readonly parsed: ReturnType<typeof parseTransaction>;
  readonly sender: string;
}

/**
 * Stand-in signer: signs every tx.prepared of the account's address with viem (parses OUR unsigned bytes with an
 * independent implementation), publishes tx.signed. `mutate` lets a test sign something
 * else than what was prepared.
 */
export async function startTestSigner(
  bus: KafkaBus,
  prefix: string,
  account: PrivateKeyAccount,
  signed: SignedRecord[],
  options: {
    mutate?: (tx: ReturnType<typeof parseTransaction>) => ReturnType<typeof parseTransaction>;
    skip?: (withdrawalId: string) => boolean;
    /** Sign what was prepared for this source address (default: the account's own): a wrong key. */
    forAddress?: string;
  } = {},
): Promise<Subscription> {
  return bus.subscribe({
    groupId: `signer-${rand()}`,
    topics: [`${prefix}${Topics.txPrepared}`],
    fromBeginning: true,
    handler: async (message) => {
      const envelope = protobufEnvelopeCodec.decode(message.value);
      const prepared = decodePayload(envelope);
      if (prepared.type !== Topics.txPrepared) return;
      const m = prepared.message;
      // tx.prepared names the wallet id in source_wallet and its chain address in source_address.
      if (m.sourceAddress.toLowerCase() !== (options.forAddress ?? account.address).toLowerCase()) return;
      if (options.skip?.(m.withdrawalId)) return;
      let tx = parseTransaction(`0x${Buffer.from(m.unsignedTx).toString('hex')}` as Hex);
      if (options.mutate) tx = options.mutate(tx);
      const raw = await account.signTransaction(tx as never);
      const parsed = parseTransaction(raw);
      const sender = await recoverTransactionAddress({ serializedTransaction: raw as never });
      const { keccak256 } = await import('viem');
      const hash = keccak256(raw);
      signed.push({ withdrawalId: m.withdrawalId, raw, hash, parsed, sender });
      await publish(
        bus,
        prefix,
        Topics.txSigned,
        m.sourceWallet,
        TxSigned.fromPartial({ withdrawalId: m.withdrawalId, decisionId: m.decisionId, chain: m.chain, sourceWallet: m.sourceWallet, keyId: 'test-key', signedTx: Buffer.from(raw.slice(2), 'hex'), txHash: hash }),
        envelope.correlationId,
      );
    },
  });
}
