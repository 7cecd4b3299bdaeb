// The approval audit gate on the policy side alone (real PostgreSQL; the gRPC client of
// AuditService from @custody/contracts): with no audit endpoint configured (main.ts's
// default: refusingOperatorAuditGate) or with an audit that does not answer within the
// deadline, every Approve/Reject is refused with UNAVAILABLE / AUDIT_UNAVAILABLE and nothing
// changes. The end-to-end test against the real audit service is test/integration/policy-audit-gate.test.ts.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { Metadata, Server, ServerCredentials, credentials, status } from '@grpc/grpc-js';
import { ed25519 } from '@noble/curves/ed25519.js';
import { ApprovalServiceClient, AuditServiceService, type PendingApproval } from '@custody/contracts';
import { InProcessBus } from '@custody/event-bus';
import { createOperatorAuditGate, refusingOperatorAuditGate, type OperatorAuditGate } from '@custody/platform';
import { approvalSigningBytes, localDecisionSigner, startPolicy, type PolicyHandle } from '../../src/index.js';
import { buildBundles, call, createTestDatabase, directoryOf, failure, institutionalFactsWithHold, newOperator, pendingWithdrawal, quietLogger, rand, subjectOf, type Bundles, type TestDatabase, type TestOperator } from './support.js';

const ALICE = newOperator('op-alice', ['compliance']);
let db: TestDatabase;
let bundles: Bundles;
let silent: Server;
let silentPort: number;

beforeAll(async () => {
  [db, bundles] = await Promise.all([createTestDatabase(), buildBundles()]);
  // An AuditService that never answers (audit hung / overloaded).
  silent = new Server();
  silent.addService(AuditServiceService, { recordOperatorAction: () => undefined });
  silentPort = await new Promise<number>((resolve, reject) => silent.bindAsync('127.0.0.1:0', ServerCredentials.createInsecure(), (err, p) => (err ? reject(err) : resolve(p))));
}, 180_000);

afterAll(async () => {
  silent?.forceShutdown();
  await db?.drop();
  await bundles?.cleanup();
});

/** Starts policy with `gate`, makes one 1.5 BTC REQUIRE_APPROVAL decision, runs `body`, stops. */
async function withPolicy(gate: OperatorAuditGate, body: (client: ApprovalServiceClient, pending: PendingApproval) => Promise<void>): Promise<void> {
  const bus = new InProcessBus();
  const policy: PolicyHandle = await startPolicy({
    bus,
    database: { url: db.appUrl, schema: db.schema },
    logger: quietLogger(),
    grpc: { host: '127.0.0.1', port: 0, credentials: { kind: 'insecure' } },
    bootstrapBundle: bundles.current,
    signer: localDecisionSigner('policy-test-k1', ed25519.utils.randomSecretKey()),
    operators: directoryOf([ALICE]),
    facts: institutionalFactsWithHold,
    consumerGroupId: `policy-${rand()}`,
    operatorAudit: gate,
  });
  const client = new ApprovalServiceClient(`127.0.0.1:${policy.grpcPort}`, credentials.createInsecure());
  try {
    await body(client, await pendingWithdrawal(bus, client));
  } finally {
    client.close();
    await policy.stop();
    await bus.close();
  }
}

function voteRequest(op: TestOperator, p: PendingApproval, verdict: 'approve' | 'reject') {
  const subject = subjectOf(p);
  return { decisionId: p.decisionId, operatorId: op.id, role: 'compliance', keyId: op.keyId, signature: Buffer.from(ed25519.sign(approvalSigningBytes(subject, op.id, 'compliance', verdict), op.secret)) };
}

async function unchanged(decisionId: string): Promise<{ status: string; votes: number }> {
  const [d] = await db.admin<{ status: string }>(`SELECT status FROM decision WHERE id = $1`, [decisionId]);
  const [v] = await db.admin<{ n: string }>(`SELECT count(*)::text AS n FROM approval_vote WHERE decision_id = $1`, [decisionId]);
  return { status: d?.status ?? 'missing', votes: Number(v?.n) };
}

describe('fail closed (ISO/TR 23576 9.3.9.4): policy refuses operator votes audit did not record', () => {
  it('no audit endpoint configured (the refusing gate main.ts installs) → Approve and Reject are UNAVAILABLE / AUDIT_UNAVAILABLE; nothing stored', async () => {
    await withPolicy(refusingOperatorAuditGate('CUSTODY_POLICY_AUDIT_GRPC_ADDRESS'), async (client, pending) => {
      expect(await failure(call(client.approve.bind(client) as never, voteRequest(ALICE, pending, 'approve'), new Metadata()))).toEqual({ code: status.UNAVAILABLE, reason: 'AUDIT_UNAVAILABLE' });
      expect(await failure(call(client.reject.bind(client) as never, { ...voteRequest(ALICE, pending, 'reject'), reason: 'no' }, new Metadata()))).toEqual({ code: status.UNAVAILABLE, reason: 'AUDIT_UNAVAILABLE' });
      expect(await unchanged(pending.decisionId)).toEqual({ status: 'require_approval', votes: 0 });
    });
  });

  it('audit slower than the deadline (an AuditService that never answers) → Approve is UNAVAILABLE / AUDIT_UNAVAILABLE; nothing stored', async () => {
    const slow = createOperatorAuditGate({ address: `127.0.0.1:${silentPort}`, credentials: credentials.createInsecure(), timeoutMs: 300 });
    try {
      await withPolicy(slow, async (client, pending) => {
        expect(await failure(call(client.approve.bind(client) as never, voteRequest(ALICE, pending, 'approve'), new Metadata()))).toEqual({ code: status.UNAVAILABLE, reason: 'AUDIT_UNAVAILABLE' });
        expect(await unchanged(pending.decisionId)).toEqual({ status: 'require_approval', votes: 0 });
      });
    } finally {
      slow.close();
    }
  });

  it('control: with a gate that records, the same Approve is applied (the refusals above come from the gate)', async () => {
    const recorded: string[] = [];
    const recording: OperatorAuditGate = { record: async (a) => (recorded.push(`${a.operatorId}:${a.action}:${a.target}`), { sequence: 1n, recordHash: new Uint8Array(32) }) };
    await withPolicy(recording, async (client, pending) => {
      await call(client.approve.bind(client) as never, voteRequest(ALICE, pending, 'approve'), new Metadata());
      expect(recorded).toEqual([`op-alice:policy.approval.approve:${pending.decisionId}`]);
      expect(await unchanged(pending.decisionId)).toEqual({ status: 'require_approval', votes: 1 });
    });
  });
});
