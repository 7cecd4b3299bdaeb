// Audit appends/s on this machine, real PostgreSQL (+ the real Kafka broker for the
// consumer figure):
//   1. operator-action appends through the AuditGate at a fixed concurrency (each append
//      takes the chain-head row lock: this is the single-writer ceiling);
//   2. bus events recorded/s: N envelopes published to Kafka, consumed by audit (inbox +
//      append in one transaction per event) until all are in the chain;
//   3. verification speed (records/s) of the whole chain.
// Run: bash scripts/bench.sh audit [--appends 3000] [--concurrency 16] [--events 3000]
import { randomBytes, randomUUID } from 'node:crypto';
import { parseArgs } from 'node:util';
import pg from 'pg';
import { ALL_TOPICS, Topics } from '@custody/contracts';
import { KafkaBus, createEnvelope, createKafkaClient, ensureTopics, protobufEnvelopeCodec, withDeadLetterTopics } from '@custody/event-bus';
import { createLogger, createServiceDataSource, provisionServiceDatabase, runMigrations } from '@custody/platform';
import { AUDIT_ENTITIES, AUDIT_MIGRATIONS, LocalEd25519Signer, prefixedTopics, startAudit } from '@custody/audit';

const { values } = parseArgs({ options: { appends: { type: 'string', default: '3000' }, concurrency: { type: 'string', default: '16' }, events: { type: 'string', default: '3000' } } });
const appends = Number(values.appends);
const concurrency = Number(values.concurrency);
const events = Number(values.events);
for (const [name, v] of [['appends', appends], ['concurrency', concurrency], ['events', events]] as const) {
  if (!Number.isInteger(v) || v < 1) throw new Error(`--${name} must be a positive integer`);
}
const env = (name: string): string => {
  const v = process.env[name];
  if (!v) throw new Error(`${name} is not set: run npm run infra:up, then scripts/bench.sh audit`);
  return v;
};
const rand = (): string => randomBytes(5).toString('hex');

async function main(): Promise<void> {
  const adminUrl = env('CUSTODY_PG_ADMIN_URL');
  const suffix = rand();
  const dbName = `audit_bench_${suffix}`;
  const admin = new pg.Client({ connectionString: adminUrl });
  await admin.connect();
  await admin.query(`CREATE DATABASE "${dbName}"`);
  const dbUrl = new URL(adminUrl);
  dbUrl.pathname = `/${dbName}`;
  const service = `audit_b${suffix}`;
  const pw = { owner: `o-${rand()}${rand()}`, app: `a-${rand()}${rand()}` };
  const roles = await provisionServiceDatabase(dbUrl.toString(), { service, ownerPassword: pw.owner, appPassword: pw.app });
  const url = (user: string, password: string): string => Object.assign(new URL(dbUrl.toString()), { username: user, password }).toString();
  const owner = createServiceDataSource({ service, url: url(roles.ownerRole, pw.owner), entities: AUDIT_ENTITIES, migrations: AUDIT_MIGRATIONS });
  await owner.initialize();
  await runMigrations(owner);
  await owner.destroy();

  const prefix = `bench${suffix}.`;
  const kafka = createKafkaClient({ brokers: env('KAFKA_BROKERS').split(','), clientId: `audit-bench-${suffix}`, logLevel: 'nothing' });
  const kafkaAdmin = kafka.admin();
  await kafkaAdmin.connect();
  await ensureTopics(kafkaAdmin, withDeadLetterTopics(ALL_TOPICS.map((t) => ({ topic: `${prefix}${t}`, partitions: 6 }))));
  const bus = new KafkaBus({ kafka });
  const audit = await startAudit({
    bus,
    database: { url: url(roles.appRole, pw.app), schema: roles.schema },
    logger: createLogger({ service: 'audit-bench', level: 'error' }),
    signer: LocalEd25519Signer.generate('bench-k1'),
    checkpointIntervalMs: 0,
    topicName: prefixedTopics(prefix),
    consumerGroupId: `${prefix}audit`,
  });
  const dbAdmin = new pg.Client({ connectionString: dbUrl.toString() });
  await dbAdmin.connect();
  const recorded = async (): Promise<number> => Number((await dbAdmin.query(`SELECT last_sequence::int AS n FROM "${roles.schema}".audit_chain`)).rows[0]?.n);

  const action = (i: number) => ({
    operatorId: `op-${i % 5}`,
    action: 'policy.bundle.activate',
    target: `bundle-${i}`,
    deviceId: 'bench-terminal',
    sourceIp: '10.0.0.1',
    requestId: randomUUID(),
    approvalIds: ['a1', 'a2'],
    correlationId: randomUUID(),
    occurredAt: new Date(),
  });

  // 1. AuditGate appends (warm-up first, not measured).
  await Promise.all(Array.from({ length: 50 }, (_, i) => audit.gate.record(action(-1 - i))));
  let next = 0;
  const started = process.hrtime.bigint();
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      for (let i = next++; i < appends; i = next++) await audit.gate.record(action(i));
    }),
  );
  const appendSeconds = Number(process.hrtime.bigint() - started) / 1e9;
  console.log(`audit appends through the AuditGate (Postgres, chain-head row lock), concurrency ${concurrency}`);
  console.log(`  ${appends} appends in ${appendSeconds.toFixed(2)} s: ${(appends / appendSeconds).toFixed(0)} appends/s`);

  // 2. Bus events: publish, then wait until every one is in the chain.
  const before = await recorded();
  const envelopes = Array.from({ length: events }, (_, i) =>
    createEnvelope({ type: Topics.withdrawalStatus, key: `w${i % 64}`, correlationId: `c${i}`, producer: 'intake', schemaVersion: 1, payload: randomBytes(200) }),
  );
  const consumeStarted = process.hrtime.bigint();
  for (let i = 0; i < envelopes.length; i += 500) {
    await bus.publish(envelopes.slice(i, i + 500).map((e) => ({ topic: `${prefix}${Topics.withdrawalStatus}`, key: e.key, value: protobufEnvelopeCodec.encode(e) })));
  }
  const deadline = Date.now() + 300_000;
  while ((await recorded()) < before + events) {
    if (Date.now() > deadline) throw new Error('timed out waiting for the events to be recorded');
    await new Promise((r) => setTimeout(r, 20));
  }
  const consumeSeconds = Number(process.hrtime.bigint() - consumeStarted) / 1e9;
  console.log(`audit recording bus events (Kafka -> inbox + append per event, 6 partitions)`);
  console.log(`  ${events} events published and recorded in ${consumeSeconds.toFixed(2)} s: ${(events / consumeSeconds).toFixed(0)} events/s`);

  // 3. Verification.
  const verifyStarted = process.hrtime.bigint();
  await audit.checkpoint();
  const report = await audit.verify();
  const verifySeconds = Number(process.hrtime.bigint() - verifyStarted) / 1e9;
  if (!report.ok) throw new Error(`chain does not verify: ${JSON.stringify(report.firstBreak, (_, v: unknown) => (typeof v === 'bigint' ? v.toString() : v))}`);
  console.log(`verification of the whole chain: ${report.recordsChecked} records in ${verifySeconds.toFixed(2)} s: ${(report.recordsChecked / verifySeconds).toFixed(0)} records/s`);

  await dbAdmin.end();
  await audit.stop();
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
  process.exitCode = 1;
});
