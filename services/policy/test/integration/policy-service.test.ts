// The policy service over REAL Kafka, PostgreSQL and the compiled Wasm bundle:
// withdrawal.requested + risk.assessed in → decision stored → policy.decided out (outbox),
// operator approvals over gRPC, admin-quorum bundle activation, backtest.
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { Metadata, credentials, status } from '@grpc/grpc-js';
import { ed25519 } from '@noble/curves/ed25519.js';
import {
  ApprovalServiceClient,
  PolicyDecided,
  PolicyDecision,
  RiskVerdict,
  Topics,
  WithdrawalRequested,
  RiskAssessed,
  decodePayload,
  encodeEvent,
  timestampFromDate,
  timestampToDate,
  topicVersion,
  type ApproveResponse,
  type EventMessages,
  type EventType,
  type ListPendingApprovalsResponse,
  type PendingApproval,
} from '@custody/contracts';
import { KafkaBus, createEnvelope, createKafkaClient, protobufEnvelopeCodec, type Envelope, type Subscription } from '@custody/event-bus';
import { parseBundleArchive } from '../../src/adapters/opa/bundle-archive.js';
import { expirePending } from '../../src/application/decisions.js';
import { runBacktestCli } from '../../src/cli/backtest.js';
import { runPolicyBundleCli } from '../../src/cli/policy-bundle.js';
import { createMetrics } from '@custody/platform';
import {
  approvalSigningBytes,
  bundleActivationBytes,
  createPolicyBusMetrics,
  localDecisionSigner,
  prefixedTopics,
  startPolicy,
  verifyDecisionToken,
  type ApprovalSubject,
  type PolicyHandle,
  type WithdrawalFactsProvider,
} from '../../src/index.js';
import {
  TestClock,
  buildBundles,
  call,
  createPrefixedTopics,
  createTestDatabase,
  deletePrefixedTopics,
  directoryOf,
  failure,
  newOperator,
  quietLogger,
  rand,
  requireEnv,
  subjectOf,
  waitFor,
  type Bundles,
  type TestDatabase,
  type TestOperator,
} from './support.js';

const prefix = `p${rand()}.`;
const clock = new TestClock(new Date('2025-06-02T10:00:00Z'));
const ALICE = newOperator('op-alice', ['compliance']);
const BOB = newOperator('op-bob', ['treasury']);
const DAVE = newOperator('op-dave', ['treasury']);
const ERIN = newOperator('op-erin', ['compliance']);
const FRANK = newOperator('op-frank', ['deployer']);
const ADMIN1 = newOperator('admin-1', ['policy_admin']);
const ADMIN2 = newOperator('admin-2', ['policy_admin']);
const OPERATORS = [ALICE, BOB, DAVE, ERIN, FRANK, ADMIN1, ADMIN2];
const decisionSeed = ed25519.utils.randomSecretKey();
const signer = localDecisionSigner('policy-test-k1', decisionSeed);

const INST_DEST = 'bc1qinstitutionalvaultxxxxxxxxxxxxxxxxxx';
const RETAIL_DEST = 'bc1qretail1paymentsxxxxxxxxxxxxxxxxxxxxx';

/** A fake of the facts port: account facts, the BTC hot wallet, and a ledger hold of the full amount. */
const facts: WithdrawalFactsProvider = {
  factsFor: (r) =>
    Promise.resolve({
      ...(r.customerAccount === 'acct-inst-1' ? { account: { id: 'acct-inst-1', tier: 'institutional', openedAt: '2023-01-01T00:00:00Z' } } : {}),
      ...(r.customerAccount === 'acct-new-1' ? { account: { id: 'acct-new-1', tier: 'retail', openedAt: '2025-05-30T12:00:00Z' } } : {}),
      ...(r.customerAccount === 'acct-retail-1' ? { account: { id: 'acct-retail-1', tier: 'retail', openedAt: '2024-03-15T09:30:00Z' } } : {}),
      ...(r.asset === 'BTC' ? { sourceWallet: { id: 'btc-hot-01', tier: 'hot' as const } } : {}),
      ledgerHold: { id: `hold-${r.withdrawalId}`, amount: r.amount },
    }),
};

let db: TestDatabase;
let bundles: Bundles;
let bus: KafkaBus;
let policy: PolicyHandle;
let client: ApprovalServiceClient;
let observer: Subscription;
const decided: { envelope: Envelope; message: PolicyDecided }[] = [];

async function publish<K extends EventType>(type: K, key: string, message: EventMessages[K], id?: string): Promise<Envelope> {
  const envelope = createEnvelope({ type, key, correlationId: `corr-${rand()}`, producer: 'test', schemaVersion: topicVersion(type), payload: encodeEvent(type, message), ...(id ? { id } : {}) });
  await bus.publish([{ topic: `${prefix}${type}`, key, value: protobufEnvelopeCodec.encode(envelope) }]);
  return envelope;
}

function withdrawal(id: string, o: { account: string; amount: string; dest: string; clientId?: string }): WithdrawalRequested {
  return WithdrawalRequested.fromPartial({
    withdrawalId: id,
    clientId: o.clientId ?? 'client-acme',
    customerAccount: o.account,
    asset: 'BTC',
    chain: 'bitcoin-mainnet',
    amount: o.amount,
    destinationAddress: o.dest,
    requestedAt: timestampFromDate(clock.now()),
  });
}

function assessment(withdrawalId: string, verdict = RiskVerdict.RISK_VERDICT_CLEAR, reasons: { code: string; detail: string }[] = [], score = 12): RiskAssessed {
  return RiskAssessed.fromPartial({
    assessmentId: `as-${withdrawalId}`,
    withdrawalId,
    verdict,
    score,
    reasons,
    assessedAt: timestampFromDate(new Date(clock.now().getTime() - 120_000)),
  });
}

async function submit(id: string, o: Parameters<typeof withdrawal>[1], risk: RiskAssessed = assessment(id)): Promise<void> {
  await publish(Topics.withdrawalRequested, id, withdrawal(id, o));
  await publish(Topics.riskAssessed, id, risk);
}

const decisionsFor = (withdrawalId: string) => decided.filter((d) => d.message.withdrawalId === withdrawalId).map((d) => d.message);

async function firstDecision(withdrawalId: string): Promise<PolicyDecided> {
  await waitFor(() => decisionsFor(withdrawalId).length > 0, 20_000, () => `policy.decided for ${withdrawalId}`);
  return decisionsFor(withdrawalId)[0] as PolicyDecided;
}

async function pendingFor(withdrawalId: string): Promise<PendingApproval> {
  const res = await call<object, ListPendingApprovalsResponse>(client.listPendingApprovals.bind(client) as never, { pageSize: 100, pageToken: '' }, new Metadata());
  const p = res.approvals.find((a) => a.withdrawalId === withdrawalId);
  if (!p) throw new Error(`no pending approval for ${withdrawalId}`);
  return p;
}

function vote(op: TestOperator, p: PendingApproval, role: string, verdict: 'approve' | 'reject' = 'approve', subject: ApprovalSubject = subjectOf(p)): Promise<ApproveResponse> {
  const signature = Buffer.from(ed25519.sign(approvalSigningBytes(subject, op.id, role, verdict), op.secret));
  const req = { decisionId: p.decisionId, operatorId: op.id, role, keyId: op.keyId, signature };
  return verdict === 'approve'
    ? call<object, ApproveResponse>(client.approve.bind(client) as never, req, new Metadata())
    : call<object, ApproveResponse>(client.reject.bind(client) as never, { ...req, reason: 'destination not verified by phone' }, new Metadata());
}

async function count(table: string, where = 'true', params: unknown[] = []): Promise<number> {
  const [r] = await db.admin<{ n: string }>(`SELECT count(*)::text AS n FROM ${table} WHERE ${where}`, params);
  return Number(r?.n);
}

const trusted = () => new Map([[signer.keyId, signer.publicKey]]);

const consumerGroupId = `policy-${rand()}`;
const registry = createMetrics('policy');
const busMetrics = createPolicyBusMetrics(registry, prefixedTopics(prefix), consumerGroupId);

/** GET /metrics, then the value of the one sample `name{labels}` (labels in any order; service="policy" added). */
async function scrape(name: string, labels: Record<string, string> = {}): Promise<number | undefined> {
  const res = await fetch(`${policy.metricsUrl}/metrics`);
  expect(res.status).toBe(200);
  const want = JSON.stringify(Object.entries({ ...labels, service: 'policy' }).sort());
  for (const line of (await res.text()).split('\n')) {
    const m = /^([a-z_]+)(?:\{(.*)\})? (\S+)$/.exec(line);
    if (!m || m[1] !== name) continue;
    const got = [...(m[2] ?? '').matchAll(/([a-z_]+)="([^"]*)"/g)].map((l) => [l[1], l[2]]);
    if (JSON.stringify(got.sort()) === want) return Number(m[3]);
  }
  return undefined;
}

beforeAll(async () => {
  [db, bundles] = await Promise.all([createTestDatabase(), buildBundles()]);
  await createPrefixedTopics(prefix);
  bus = new KafkaBus({ kafka: createKafkaClient({ brokers: requireEnv('KAFKA_BROKERS').split(','), clientId: `policy-test-${rand()}`, logLevel: 'nothing' }), metrics: busMetrics });
  policy = await startPolicy({
    bus,
    database: { url: db.appUrl, schema: db.schema },
    logger: quietLogger(),
    clock,
    grpc: { port: 0, credentials: { kind: 'insecure' } },
    bootstrapBundle: bundles.current,
    signer,
    operators: directoryOf(OPERATORS),
    facts,
    topicName: prefixedTopics(prefix),
    consumerGroupId,
    outboxPollIntervalMs: 50,
    bundlePollIntervalMs: 100,
    metrics: { registry, busMetrics, port: 0 },
  });
  client = new ApprovalServiceClient(`127.0.0.1:${policy.grpcPort}`, credentials.createInsecure());
  observer = await bus.subscribe({
    groupId: `observer-${rand()}`,
    topics: [`${prefix}${Topics.policyDecided}`],
    handler: async (message) => {
      const envelope = protobufEnvelopeCodec.decode(message.value);
      const event = decodePayload(envelope);
      if (event.type === Topics.policyDecided) decided.push({ envelope, message: event.message });
    },
  });
}, 180_000);

afterAll(async () => {
  client?.close();
  await observer?.stop();
  await policy?.stop();
  await bus?.close();
  await deletePrefixedTopics(prefix).catch(() => undefined);
  await db?.drop();
  await bundles?.cleanup();
}, 60_000);

describe('C-8.2.2.5-c automated path bounded by policy: risk.assessed → Wasm decision → policy.decided', () => {
  it('allows a small whitelisted withdrawal (risk first, then the request), with a decision token bound to it', async () => {
    const id = `wd-${rand()}`;
    await publish(Topics.riskAssessed, id, assessment(id));
    await publish(Topics.withdrawalRequested, id, withdrawal(id, { account: 'acct-inst-1', amount: '1000000', dest: INST_DEST }));
    const d = await firstDecision(id);
    expect(d.decision).toBe(PolicyDecision.POLICY_DECISION_ALLOW);
    expect(d.bundleDigest).toBe(parseBundleArchive(bundles.current).digest);
    expect(d.sourceWallet).toBe('btc-hot-01');
    const token = Buffer.from(d.decisionToken).toString('utf8');
    const ok = verifyDecisionToken(token, {
      trustedKeys: trusted(),
      clock,
      expected: { withdrawalId: id, asset: 'BTC', sourceWallet: 'btc-hot-01', destination: { address: INST_DEST }, amount: 1000000n, bundleDigests: [d.bundleDigest] },
    });
    expect(ok).toMatchObject({ ok: true, claims: { decisionId: d.decisionId, approvals: { quorum: 0, roles: [] } } });
    // The token is bound: another amount does not verify.
    expect(verifyDecisionToken(token, { trustedKeys: trusted(), clock, expected: { withdrawalId: id, asset: 'BTC', sourceWallet: 'btc-hot-01', destination: { address: INST_DEST }, amount: 1000001n } })).toMatchObject({ ok: false, reason: 'binding_mismatch' });
    // Stored: input, output, bundle digest, time, decision id.
    const [row] = await db.admin<{ id: string; status: string; bundle_digest: string; input: { amount: string; now: string; velocity: { rolling_24h_total: string } }; output: { outcome: string } }>(
      `SELECT * FROM decision WHERE withdrawal_id = $1`,
      [id],
    );
    expect(row).toMatchObject({ id: d.decisionId, status: 'allow', bundle_digest: d.bundleDigest, input: { amount: '1000000', now: '2025-06-02T10:00:00Z' }, output: { outcome: 'allow' } });
    expect(await count('decision_evaluation', 'decision_id = $1', [d.decisionId])).toBe(1);
  });

  it('serves /metrics: an ALLOW adds 1 to custody_policy_decisions_total{outcome="allow"}; the bundle is active; the bus counts consumption', async () => {
    const consumed = { topic: `${prefix}${Topics.riskAssessed}`, group: consumerGroupId, outcome: 'ok' };
    const allowBefore = (await scrape('custody_policy_decisions_total', { outcome: 'allow' })) ?? Number.NaN;
    const denyBefore = await scrape('custody_policy_decisions_total', { outcome: 'deny' });
    const consumedBefore = (await scrape('custody_bus_consumed_total', consumed)) ?? Number.NaN;
    expect(await scrape('custody_policy_bundle_active')).toBe(1);
    const id = `wd-${rand()}`;
    await submit(id, { account: 'acct-inst-1', amount: '1000000', dest: INST_DEST });
    expect((await firstDecision(id)).decision).toBe(PolicyDecision.POLICY_DECISION_ALLOW);
    await waitFor(async () => (await scrape('custody_policy_decisions_total', { outcome: 'allow' })) === allowBefore + 1, 10_000, () => 'decisions_total{outcome="allow"} + 1');
    expect(await scrape('custody_policy_decisions_total', { outcome: 'deny' })).toBe(denyBefore);
    await waitFor(async () => ((await scrape('custody_bus_consumed_total', consumed)) ?? 0) >= consumedBefore + 1, 10_000, () => 'bus_consumed_total + 1');
    expect(await scrape('custody_bus_outbox_oldest_pending_seconds')).toBeGreaterThanOrEqual(0);
  });

  it('decides each event exactly once: a redelivered risk.assessed (same event id) changes nothing', async () => {
    const id = `wd-${rand()}`;
    await publish(Topics.withdrawalRequested, id, withdrawal(id, { account: 'acct-inst-1', amount: '2000000', dest: INST_DEST }));
    const risk = await publish(Topics.riskAssessed, id, assessment(id));
    await firstDecision(id);
    await publish(Topics.riskAssessed, id, assessment(id), risk.id);
    const marker = `wd-${rand()}`;
    await submit(marker, { account: 'acct-inst-1', amount: '1000000', dest: INST_DEST });
    await firstDecision(marker); // processed after the redelivery on the same consumer
    expect(await count('decision', 'withdrawal_id = $1', [id])).toBe(1);
    expect(decisionsFor(id)).toHaveLength(1);
  });

  it('denies over the single limit with the machine-readable reason, and issues no token', async () => {
    const id = `wd-${rand()}`;
    await submit(id, { account: 'acct-retail-1', amount: '60000000', dest: RETAIL_DEST });
    const d = await firstDecision(id);
    expect(d.decision).toBe(PolicyDecision.POLICY_DECISION_DENY);
    expect(d.reasons.map((r) => r.code)).toContain('limit_single_exceeded');
    expect(d.decisionToken).toHaveLength(0);
  });

  it('denies a sanctioned destination (risk BLOCK with a sanctions reason)', async () => {
    const id = `wd-${rand()}`;
    await submit(id, { account: 'acct-inst-1', amount: '1000000', dest: INST_DEST }, assessment(id, RiskVerdict.RISK_VERDICT_BLOCK, [{ code: 'SANCTIONED_ADDRESS', detail: 'OFAC SDN' }], 100));
    const d = await firstDecision(id);
    expect(d.decision).toBe(PolicyDecision.POLICY_DECISION_DENY);
    expect(d.reasons.map((r) => r.code)).toEqual(expect.arrayContaining(['risk_blocked', 'risk_sanctioned']));
  });

  it('holds a new account until its hold ends (hold_until on the event, no token)', async () => {
    const id = `wd-${rand()}`;
    await submit(id, { account: 'acct-new-1', amount: '1000000', dest: 'bc1qnewcustomerxxxxxxxxxxxxxxxxxxxxxxxxx' });
    const d = await firstDecision(id);
    expect(d.decision).toBe(PolicyDecision.POLICY_DECISION_HOLD);
    expect(d.reasons.map((r) => r.code)).toEqual(['new_account_hold']);
    expect(timestampToDate(d.holdUntil!).toISOString()).toBe('2025-06-06T12:00:00.000Z');
    expect(d.decisionToken).toHaveLength(0);
  });

  it('denies (fails closed) when a fact is missing: no ledger hold for an unknown account', async () => {
    const id = `wd-${rand()}`;
    await submit(id, { account: 'acct-unknown', amount: '1000000', dest: INST_DEST });
    const d = await firstDecision(id);
    expect(d.decision).toBe(PolicyDecision.POLICY_DECISION_DENY);
    expect(d.reasons.map((r) => r.code)).toContain('input_invalid');
  });
});

describe('C-9.3.6.2-c multi-person approval: require_approval → distinct operators in the required roles → allow', () => {
  it('holds 1.5 BTC for 2-of-N (compliance + treasury); one approval keeps it pending; the second emits ALLOW with both signatures', async () => {
    const id = `wd-${rand()}`;
    await submit(id, { account: 'acct-inst-1', amount: '150000000', dest: INST_DEST });
    const first = await firstDecision(id);
    expect(first.decision).toBe(PolicyDecision.POLICY_DECISION_REQUIRE_APPROVAL);
    expect(first.requiredApprovals).toMatchObject({ quorum: 2, roles: ['compliance', 'treasury'] });
    expect(first.decisionToken).toHaveLength(0);

    const pending = await pendingFor(id);
    expect(pending).toMatchObject({ decisionId: first.decisionId, quorum: 2, amount: '150000000', reasonCodes: ['amount_requires_approval'] });
    const one = await vote(ALICE, pending, 'compliance');
    expect(one.quorumReached).toBe(false);
    expect(one.approval?.approvals.map((a) => a.operatorId)).toEqual(['op-alice']);

    const two = await vote(BOB, pending, 'treasury');
    expect(two.quorumReached).toBe(true);
    await waitFor(() => decisionsFor(id).length === 2, 20_000, () => 'the allowing policy.decided');
    const allow = decisionsFor(id)[1] as PolicyDecided;
    expect(allow.decision).toBe(PolicyDecision.POLICY_DECISION_ALLOW);
    expect(allow.decisionId).toBe(first.decisionId);
    expect(allow.reasons.map((r) => r.code)).toEqual(['quorum_met']);
    // Each attached approval is the operator's signature over this decision.
    expect(allow.approvals.map((a) => a.operatorId).sort()).toEqual(['op-alice', 'op-bob']);
    for (const a of allow.approvals) {
      const op = OPERATORS.find((o) => o.id === a.operatorId) as TestOperator;
      expect(ed25519.verify(a.signature, approvalSigningBytes(subjectOf(pending), a.operatorId, a.role, 'approve'), ed25519.getPublicKey(op.secret))).toBe(true);
    }
    const claims = verifyDecisionToken(Buffer.from(allow.decisionToken).toString('utf8'), {
      trustedKeys: trusted(),
      clock,
      expected: { withdrawalId: id, asset: 'BTC', sourceWallet: 'btc-hot-01', destination: { address: INST_DEST }, amount: 150000000n },
    });
    expect(claims).toMatchObject({ ok: true, claims: { approvals: { quorum: 2, roles: ['compliance', 'treasury'] } } });
    // No longer pending.
    await expect(pendingFor(id)).rejects.toThrow(/no pending approval/);
  });

  it('refuses self-approval: the requester (an operator-initiated transfer) cannot vote, and nothing is stored', async () => {
    const id = `wd-${rand()}`;
    await publish(Topics.withdrawalRequested, id, withdrawal(id, { account: 'acct-inst-1', amount: '150000000', dest: INST_DEST, clientId: 'op-dave' }));
    await publish(Topics.riskAssessed, id, assessment(id));
    await firstDecision(id);
    const pending = await pendingFor(id);
    expect(pending.requestedBy).toBe('op-dave');
    expect(await failure(vote(DAVE, pending, 'treasury'))).toEqual({ code: status.PERMISSION_DENIED, reason: 'SELF_APPROVAL' });
    expect(await count('approval_vote', 'decision_id = $1', [pending.decisionId])).toBe(0);
  });

  it('refuses a second vote by the same operator (one vote per operator)', async () => {
    const id = `wd-${rand()}`;
    await submit(id, { account: 'acct-inst-1', amount: '150000000', dest: INST_DEST });
    await firstDecision(id);
    const pending = await pendingFor(id);
    expect((await vote(ERIN, pending, 'compliance')).quorumReached).toBe(false);
    expect(await failure(vote(ERIN, pending, 'compliance'))).toEqual({ code: status.ALREADY_EXISTS, reason: 'DUPLICATE_VOTE' });
    expect(await count('approval_vote', 'decision_id = $1', [pending.decisionId])).toBe(1);
    expect(decisionsFor(id)).toHaveLength(1);
  });

  it('refuses a vote in a role the operator does not hold, or one the quorum does not ask for', async () => {
    const id = `wd-${rand()}`;
    await submit(id, { account: 'acct-inst-1', amount: '150000000', dest: INST_DEST });
    await firstDecision(id);
    const pending = await pendingFor(id);
    expect(await failure(vote(FRANK, pending, 'treasury'))).toEqual({ code: status.PERMISSION_DENIED, reason: 'ROLE_NOT_HELD' });
    expect(await failure(vote(FRANK, pending, 'deployer'))).toEqual({ code: status.PERMISSION_DENIED, reason: 'ROLE_NOT_REQUIRED' });
    // A signature for another decision (or role) does not verify.
    expect(await failure(vote(ALICE, pending, 'compliance', 'approve', { ...subjectOf(pending), amount: 1n }))).toEqual({ code: status.UNAUTHENTICATED, reason: 'BAD_APPROVAL_SIGNATURE' });
    expect(await count('approval_vote', 'decision_id = $1', [pending.decisionId])).toBe(0);
  });

  it('a reject emits DENY (approval_rejected) with the rejecting vote attached', async () => {
    const id = `wd-${rand()}`;
    await submit(id, { account: 'acct-inst-1', amount: '150000000', dest: INST_DEST });
    await firstDecision(id);
    const pending = await pendingFor(id);
    await vote(BOB, pending, 'treasury', 'reject');
    await waitFor(() => decisionsFor(id).length === 2, 20_000, () => 'the denying policy.decided');
    const deny = decisionsFor(id)[1] as PolicyDecided;
    expect(deny.decision).toBe(PolicyDecision.POLICY_DECISION_DENY);
    expect(deny.reasons.map((r) => r.code)).toEqual(['approval_rejected']);
    expect(await failure(vote(ALICE, pending, 'compliance'))).toEqual({ code: status.FAILED_PRECONDITION, reason: 'DECISION_NOT_PENDING' });
  });

  it('refuses an approval after the request expired', async () => {
    const id = `wd-${rand()}`;
    await submit(id, { account: 'acct-inst-1', amount: '150000000', dest: INST_DEST });
    await firstDecision(id);
    const pending = await pendingFor(id);
    const saved = clock.current;
    try {
      clock.current = new Date(timestampToDate(pending.expiresAt!).getTime() + 1000);
      expect(await failure(vote(ALICE, pending, 'compliance'))).toEqual({ code: status.FAILED_PRECONDITION, reason: 'APPROVAL_EXPIRED' });
      expect(await count('approval_vote', 'decision_id = $1', [pending.decisionId])).toBe(0);
      // The sweeper closes it: DENY approval_expired, and it is no longer listed.
      expect(await expirePending(policy.store, clock)).toBeGreaterThanOrEqual(1);
      await waitFor(() => decisionsFor(id).length === 2, 20_000, () => 'the expiry policy.decided');
      const closed = decisionsFor(id)[1] as PolicyDecided;
      expect(closed).toMatchObject({ decision: PolicyDecision.POLICY_DECISION_DENY, decisionId: pending.decisionId });
      expect(closed.reasons.map((r) => r.code)).toEqual(['approval_expired']);
      await expect(pendingFor(id)).rejects.toThrow(/no pending approval/);
    } finally {
      clock.current = saved;
    }
  });
});

describe('C-9.3.2-a bundle lifecycle: admin-quorum activation, hot reload, rollback; backtest before activating', () => {
  const sign = (op: TestOperator, archive: Uint8Array) => ({ adminId: op.id, keyId: op.keyId, signature: ed25519.sign(bundleActivationBytes(parseBundleArchive(archive).digest, op.id), op.secret) });

  it('the backtest CLI replays stored inputs against the candidate and prints the outcomes that change, and why', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'policy-backtest-'));
    try {
      const path = join(dir, 'candidate.tar.gz');
      await writeFile(path, bundles.candidate);
      const { exitCode, output } = await runBacktestCli(['--bundle', path], { CUSTODY_DB_URL: db.appUrl, CUSTODY_DB_SCHEMA: db.schema });
      expect(exitCode).toBe(3);
      expect(output).toContain(`candidate bundle ${parseBundleArchive(bundles.candidate).digest}`);
      expect(output).toMatch(/require_approval -> deny: [1-9]/);
      expect(output).toMatch(/require_approval \[amount_requires_approval\] q=2 -> deny \[limit_single_exceeded\] q=0/);
      // The approved 1.5 BTC would have been denied; the small allows are unaffected.
      expect(output).toMatch(/allow \[quorum_met\] q=2 -> deny \[limit_single_exceeded\]/);
      expect(output).not.toMatch(/allow \[\] q=0 -> /);
      // Against the active bundle itself, nothing first-evaluated changes.
      await writeFile(path, bundles.current);
      const same = await runBacktestCli(['--bundle', path, '--limit', '1000'], { CUSTODY_DB_URL: db.appUrl, CUSTODY_DB_SCHEMA: db.schema });
      expect(same.output).toMatch(/0 changed/);
      expect(same.exitCode).toBe(0);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('refuses activation without two admin signatures over the digest (one admin; a non-admin; a signature over another digest)', async () => {
    const before = policy.bundles.activeDigest;
    await expect(policy.bundles.activate(bundles.candidate, [sign(ADMIN1, bundles.candidate)])).rejects.toMatchObject({ code: 'ADMIN_QUORUM_NOT_MET' });
    await expect(policy.bundles.activate(bundles.candidate, [sign(ADMIN1, bundles.candidate), sign(ALICE, bundles.candidate)])).rejects.toMatchObject({ code: 'ADMIN_QUORUM_NOT_MET' });
    await expect(policy.bundles.activate(bundles.candidate, [sign(ADMIN1, bundles.candidate), sign(ADMIN2, bundles.current)])).rejects.toMatchObject({ code: 'ADMIN_QUORUM_NOT_MET' });
    await expect(policy.bundles.activate(bundles.candidate, [sign(ADMIN1, bundles.candidate), sign(ADMIN1, bundles.candidate)])).rejects.toMatchObject({ code: 'ADMIN_QUORUM_NOT_MET' });
    expect(policy.bundles.activeDigest).toBe(before);
  });

  it('activates with a quorum while withdrawals flow (none dropped, each decided by one of the two bundles), keeps the previous, and rolls back', async () => {
    const current = parseBundleArchive(bundles.current).digest;
    const candidate = parseBundleArchive(bundles.candidate).digest;
    const ids = Array.from({ length: 12 }, () => `wd-${rand()}`);
    const sends = ids.slice(0, 6).map((id) => submit(id, { account: 'acct-inst-1', amount: '1000000', dest: INST_DEST }));
    const activation = policy.bundles.activate(bundles.candidate, [sign(ADMIN1, bundles.candidate), sign(ADMIN2, bundles.candidate)]);
    await Promise.all([...sends, activation]);
    await expect(activation).resolves.toEqual({ digest: candidate, activatedBy: ['admin-1', 'admin-2'] });
    expect(policy.bundles.previousDigest).toBe(current);
    for (const id of ids.slice(6)) await submit(id, { account: 'acct-inst-1', amount: '1000000', dest: INST_DEST });
    await waitFor(() => ids.every((id) => decisionsFor(id).length > 0), 30_000, () => `${ids.filter((id) => decisionsFor(id).length === 0).length} withdrawals undecided`);
    for (const id of ids) expect([current, candidate]).toContain(decisionsFor(id)[0]?.bundleDigest);
    for (const id of ids.slice(6)) expect(decisionsFor(id)[0]?.bundleDigest).toBe(candidate);

    // The candidate's lower institutional single limit now denies 1.5 BTC.
    const big = `wd-${rand()}`;
    await submit(big, { account: 'acct-inst-1', amount: '150000000', dest: INST_DEST });
    expect((await firstDecision(big)).reasons.map((r) => r.code)).toContain('limit_single_exceeded');

    const [stored] = await db.admin<{ state: string; activated_by: string[] }>(`SELECT state, activated_by FROM policy_bundle WHERE digest = $1`, [candidate]);
    expect(stored).toEqual({ state: 'active', activated_by: ['admin-1', 'admin-2'] });

    await expect(policy.bundles.rollback([sign(ADMIN1, bundles.candidate)])).rejects.toMatchObject({ code: 'ADMIN_QUORUM_NOT_MET' });
    await policy.bundles.rollback([sign(ADMIN1, bundles.current), sign(ADMIN2, bundles.current)]);
    expect(policy.bundles.activeDigest).toBe(current);
  });

  it('a bundle staged with the policy-bundle CLI is activated by the service only with a verified admin quorum; otherwise refused and the active one stays', async () => {
    const current = parseBundleArchive(bundles.current).digest;
    const candidate = parseBundleArchive(bundles.candidate).digest;
    const dir = await mkdtemp(join(tmpdir(), 'policy-stage-'));
    const env = { CUSTODY_DB_URL: db.appUrl, CUSTODY_DB_SCHEMA: db.schema };
    try {
      const path = join(dir, 'candidate.tar.gz');
      await writeFile(path, bundles.candidate);
      const sigs: string[] = [];
      for (const admin of [ADMIN1, ADMIN2]) {
        const keyFile = join(dir, `${admin.id}.seed`);
        await writeFile(keyFile, Buffer.from(admin.secret).toString('hex'));
        const signed = await runPolicyBundleCli(['sign', '--bundle', path, '--admin', admin.id, '--key-id', admin.keyId, '--key-file', keyFile], env);
        expect(signed.exitCode).toBe(0);
        sigs.push(signed.output);
      }
      expect((await runPolicyBundleCli(['digest', '--bundle', path], env)).output).toBe(candidate);
      const state = async () => db.admin<{ state: string; digest: string; outcome: string }>(`SELECT state, digest, outcome FROM bundle_activation_request ORDER BY requested_at`);

      // One admin only (and a second signature of the same admin): refused.
      expect((await runPolicyBundleCli(['stage', '--bundle', path, '--signature', sigs[0] as string, '--signature', sigs[0] as string], env)).exitCode).toBe(0);
      await waitFor(async () => (await state())[0]?.state === 'refused', 20_000, () => 'the staged bundle to be refused');
      expect((await state())[0]).toMatchObject({ digest: candidate, outcome: expect.stringMatching(/needs 2 distinct admin signatures/) as unknown as string });
      expect(policy.bundles.activeDigest).toBe(current);

      // Two admins: activated between messages.
      expect((await runPolicyBundleCli(['stage', '--bundle', path, '--signature', sigs[0] as string, '--signature', sigs[1] as string], env)).exitCode).toBe(0);
      await waitFor(() => policy.bundles.activeDigest === candidate, 20_000, () => 'the staged bundle to become active');
      expect((await state())[1]).toMatchObject({ state: 'activated', digest: candidate });
      expect(policy.bundles.previousDigest).toBe(current);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
