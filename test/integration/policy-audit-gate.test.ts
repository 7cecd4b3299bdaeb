// Cross-service: policy's ApprovalService records every vote in the REAL audit service (its
// own PostgreSQL database, gRPC AuditService/RecordOperatorAction) BEFORE applying it, and
// refuses the vote (UNAVAILABLE, AUDIT_UNAVAILABLE) when audit cannot record it — nothing
// changes in policy. Lives at the root because services never import each other
// (scripts/workspace/boundaries.spec.ts); each service is started through its public entry.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { Metadata, credentials, status } from '@grpc/grpc-js';
import { ed25519 } from '@noble/curves/ed25519.js';
import { ApprovalServiceClient, type ApproveResponse, type PendingApproval } from '@custody/contracts';
import { InProcessBus } from '@custody/event-bus';
import { createOperatorAuditGate } from '@custody/platform';
import { createTestDatabase as createServiceTestDatabase, type TestDatabase } from '@custody/testing';
import { AUDIT_ENTITIES, AUDIT_MIGRATIONS, LocalEd25519Signer, startAudit, type AuditHandle } from '@custody/audit';
import { approvalSigningBytes, localDecisionSigner, startPolicy, type PolicyHandle } from '@custody/policy';
import { voteRequestDigest } from '../../services/policy/src/adapters/grpc/approval-service.js';
import { buildBundles, call, createTestDatabase as createPolicyDatabase, directoryOf, failure, institutionalFactsWithHold, newOperator, pendingWithdrawal, quietLogger, subjectOf, type Bundles, type TestOperator } from '../../services/policy/test/integration/support.js';

const ALICE = newOperator('op-alice', ['compliance']);
const BOB = newOperator('op-bob', ['treasury']);
let auditDb: TestDatabase;
let policyDb: TestDatabase;
let bundles: Bundles;
let bus: InProcessBus;
let audit: AuditHandle | undefined;
let policy: PolicyHandle;
let gate: ReturnType<typeof createOperatorAuditGate>;
let client: ApprovalServiceClient;

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
    facts: institutionalFactsWithHold,
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
    const pending = await pendingWithdrawal(bus, client);
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
    const pending = await pendingWithdrawal(bus, client);
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
    const pending = await pendingWithdrawal(bus, client);
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
