// chain-adapter on a real anvil (its own, random port) + real PostgreSQL + real Kafka:
//  1. prepared transactions/s: N policy.decided for ONE wallet (the worst case: every
//     prepare takes that wallet's nonce row lock) until N rows are prepared;
//  2. broadcast → FINAL: M withdrawals signed by a stand-in signer (viem), anvil mining one
//     block every --block-ms, the asset rule --confirmations; time from the BROADCAST event to
//     the FINAL event per withdrawal (dominated by block interval × depth, printed for context).
// Run: bash scripts/bench.sh chain-adapter [--prepare 500] [--final 20] [--block-ms 250] [--confirmations 3] [--concurrency 6]
import { spawn } from 'node:child_process';
import { randomBytes, randomUUID } from 'node:crypto';
import { createServer } from 'node:net';
import path from 'node:path';
import { parseArgs } from 'node:util';
import pg from 'pg';
import { keccak256, parseTransaction, type Hex } from 'viem';
import { privateKeyToAccount } from 'viem/accounts';
import { ALL_TOPICS, KeyLifecycle, KeyPurpose, KeyTransition, PolicyDecided, PolicyDecision, Topics, TxSigned, TxState, decodePayload, encodeEvent, topicVersion, type EventMessages, type EventType } from '@custody/contracts';
import { KafkaBus, createEnvelope, createKafkaClient, ensureTopics, protobufEnvelopeCodec, withDeadLetterTopics } from '@custody/event-bus';
import { createLogger, createServiceDataSource, provisionServiceDatabase, runMigrations } from '@custody/platform';
import { CHAIN_ADAPTER_ENTITIES, CHAIN_ADAPTER_MIGRATIONS, EvmJsonRpc, prefixedTopics, startChainAdapter } from '@custody/chain-adapter';

const { values } = parseArgs({
  options: {
    prepare: { type: 'string', default: '500' },
    final: { type: 'string', default: '20' },
    'block-ms': { type: 'string', default: '250' },
    confirmations: { type: 'string', default: '3' },
    concurrency: { type: 'string', default: '6' },
  },
});
const N = Number(values.prepare);
const M = Number(values.final);
const blockMs = Number(values['block-ms']);
const depth = Number(values.confirmations);
const concurrency = Number(values.concurrency);
for (const [k, v] of Object.entries({ prepare: N, final: M, 'block-ms': blockMs, confirmations: depth, concurrency })) {
  if (!Number.isInteger(v) || v < 1) throw new Error(`--${k} must be a positive integer`);
}
const env = (name: string): string => {
  const v = process.env[name];
  if (!v) throw new Error(`${name} is not set: run npm run infra:up, then scripts/bench.sh chain-adapter`);
  return v;
};
const rand = (): string => randomBytes(5).toString('hex');
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const a = s.address();
      s.close(() => (typeof a === 'object' && a ? resolve(a.port) : reject(new Error('no port'))));
    });
  });
}

async function until(cond: () => boolean | Promise<boolean>, timeoutMs: number, what: string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await cond())) {
    if (Date.now() > deadline) throw new Error(`timed out: ${what}`);
    await sleep(20);
  }
}

const pct = (sorted: number[], p: number): number => sorted[Math.min(sorted.length - 1, Math.floor((sorted.length * p) / 100))] ?? NaN;

async function main(): Promise<void> {
  // anvil
  const port = await freePort();
  const anvilProc = spawn(path.resolve('node_modules/@foundry-rs/anvil-linux-amd64/bin/anvil'), ['--host', '127.0.0.1', '--port', String(port), '--silent', '--no-mining'], { stdio: 'ignore' });
  const rpc = new EvmJsonRpc({ url: `http://127.0.0.1:${port}` });
  await until(() => rpc.chainId().then(() => true, () => false), 15_000, 'anvil');
  const cleanups: (() => Promise<unknown>)[] = [async () => anvilProc.kill('SIGTERM')];
  try {
    // database
    const adminUrl = env('CUSTODY_PG_ADMIN_URL');
    const suffix = rand();
    const dbName = `chain_adapter_bench_${suffix}`;
    const admin = new pg.Client({ connectionString: adminUrl });
    await admin.connect();
    await admin.query(`CREATE DATABASE "${dbName}"`);
    const dbUrl = new URL(adminUrl);
    dbUrl.pathname = `/${dbName}`;
    const service = `chain_adapter_b${suffix}`;
    const pw = { owner: `o-${rand()}${rand()}`, app: `a-${rand()}${rand()}` };
    const roles = await provisionServiceDatabase(dbUrl.toString(), { service, ownerPassword: pw.owner, appPassword: pw.app });
    cleanups.push(async () => {
      await admin.query(`DROP DATABASE IF EXISTS "${dbName}" WITH (FORCE)`);
      await admin.query(`DROP ROLE IF EXISTS "${roles.ownerRole}"`);
      await admin.query(`DROP ROLE IF EXISTS "${roles.appRole}"`);
      await admin.end();
    });
    const url = (user: string, password: string): string => Object.assign(new URL(dbUrl.toString()), { username: user, password }).toString();
    const owner = createServiceDataSource({ service, url: url(roles.ownerRole, pw.owner), entities: CHAIN_ADAPTER_ENTITIES, migrations: CHAIN_ADAPTER_MIGRATIONS });
    await owner.initialize();
    await runMigrations(owner);
    await owner.destroy();
    const probe = new pg.Client({ connectionString: dbUrl.toString() });
    await probe.connect();
    cleanups.push(() => probe.end());

    // kafka
    const prefix = `bench${suffix}.`;
    const kafka = createKafkaClient({ brokers: env('KAFKA_BROKERS').split(','), clientId: `chain-adapter-bench-${suffix}`, logLevel: 'nothing' });
    const kafkaAdmin = kafka.admin();
    await kafkaAdmin.connect();
    await ensureTopics(kafkaAdmin, withDeadLetterTopics(ALL_TOPICS.map((t) => ({ topic: `${prefix}${t}`, partitions: 6 }))));
    cleanups.push(async () => {
      const topics = (await kafkaAdmin.listTopics()).filter((t) => t.startsWith(prefix));
      if (topics.length) await kafkaAdmin.deleteTopics({ topics });
      await kafkaAdmin.disconnect();
    });
    const bus = new KafkaBus({ kafka, consumer: { partitionsConsumedConcurrently: concurrency } });
    cleanups.push(() => bus.close());
    const publish = async <K extends EventType>(type: K, key: string, message: EventMessages[K], correlationId: string = randomUUID()) => {
      const envelope = createEnvelope({ type, key, correlationId, producer: 'bench', schemaVersion: topicVersion(type), payload: encodeEvent(type, message) });
      await bus.publish([{ topic: `${prefix}${type}`, key, value: protobufEnvelopeCodec.encode(envelope) }]);
    };

    // A hot wallet: funded, and registered by a key.lifecycle GENERATED (wallet id → address),
    // as the signer announces its keys; decisions name the wallet id.
    let walletId = '';
    const newWallet = async () => {
      const a = privateKeyToAccount(`0x${randomBytes(32).toString('hex')}`);
      await rpc.call('anvil_setBalance', [a.address, '0x3635c9adc5dea00000']);
      walletId = `bench-hot-${randomBytes(4).toString('hex')}`;
      await publish(Topics.keyLifecycle, `key-${walletId}`, KeyLifecycle.fromPartial({ keyId: `key-${walletId}`, walletId, address: a.address.toLowerCase(), transition: KeyTransition.KEY_TRANSITION_GENERATED, purpose: KeyPurpose.KEY_PURPOSE_SIGNATURE, chain: 'anvil' }));
      return a;
    };
    const registered = () => until(async () => (await probe.query(`SELECT 1 FROM "${roles.schema}"."custody_wallet" WHERE "wallet_id" = $1`, [walletId])).rows.length === 1, 60_000, 'wallet registered');
    let account = await newWallet();
    const decision = (withdrawalId: string) =>
      PolicyDecided.fromPartial({
        decisionId: randomUUID(), withdrawalId, decision: PolicyDecision.POLICY_DECISION_ALLOW, decisionToken: Buffer.from('token'),
        asset: 'ETH', chain: 'anvil', amount: '1000', sourceWallet: walletId, destinationAddress: `0x${randomBytes(20).toString('hex')}`,
      });

    // observer: BROADCAST / FINAL times; stand-in signer for phase 2
    const broadcastAt = new Map<string, number>();
    const finalAt = new Map<string, number>();
    let signing = false;
    const observer = await bus.subscribe({
      groupId: `bench-observer-${suffix}`,
      topics: [`${prefix}${Topics.txStatus}`, `${prefix}${Topics.txPrepared}`],
      fromBeginning: true,
      handler: async (message) => {
        const envelope = protobufEnvelopeCodec.decode(message.value);
        const event = decodePayload(envelope);
        if (event.type === Topics.txStatus) {
          if (event.message.state === TxState.TX_STATE_BROADCAST && !broadcastAt.has(event.message.withdrawalId)) broadcastAt.set(event.message.withdrawalId, Date.now());
          if (event.message.state === TxState.TX_STATE_FINAL) finalAt.set(event.message.withdrawalId, Date.now());
        } else if (event.type === Topics.txPrepared && signing) {
          const m = event.message;
          if (m.sourceAddress !== account.address.toLowerCase()) return; // phase-1 withdrawals stay unsigned
          const raw = await account.signTransaction(parseTransaction(`0x${Buffer.from(m.unsignedTx).toString('hex')}` as Hex) as never);
          await publish(Topics.txSigned, m.sourceWallet, TxSigned.fromPartial({ withdrawalId: m.withdrawalId, decisionId: m.decisionId, chain: m.chain, sourceWallet: m.sourceWallet, signedTx: Buffer.from(raw.slice(2), 'hex'), txHash: keccak256(raw) }), envelope.correlationId);
        }
      },
    });
    cleanups.push(() => observer.stop());

    const genesisHash = await rpc.genesisHash();
    const adapter = await startChainAdapter({
      bus,
      database: { url: url(roles.appRole, pw.app), schema: roles.schema },
      logger: createLogger({ service: 'chain-adapter-bench', level: 'error' }),
      rpcUrl: `http://127.0.0.1:${port}`,
      profile: { asset: 'ETH', chain: 'anvil', chainId: 31337n, genesisHash, confirmations: depth, gasLimit: 21_000n, fees: { maxFeePerGas: 100_000_000_000n, maxPriorityFeePerGas: 2_000_000_000n, minPriorityFeePerGas: 1_000_000n } },
      topicName: prefixedTopics(prefix),
      consumerGroupId: `${prefix}chain-adapter`,
      outboxPollIntervalMs: 20,
      pollIntervalMs: 100,
    });
    cleanups.push(() => adapter.stop());
    await registered();

    // 1. prepared tx/s, one wallet
    const ids = Array.from({ length: N }, () => randomUUID());
    const t0 = performance.now();
    for (let i = 0; i < ids.length; i += 100) await Promise.all(ids.slice(i, i + 100).map((id) => publish(Topics.policyDecided, id, decision(id))));
    await until(async () => Number((await probe.query(`SELECT count(*) AS n FROM "${roles.schema}"."withdrawal_tx"`)).rows[0].n) >= N, 300_000, 'prepared');
    const prepareS = (performance.now() - t0) / 1000;
    const nonces = (await probe.query(`SELECT min(nonce)::text AS lo, max(nonce)::text AS hi, count(DISTINCT nonce) AS d FROM "${roles.schema}"."withdrawal_tx"`)).rows[0];
    console.log(`prepared: ${N} withdrawals from one wallet in ${prepareS.toFixed(2)} s = ${(N / prepareS).toFixed(0)} prepared tx/s (Kafka in, ${concurrency} partitions handled at once → nonce row lock → outbox; nonces ${nonces.lo}..${nonces.hi}, ${nonces.d} distinct)`);

    // 2. broadcast → final (a fresh wallet state: the N unsigned ones are never signed, so use another wallet)
    account = await newWallet();
    await registered();
    signing = true;
    const miner = setInterval(() => void rpc.call('evm_mine').catch(() => undefined), blockMs);
    cleanups.push(async () => clearInterval(miner));
    const finals = Array.from({ length: M }, () => randomUUID());
    for (const id of finals) await publish(Topics.policyDecided, id, decision(id));
    await until(() => finals.every((id) => finalAt.has(id)), 120_000, 'final');
    const durations = finals.map((id) => (finalAt.get(id) ?? NaN) - (broadcastAt.get(id) ?? NaN)).sort((a, b) => a - b);
    console.log(`broadcast → FINAL (${depth} confirmations, a block every ${blockMs} ms, follower poll 100 ms): n=${M} p50 ${pct(durations, 50).toFixed(0)} ms, p95 ${pct(durations, 95).toFixed(0)} ms, max ${durations.at(-1)?.toFixed(0)} ms (floor ≈ ${depth} × ${blockMs} ms)`);
  } finally {
    for (const c of cleanups.reverse()) await c().catch(() => undefined);
  }
}

main().then(
  () => process.exit(0),
  (err: unknown) => {
    console.error(err);
    process.exit(1);
  },
);
