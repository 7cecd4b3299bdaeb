// Cross-service: policy's ApprovalService records every vote in the REAL audit service (its
// own PostgreSQL database, gRPC AuditService/RecordOperatorAction) BEFORE applying it, and
// refuses the vote (UNAVAILABLE, AUDIT_UNAVAILABLE) when audit cannot record it — nothing
// changes in policy. Lives at the root because services never import each other
// (scripts/workspace/boundaries.spec.ts); each service is started through its public entry.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { Metadata, credentials, status } from '@grpc/grpc-js';
import { ed25519 } from '@noble/curves/ed25519.js';
import {
  ApprovalServiceClient,
  RiskAssessed,
  RiskVerdict,
  Topics,
  WithdrawalRequested,
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
import { InProcessBus, createEnvelope, protobufEnvelopeCodec } from '@custody/event-bus';
import { createOperatorAuditGate } from '@custody/platform';
import { createTestDatabase as createServiceTestDatabase, rand, waitFor, type TestDatabase } from '@custody/testing';
import { AUDIT_ENTITIES, AUDIT_MIGRATIONS, LocalEd25519Signer, startAudit, type AuditHandle } from '@custody/audit';
import { approvalSigningBytes, localDecisionSigner, startPolicy, type ApprovalSubject, type PolicyHandle, type WithdrawalFactsProvider } from '@custody/policy';
import { voteRequestDigest } from '../../services/policy/src/adapters/grpc/approval-service.js';
import { buildBundles, call, createTestDatabase as createPolicyDatabase, directoryOf, failure, newOperator, quietLogger, type Bundles, type TestOperator } from '../../services/policy/test/integration/support.js';

const ALICE = newOperator('op-alice', ['compliance']);
const BOB = newOperator('op-bob', ['treasury']);
const DEST = 'bc1qinstitutionalvaultxxxxxxxxxxxxxxxxxx';
const facts: WithdrawalFactsProvider = {
  factsFor: (r) =>
    Promise.resolve({
      account: { id: 'acct-inst-1', tier: 'institutional', openedAt: '2023-01-01T00:00:00Z' },
      sourceWallet: { id: 'btc-hot-01', tier: 'hot' as const },
      ledgerHold: { id: `hold-${r.withdrawalId}`, amount: r.amount },
    }),
};

let auditDb: TestDatabase;
let policyDb: TestDatabase;
let bundles: Bundles;
let bus: InProcessBus;
let audit: AuditHandle | undefined;
let policy: PolicyHandle;
let gate: ReturnType<typeof createOperatorAuditGate>;
let client: ApprovalServiceClient;

async function publish<K extends EventType>(type: K, key: string, message: EventMessages[K]): Promise<void> {
  const envelope = createEnvelope({ type, key, correlationId: `corr-${rand()}`, producer: 'test', schemaVersion: topicVersion(type), payload: encodeEvent(type, message) });
  await bus.publish([{ topic: type, key, value: protobufEnvelopeCodec.encode(envelope) }]);
}

/** A 1.5 BTC withdrawal: REQUIRE_APPROVAL, 2-of-N (compliance + treasury). */
async function pendingWithdrawal(): Promise<PendingApproval> {
  const id = `wd-${rand()}`;
  const now = new Date();
  await publish(Topics.withdrawalRequested, id, WithdrawalRequested.fromPartial({ withdrawalId: id, clientId: 'client-acme', customerAccount: 'acct-inst-1', asset: 'BTC', chain: 'bitcoin-mainnet', amount: '150000000', destinationAddress: DEST, requestedAt: timestampFromDate(now) }));
  await publish(Topics.riskAssessed, id, RiskAssessed.fromPartial({ assessmentId: `as-${id}`, withdrawalId: id, verdict: RiskVerdict.RISK_VERDICT_CLEAR, score: 10, assessedAt: timestampFromDate(new Date(now.getTime() - 60_000)) }));
  let found: PendingApproval | undefined;
  await waitFor(
    async () => {
      const res = await call<object, ListPendingApprovalsResponse>(client.listPendingApprovals.bind(client) as never, { pageSize: 100, pageToken: '' }, new Metadata());
      found = res.approvals.find((a) => a.withdrawalId === id);
      return found !== undefined;
    },
    20_000,
    () => `pending approval for ${id}`,
  );
  return found as PendingApproval;
}

function subjectOf(p: PendingApproval): ApprovalSubject {
  return {
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
  };
}

function voteRequest(op: TestOperator, p: PendingApproval, role: string, verdict: 'approve' | 'reject') {
  const signature = Buffer.from(ed25519.sign(approvalSigningBytes(subjectOf(p), op.id, role, verdict), op.secret));
  return { decisionId: p.decisionId, operatorId: op.id, role, keyId: op.keyId, signature };
}

const approve = (op: TestOperator, p: PendingApproval, role: string): Promise<ApproveResponse> =>
  call<object, ApproveResponse>(client.approve.bind(client) as never, voteRequest(op, p, role, 'approve'), new Metadata());
const reject = (op: TestOperator, p: PendingApproval, role: string): Promise<object> =>
  call<object, object>(client.reject.bind(client) as never, { ...voteRequest(op, p, role, 'reject'), reason: 'destination not verified' }, new Metadata());

/** What policy holds for one decision: status and votes. */
async function policyState(decisionId: string): Promise<{ status: string; votes: string[] }> {
  const [d] = await policyDb.admin<{ status: string }>(`SELECT status FROM decision WHERE id = $1`, [decisionId]);
  const votes = await policyDb.admin<{ operator_id: string; verdict: string }>(`SELECT operator_id, verdict FROM approval_vote WHERE decision_id = $1 ORDER BY operator_id`, [decisionId]);
  return { status: d?.status ?? 'missing', votes: votes.map((v) => `${v.operator_id}:${v.verdict}`) };
}

interface OperatorRow {
  sequence: string;
  actor: string;
  action: string;
  correlation_id: string;
  recorded_at: Date;
  payload: Buffer;
}
const operatorRecords = (target: string): Promise<OperatorRow[]> =>
  auditDb.admin<OperatorRow>(`SELECT sequence::text, actor, action, correlation_id, recorded_at, payload FROM audit_record WHERE kind = 'operator' AND convert_from(payload, 'UTF8') LIKE $1 ORDER BY sequence`, [
    `%"target":"${target}"%`,
  ]);

beforeAll(async () => {
  [auditDb, policyDb, bundles] = await Promise.all([createServiceTestDatabase({ service: 'audit', entities: AUDIT_ENTITIES, migrations: AUDIT_MIGRATIONS }), createPolicyDatabase(), buildBundles()]);
  bus = new InProcessBus();
  audit = await startAudit({
    bus,
    database: { url: auditDb.appUrl, schema: auditDb.schema },
    logger: quietLogger(),
    signer: LocalEd25519Signer.generate('audit-k1'),
    grpc: { host: '127.0.0.1', port: 0, credentials: { kind: 'insecure' } },
    checkpointIntervalMs: 0,
  });
  gate = createOperatorAuditGate({ address: `127.0.0.1:${audit.grpcPort}`, credentials: credentials.createInsecure(), timeoutMs: 5_000 });
  policy = await startPolicy({
    bus,
    database: { url: policyDb.appUrl, schema: policyDb.schema },
    logger: quietLogger(),
    grpc: { host: '127.0.0.1', port: 0, credentials: { kind: 'insecure' } },
    bootstrapBundle: bundles.current,
    signer: localDecisionSigner('policy-test-k1', ed25519.utils.randomSecretKey()),
    operators: directoryOf([ALICE, BOB]),
    facts,
    outboxPollIntervalMs: 50,
    operatorAudit: gate,
  });
  client = new ApprovalServiceClient(`127.0.0.1:${policy.grpcPort}`, credentials.createInsecure());
}, 180_000);

afterAll(async () => {
  client?.close();
  gate?.close();
  await policy?.stop();
  await audit?.stop();
  await bus?.close();
  await Promise.all([auditDb?.drop(), policyDb?.drop()]);
  await bundles?.cleanup();
}, 60_000);

describe('C-9.3.6.2-d operator audit trail: an approval is recorded in audit (identity, device key, source IP, time, request id, request digest) before policy applies it', () => {
  it('Approve → one operator record in audit, then the vote is applied; the record commits no later than the vote', async () => {
    const pending = await pendingWithdrawal();
    const res = await approve(ALICE, pending, 'compliance');
    expect(res.quorumReached).toBe(false);
    expect(await policyState(pending.decisionId)).toEqual({ status: 'require_approval', votes: ['op-alice:approve'] });
    const records = await operatorRecords(pending.decisionId);
    expect(records).toHaveLength(1);
    const [record] = records;
    expect(record).toMatchObject({ actor: 'op-alice', action: 'policy.approval.approve' });
    const payload = JSON.parse(record?.payload.toString('utf8') ?? '{}') as Record<string, unknown>;
    expect(payload).toMatchObject({
      operator_id: 'op-alice',
      action: 'policy.approval.approve',
      target: pending.decisionId,
      device_id: `key:${ALICE.keyId}`,
      source_ip: '127.0.0.1',
      correlation_id: record?.correlation_id,
      request_digest: Buffer.from(voteRequestDigest(voteRequest(ALICE, pending, 'compliance', 'approve'), 'approve', '')).toString('hex'),
    });
    expect(typeof payload['request_id']).toBe('string');
    const [vote] = await policyDb.admin<{ voted_at: Date }>(`SELECT voted_at FROM approval_vote WHERE decision_id = $1 AND operator_id = 'op-alice'`, [pending.decisionId]);
    expect(record?.recorded_at.getTime()).toBeLessThanOrEqual(vote?.voted_at.getTime() ?? 0);
    expect((await audit?.verify())?.ok).toBe(true);
  });
});

describe('fail closed (ISO/TR 23576 9.3.9.4): if audit cannot record a vote, policy refuses it with UNAVAILABLE / AUDIT_UNAVAILABLE and nothing changes', () => {
  it('audit database role lost INSERT → Approve refused, decision and votes unchanged; INSERT restored → the same approval goes through (quorum, ALLOW)', async () => {
    const pending = await pendingWithdrawal();
    await approve(ALICE, pending, 'compliance');
    const before = await policyState(pending.decisionId);
    await auditDb.admin(`REVOKE INSERT ON audit_record FROM "${auditDb.appRole}"`);
    try {
      expect(await failure(approve(BOB, pending, 'treasury'))).toEqual({ code: status.UNAVAILABLE, reason: 'AUDIT_UNAVAILABLE' });
      expect(await policyState(pending.decisionId)).toEqual(before);
      expect((await operatorRecords(pending.decisionId)).map((r) => r.actor)).toEqual(['op-alice']);
    } finally {
      await auditDb.admin(`GRANT INSERT ON audit_record TO "${auditDb.appRole}"`);
    }
    const res = await approve(BOB, pending, 'treasury');
    expect(res.quorumReached).toBe(true);
    expect(await policyState(pending.decisionId)).toEqual({ status: 'allow', votes: ['op-alice:approve', 'op-bob:approve'] });
    expect((await operatorRecords(pending.decisionId)).map((r) => r.actor)).toEqual(['op-alice', 'op-bob']);
  });

  it('audit server stopped → Approve and Reject refused, decision and votes unchanged', async () => {
    const pending = await pendingWithdrawal();
    await approve(ALICE, pending, 'compliance');
    const before = await policyState(pending.decisionId);
    const recordsBefore = await operatorRecords(pending.decisionId);
    await audit?.stop();
    audit = undefined;
    expect(await failure(approve(BOB, pending, 'treasury'))).toEqual({ code: status.UNAVAILABLE, reason: 'AUDIT_UNAVAILABLE' });
    expect(await failure(reject(BOB, pending, 'treasury'))).toEqual({ code: status.UNAVAILABLE, reason: 'AUDIT_UNAVAILABLE' });
    expect(await policyState(pending.decisionId)).toEqual(before);
    expect(before).toEqual({ status: 'require_approval', votes: ['op-alice:approve'] });
    expect(await operatorRecords(pending.decisionId)).toEqual(recordsBefore);
  });
});
