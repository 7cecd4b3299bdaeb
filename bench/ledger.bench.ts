// Ledger postings/s on this machine, real PostgreSQL (+ the real Kafka broker for the
// event-driven figure):
//   1. hold + settle postings through the use cases at a fixed concurrency, spread over
//      --accounts customer accounts (each posting: one transaction, journal lines, balance
//      rows updated by the trigger, zero-sum check at commit);
//   2. the same on ONE account (every posting contends for one balance row);
//   3. event-driven: N withdrawal.requested events published to Kafka and posted (inbox +
//      hold per event) until all are in the books.
// Run: bash scripts/bench.sh ledger [--postings 4000] [--concurrency 16] [--accounts 64] [--events 3000]
import { randomBytes, randomUUID } from 'node:crypto';
import { parseArgs } from 'node:util';
import pg from 'pg';
import { ALL_TOPICS, Topics, WithdrawalRequested, encodeEvent, topicVersion } from '@custody/contracts';
import { KafkaBus, createEnvelope, createKafkaClient, ensureTopics, protobufEnvelopeCodec, withDeadLetterTopics } from '@custody/event-bus';
import { createLogger, createServiceDataSource, provisionServiceDatabase, runMigrations } from '@custody/platform';
import { LEDGER_ENTITIES, LEDGER_MIGRATIONS, prefixedTopics, startLedger, type PostingOutcome } from '@custody/ledger';

const { values } = parseArgs({
  options: { postings: { type: 'string', default: '4000' }, concurrency: { type: 'string', default: '16' }, accounts: { type: 'string', default: '64' }, events: { type: 'string', default: '3000' } },
});
const postings = Number(values.postings);
const concurrency = Number(values.concurrency);
const accounts = Number(values.accounts);
const events = Number(values.events);
for (const [name, v] of [['postings', postings], ['concurrency', concurrency], ['accounts', accounts], ['events', events]] as const) {
  if (!Number.isInteger(v) || v < 1) throw new Error(`--${name} must be a positive integer`);
}
const env = (name: string): string => {
  const v = process.env[name];
  if (!v) throw new Error(`${name} is not set: run npm run infra:up, then scripts/bench.sh ledger`);
  return v;
};
const rand = (): string => randomBytes(5).toString('hex');

async function main(): Promise<void> {
  const adminUrl = env('CUSTODY_PG_ADMIN_URL');
  const suffix = rand();
  const dbName = `ledger_bench_${suffix}`;
  const admin = new pg.Client({ connectionString: adminUrl });
  await admin.connect();
  await admin.query(`CREATE DATABASE "${dbName}"`);
  const dbUrl = new URL(adminUrl);
  dbUrl.pathname = `/${dbName}`;
  const service = `ledger_b${suffix}`;
  const pw = { owner: `o-${rand()}${rand()}`, app: `a-${rand()}${rand()}` };
  const roles = await provisionServiceDatabase(dbUrl.toString(), { service, ownerPassword: pw.owner, appPassword: pw.app });
  const url = (user: string, password: string): string => Object.assign(new URL(dbUrl.toString()), { username: user, password }).toString();
  const owner = createServiceDataSource({ service, url: url(roles.ownerRole, pw.owner), entities: LEDGER_ENTITIES, migrations: LEDGER_MIGRATIONS });
  await owner.initialize();
  await runMigrations(owner);
  await owner.destroy();

  const prefix = `bench${suffix}.`;
  const kafka = createKafkaClient({ brokers: env('KAFKA_BROKERS').split(','), clientId: `ledger-bench-${suffix}`, logLevel: 'nothing' });
  const kafkaAdmin = kafka.admin();
  await kafkaAdmin.connect();
  await ensureTopics(kafkaAdmin, withDeadLetterTopics(ALL_TOPICS.map((t) => ({ topic: `${prefix}${t}`, partitions: 6 }))));
  const bus = new KafkaBus({ kafka });
  let posted = 0;
  const ledger = await startLedger({
    bus,
    database: { url: url(roles.appRole, pw.app), schema: roles.schema },
    logger: createLogger({ service: 'ledger-bench', level: 'error' }),
    topicName: prefixedTopics(prefix),
    consumerGroupId: `${prefix}ledger`,
    poolSize: Math.max(concurrency + 4, 20),
    onPosted: () => void posted++,
  });
  const ctx = () => ({ eventId: randomUUID(), correlationId: randomUUID() });
  const tx = <T>(work: (t: unknown) => Promise<T>): Promise<T> => ledger.store.transaction(work);

  // The hot wallet the settlements leave from (as key.lifecycle registers it), and funding (not measured).
  const HOT_WALLET = 'eth-hot-01';
  await tx((t) => ledger.postings.registerWallet({ keyId: 'bench-k1', signatureKey: true, walletId: HOT_WALLET, tier: 'hot', chain: 'ethereum', address: '', at: new Date() }, t));
  for (let a = 0; a < accounts; a++) await tx((t) => ledger.postings.depositFinal({ depositId: `fund-${a}`, clientId: 'bench', customerAccount: `acct-${a}`, asset: 'ETH', amount: 10n ** 30n }, ctx(), t));
  await tx((t) => ledger.postings.depositFinal({ depositId: 'fund-one', clientId: 'bench', customerAccount: 'one', asset: 'ETH', amount: 10n ** 30n }, ctx(), t));

  const run = async (label: string, accountOf: (i: number) => string): Promise<void> => {
    // Each unit = hold (1 posting) then settle with a fee (1 posting).
    const units = Math.ceil(postings / 2);
    let next = 0;
    const bad: PostingOutcome[] = [];
    const started = process.hrtime.bigint();
    await Promise.all(
      Array.from({ length: concurrency }, async () => {
        for (let i = next++; i < units; i = next++) {
          const id = randomUUID();
          const h = await tx((t) => ledger.postings.withdrawalRequested({ withdrawalId: id, clientId: 'bench', customerAccount: accountOf(i), asset: 'ETH', chain: 'ethereum', amount: 1_000n + BigInt(i) }, ctx(), t));
          const s = await tx((t) => ledger.postings.settle(id, HOT_WALLET, 21_000n, ctx(), t));
          if (h !== 'held') bad.push(h);
          if (s !== 'settled') bad.push(s);
        }
      }),
    );
    const seconds = Number(process.hrtime.bigint() - started) / 1e9;
    if (bad.length > 0) throw new Error(`unexpected outcomes: ${bad.slice(0, 5).join(', ')}`);
    console.log(`${label}: ${units * 2} postings in ${seconds.toFixed(2)} s: ${((units * 2) / seconds).toFixed(0)} postings/s (concurrency ${concurrency})`);
  };

  console.log('ledger postings (Postgres: journal entry + lines, balance rows by trigger, zero-sum check at commit)');
  await run(`  hold+settle over ${accounts} accounts`, (i) => `acct-${i % accounts}`);
  await run('  hold+settle on one account', () => 'one');

  // Event-driven holds.
  const before = posted;
  const envelopes = Array.from({ length: events }, (_, i) => {
    const withdrawalId = randomUUID();
    const payload = encodeEvent(Topics.withdrawalRequested, WithdrawalRequested.fromPartial({ withdrawalId, clientId: 'bench', customerAccount: `acct-${i % accounts}`, asset: 'ETH', chain: 'ethereum', amount: '1000' }));
    return createEnvelope({ type: Topics.withdrawalRequested, key: withdrawalId, correlationId: withdrawalId, producer: 'intake', schemaVersion: topicVersion(Topics.withdrawalRequested), payload });
  });
  const started = process.hrtime.bigint();
  for (let i = 0; i < envelopes.length; i += 500) {
    await bus.publish(envelopes.slice(i, i + 500).map((e) => ({ topic: `${prefix}${Topics.withdrawalRequested}`, key: e.key, value: protobufEnvelopeCodec.encode(e) })));
  }
  const deadline = Date.now() + 300_000;
  while (posted < before + events) {
    if (Date.now() > deadline) throw new Error('timed out waiting for the events to be posted');
    await new Promise((r) => setTimeout(r, 20));
  }
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  console.log(`event-driven holds (Kafka -> inbox + hold per event, 6 partitions): ${events} events in ${seconds.toFixed(2)} s: ${(events / seconds).toFixed(0)} postings/s`);

  const check = new pg.Client({ connectionString: dbUrl.toString() });
  await check.connect();
  const unbalanced = (await check.query(`SELECT count(*)::int AS n FROM (SELECT 1 FROM "${roles.schema}".journal_line GROUP BY entry_id, asset HAVING sum(amount) <> 0) x`)).rows[0]?.n as number;
  await check.end();
  console.log(`  check: unbalanced entries after the run: ${unbalanced}`);

  await ledger.stop();
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
