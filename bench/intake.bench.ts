// Accepted SubmitWithdrawal/s and p50/p99 latency at a fixed concurrency, over real gRPC
// (loopback, plaintext) + real PostgreSQL + the real Kafka broker (the outbox relay runs).
// Each request is a distinct, Ed25519-signed withdrawal (fresh nonce, fresh idempotency key).
// Run: scripts/bench.sh intake [--requests 2000] [--concurrency 32]
import { randomBytes, randomUUID } from 'node:crypto';
import { parseArgs } from 'node:util';
import { credentials, Metadata } from '@grpc/grpc-js';
import { ed25519 } from '@noble/curves/ed25519.js';
import pg from 'pg';
import { ALL_TOPICS, CustodyGatewayServiceClient } from '@custody/contracts';
import { KafkaBus, createKafkaClient, ensureTopics, withDeadLetterTopics } from '@custody/event-bus';
import { createLogger, createServiceDataSource, provisionServiceDatabase, runMigrations } from '@custody/platform';
import { AuthHeaders, INTAKE_ENTITIES, INTAKE_MIGRATIONS, encodeSigningInput, prefixedTopics, startIntake } from '@custody/intake';

const { values } = parseArgs({ options: { requests: { type: 'string', default: '2000' }, concurrency: { type: 'string', default: '32' } } });
const requests = Number(values.requests);
const concurrency = Number(values.concurrency);
if (!Number.isInteger(requests) || requests < 1 || !Number.isInteger(concurrency) || concurrency < 1) throw new Error('--requests and --concurrency must be positive integers');
const env = (name: string): string => {
  const v = process.env[name];
  if (!v) throw new Error(`${name} is not set: run npm run infra:up, then scripts/bench.sh intake`);
  return v;
};
const rand = (): string => randomBytes(5).toString('hex');

async function main(): Promise<void> {
  const adminUrl = env('CUSTODY_PG_ADMIN_URL');
  const suffix = rand();
  const dbName = `intake_bench_${suffix}`;
  const admin = new pg.Client({ connectionString: adminUrl });
  await admin.connect();
  await admin.query(`CREATE DATABASE "${dbName}"`);
  const dbUrl = new URL(adminUrl);
  dbUrl.pathname = `/${dbName}`;
  const service = `intake_b${suffix}`;
  const pw = { owner: `o-${rand()}${rand()}`, app: `a-${rand()}${rand()}` };
  const roles = await provisionServiceDatabase(dbUrl.toString(), { service, ownerPassword: pw.owner, appPassword: pw.app });
  const url = (user: string, password: string): string => Object.assign(new URL(dbUrl.toString()), { username: user, password }).toString();
  const owner = createServiceDataSource({ service, url: url(roles.ownerRole, pw.owner), entities: INTAKE_ENTITIES, migrations: INTAKE_MIGRATIONS });
  await owner.initialize();
  await runMigrations(owner);
  await owner.destroy();

  const prefix = `bench${suffix}.`;
  const kafka = createKafkaClient({ brokers: env('KAFKA_BROKERS').split(','), clientId: `intake-bench-${suffix}`, logLevel: 'nothing' });
  const kafkaAdmin = kafka.admin();
  await kafkaAdmin.connect();
  await ensureTopics(kafkaAdmin, withDeadLetterTopics(ALL_TOPICS.map((t) => ({ topic: `${prefix}${t}`, partitions: 6 }))));
  const bus = new KafkaBus({ kafka });
  const intake = await startIntake({
    bus,
    database: { url: url(roles.appRole, pw.app), schema: roles.schema },
    logger: createLogger({ service: 'intake-bench', level: 'error' }),
    grpc: { port: 0, credentials: { kind: 'insecure' } },
    perSourceLimit: { ratePerSecond: 1_000_000, burst: 1_000_000 },
    topicName: prefixedTopics(prefix),
    consumerGroupId: `${prefix}intake`,
  });
  const secret = ed25519.utils.randomSecretKey();
  await intake.integrators.register(
    { clientId: 'bench', scopes: ['withdraw'], allowedAssets: ['ETH'], rateLimit: { ratePerSecond: 1_000_000, burst: 1_000_000 }, keys: [{ keyId: 'k1', publicKey: ed25519.getPublicKey(secret) }], customerAccounts: ['acct-1'] },
    new Date(),
  );
  const client = new CustodyGatewayServiceClient(`127.0.0.1:${intake.grpcPort}`, credentials.createInsecure());

  const submitOne = (i: number): Promise<void> => {
    const req = { idempotencyKey: `b-${i}-${randomUUID()}`, customerAccount: 'acct-1', asset: 'ETH', amount: String(1000 + i), destinationAddress: '0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed', destinationTag: '', clientReference: '', signatureKeyId: '', signature: Buffer.alloc(0) };
    const nonce = randomUUID().replace(/-/g, '');
    const ts = Date.now();
    const body: [string, string][] = [['idempotency_key', req.idempotencyKey], ['customer_account', req.customerAccount], ['asset', req.asset], ['amount', req.amount], ['destination_address', req.destinationAddress], ['destination_tag', ''], ['client_reference', '']];
    const sig = ed25519.sign(encodeSigningInput({ method: '/custody.intake.v1.CustodyGatewayService/SubmitWithdrawal', clientId: 'bench', keyId: 'k1', timestampMs: ts, nonce, body }), secret);
    const md = new Metadata();
    md.set(AuthHeaders.clientId, 'bench');
    md.set(AuthHeaders.keyId, 'k1');
    md.set(AuthHeaders.timestamp, String(ts));
    md.set(AuthHeaders.nonce, nonce);
    md.set(AuthHeaders.signature, Buffer.from(sig).toString('base64'));
    return new Promise((resolve, reject) => client.submitWithdrawal(req, md, (err) => (err ? reject(err) : resolve())));
  };

  // Warm-up (connections, JIT), not measured.
  await Promise.all(Array.from({ length: Math.min(100, concurrency * 2) }, (_, i) => submitOne(-1 - i)));

  const latencies: number[] = [];
  let next = 0;
  let failed = 0;
  const started = process.hrtime.bigint();
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      for (let i = next++; i < requests; i = next++) {
        const t0 = process.hrtime.bigint();
        try {
          await submitOne(i);
          latencies.push(Number(process.hrtime.bigint() - t0) / 1e6);
        } catch {
          failed++;
        }
      }
    }),
  );
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  latencies.sort((a, b) => a - b);
  const q = (p: number): number => latencies[Math.min(latencies.length - 1, Math.floor(p * latencies.length))] ?? NaN;
  console.log(`intake SubmitWithdrawal over gRPC + Postgres (+ outbox relay to Kafka), concurrency ${concurrency}, ${requests} requests`);
  console.log(`  accepted: ${latencies.length}, failed: ${failed}, wall: ${seconds.toFixed(2)} s`);
  console.log(`  throughput: ${(latencies.length / seconds).toFixed(0)} accepted SubmitWithdrawal/s`);
  console.log(`  latency: p50 ${q(0.5).toFixed(1)} ms, p99 ${q(0.99).toFixed(1)} ms, max ${(latencies[latencies.length - 1] ?? NaN).toFixed(1)} ms`);

  client.close();
  await intake.stop();
  await bus.close();
  const topics = (await kafkaAdmin.listTopics()).filter((t) => t.startsWith(prefix));
  if (topics.length > 0) await kafkaAdmin.deleteTopics({ topics });
  await kafkaAdmin.disconnect();
  await admin.query(`DROP DATABASE IF EXISTS "${dbName}" WITH (FORCE)`);
  await admin.query(`DROP ROLE IF EXISTS "${roles.ownerRole}"`);
  await admin.query(`DROP ROLE IF EXISTS "${roles.appRole}"`);
  await admin.end();
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
