// Fail closed (C-8.2.4.3-c): without a valid policy bundle the service does not start and
// nothing is decided, over REAL Kafka and PostgreSQL.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { ed25519 } from '@noble/curves/ed25519.js';
import { RiskAssessed, RiskVerdict, Topics, WithdrawalRequested, encodeEvent, timestampFromDate, topicVersion, type EventMessages, type EventType } from '@custody/contracts';
import { KafkaBus, createEnvelope, createKafkaClient, protobufEnvelopeCodec } from '@custody/event-bus';
import { parseBundleArchive } from '../../src/adapters/opa/bundle-archive.js';
import { localDecisionSigner, prefixedTopics, startPolicy, type PolicyDeps } from '../../src/index.js';
import { TestClock, buildBundles, createPrefixedTopics, createTestDatabase, deletePrefixedTopics, directoryOf, quietLogger, rand, requireEnv, type Bundles, type TestDatabase } from './support.js';

const prefix = `pf${rand()}.`;
let db: TestDatabase;
let bundles: Bundles;
let bus: KafkaBus;

const deps = (overrides: Partial<PolicyDeps>): PolicyDeps => ({
  bus,
  database: { url: db.appUrl, schema: db.schema },
  logger: quietLogger(),
  clock: new TestClock(new Date('2025-06-02T10:00:00Z')),
  grpc: { port: 0, credentials: { kind: 'insecure' } },
  signer: localDecisionSigner('k1', ed25519.utils.randomSecretKey()),
  operators: directoryOf([]),
  facts: { factsFor: () => Promise.resolve({}) },
  topicName: prefixedTopics(prefix),
  consumerGroupId: `policy-${rand()}`,
  outboxPollIntervalMs: 50,
  ...overrides,
});

async function publish<K extends EventType>(type: K, key: string, message: EventMessages[K]): Promise<void> {
  const envelope = createEnvelope({ type, key, correlationId: `c-${rand()}`, producer: 'test', schemaVersion: topicVersion(type), payload: encodeEvent(type, message) });
  await bus.publish([{ topic: `${prefix}${type}`, key, value: protobufEnvelopeCodec.encode(envelope) }]);
}

const count = async (table: string): Promise<number> => Number((await db.admin<{ n: string }>(`SELECT count(*)::text AS n FROM ${table}`))[0]?.n);

beforeAll(async () => {
  [db, bundles] = await Promise.all([createTestDatabase(), buildBundles()]);
  await createPrefixedTopics(prefix);
  bus = new KafkaBus({ kafka: createKafkaClient({ brokers: requireEnv('KAFKA_BROKERS').split(','), clientId: `policy-fc-${rand()}`, logLevel: 'nothing' }) });
  // Work waiting on the bus: a withdrawal and its clean screening.
  const id = `wd-${rand()}`;
  await publish(Topics.withdrawalRequested, id, WithdrawalRequested.fromPartial({ withdrawalId: id, clientId: 'c', customerAccount: 'acct-inst-1', asset: 'BTC', amount: '1000', destinationAddress: 'bc1qx' }));
  await publish(Topics.riskAssessed, id, RiskAssessed.fromPartial({ assessmentId: 'a', withdrawalId: id, verdict: RiskVerdict.RISK_VERDICT_CLEAR, assessedAt: timestampFromDate(new Date('2025-06-02T09:59:00Z')) }));
}, 180_000);

afterAll(async () => {
  await bus?.close();
  await deletePrefixedTopics(prefix).catch(() => undefined);
  await db?.drop();
  await bundles?.cleanup();
}, 60_000);

describe('C-8.2.4.3-c / C-9.3.2-a fail closed: no valid, vouched-for policy bundle → the service refuses to start and decides nothing', () => {
  it('refuses to start with no bundle at all', async () => {
    await expect(startPolicy(deps({}))).rejects.toMatchObject({ code: 'NO_ACTIVE_BUNDLE' });
  });

  it('refuses to start with a bundle that is not a Wasm bundle (garbage, truncated)', async () => {
    await expect(startPolicy(deps({ bootstrapBundle: new TextEncoder().encode('not a bundle') }))).rejects.toMatchObject({ code: 'POLICY_BUNDLE_INVALID' });
    await expect(startPolicy(deps({ bootstrapBundle: bundles.current.subarray(0, 200) }))).rejects.toMatchObject({ code: 'POLICY_BUNDLE_INVALID' });
  });

  it('decided nothing: no decision, no bundle recorded, nothing in the outbox', async () => {
    expect(await count('decision')).toBe(0);
    expect(await count('policy_bundle')).toBe(0);
    expect(await count('outbox')).toBe(0);
  });

  it('a restart uses the stored active bundle only if it is still vouched for; a tampered archive refuses to start', async () => {
    const handle = await startPolicy(deps({ bootstrapBundle: bundles.current }));
    const digest = parseBundleArchive(bundles.current).digest;
    expect(handle.bundles.activeDigest).toBe(digest);
    await handle.stop();
    const again = await startPolicy(deps({ bootstrapBundle: bundles.current }));
    expect(again.bundles.activeDigest).toBe(digest);
    await again.stop();
    // Another bootstrap file does not switch the policy (that takes an admin quorum), and
    // the stored bootstrap bundle is no longer vouched for by the deployment: no start.
    await expect(startPolicy(deps({ bootstrapBundle: bundles.candidate }))).rejects.toMatchObject({ code: 'STORED_BUNDLE_UNVERIFIED' });
    // A row marked active without a quorum (written straight into the database): no start.
    await db.admin(`INSERT INTO policy_bundle (digest, archive, state, activated_by, signatures, activated_at) VALUES ($1, $2, 'active', '{admin-1,admin-2}', '[]', now())`, [
      parseBundleArchive(bundles.candidate).digest,
      Buffer.from(bundles.candidate),
    ]);
    await db.admin(`UPDATE policy_bundle SET state = 'retired' WHERE digest = $1`, [digest]);
    await expect(startPolicy(deps({ bootstrapBundle: bundles.current }))).rejects.toMatchObject({ code: 'STORED_BUNDLE_UNVERIFIED' });
    await db.admin(`DELETE FROM policy_bundle WHERE digest <> $1`, [digest]);
    await db.admin(`UPDATE policy_bundle SET state = 'active', archive = $1`, [Buffer.from('tampered')]);
    await expect(startPolicy(deps({ bootstrapBundle: bundles.current }))).rejects.toMatchObject({ code: 'POLICY_BUNDLE_INVALID' });
  });
});
