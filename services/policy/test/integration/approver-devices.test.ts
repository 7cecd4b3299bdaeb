// Approver devices end to end (real PostgreSQL, the policy's ApprovalService over gRPC on
// 127.0.0.1:0): the operators file registers each operator's authenticators and requires
// device assertions; votes without one, or with one that is not a registered, verified,
// present, same-origin assertion of this very vote, are refused with a precise reason and
// store nothing; accepted votes store the device and its signature counter, and a counter
// that does not grow (a cloned authenticator) is refused.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { Metadata, credentials, status } from '@grpc/grpc-js';
import { ed25519 } from '@noble/curves/ed25519.js';
import { ApprovalServiceClient, type ApproveResponse, type PendingApproval } from '@custody/contracts';
import { InProcessBus } from '@custody/event-bus';
import { parseOperatorDocument } from '../../src/adapters/operators/operator-file.js';
import { SoftwareAuthenticator } from '../../src/adapters/operators/software-authenticator.js';
import { FLAG_UP, type DeviceAssertion } from '../../src/domain/device-assertion.js';
import { approvalSigningBytes, localDecisionSigner, startPolicy, type PolicyHandle } from '../../src/index.js';
import { buildBundles, call, createTestDatabase, failure, institutionalFactsWithHold, newOperator, pendingWithdrawal, quietLogger, rand, subjectOf, type Bundles, type TestDatabase, type TestOperator } from './support.js';

const RP = 'console.custody.test';
const ORIGIN = `https://${RP}`;
const ALICE = newOperator('op-alice', ['compliance']);
const BOB = newOperator('op-bob', ['treasury']);
const aliceKey = SoftwareAuthenticator.generate({ rpId: RP, origin: ORIGIN });
const aliceOldKey = SoftwareAuthenticator.generate({ rpId: RP, origin: ORIGIN });
const bobKey = SoftwareAuthenticator.generate({ rpId: RP, origin: ORIGIN, keyType: 'ed25519' });
const unregistered = SoftwareAuthenticator.generate({ rpId: RP, origin: ORIGIN });

const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex');
const operatorsFile = {
  approvalDevices: { required: true, rpId: RP, origins: [ORIGIN], allowedKinds: ['security-key', 'platform'] },
  operators: [
    {
      id: ALICE.id,
      roles: ALICE.roles,
      keys: { [ALICE.keyId]: hex(ed25519.getPublicKey(ALICE.secret)) },
      devices: [
        { id: aliceKey.credentialId, keyType: 'es256', publicKey: hex(aliceKey.publicKey), kind: 'security-key', registeredAt: '2026-01-05T09:00:00Z' },
        { id: aliceOldKey.credentialId, keyType: 'es256', publicKey: hex(aliceOldKey.publicKey), kind: 'security-key', registeredAt: '2025-01-05T09:00:00Z', revokedAt: '2026-01-05T09:00:00Z' },
      ],
    },
    { id: BOB.id, roles: BOB.roles, keys: { [BOB.keyId]: hex(ed25519.getPublicKey(BOB.secret)) }, devices: [{ id: bobKey.credentialId, keyType: 'ed25519', publicKey: hex(bobKey.publicKey), kind: 'platform', registeredAt: '2026-01-05T09:00:00Z' }] },
  ],
};

let db: TestDatabase;
let bundles: Bundles;
let bus: InProcessBus;
let policy: PolicyHandle;
let client: ApprovalServiceClient;

beforeAll(async () => {
  [db, bundles] = await Promise.all([createTestDatabase(), buildBundles()]);
  bus = new InProcessBus();
  policy = await startPolicy({
    bus,
    database: { url: db.appUrl, schema: db.schema },
    logger: quietLogger(),
    grpc: { host: '127.0.0.1', port: 0, credentials: { kind: 'insecure' } },
    bootstrapBundle: bundles.current,
    signer: localDecisionSigner('policy-test-k1', ed25519.utils.randomSecretKey()),
    operators: parseOperatorDocument(operatorsFile),
    facts: institutionalFactsWithHold,
    consumerGroupId: `policy-${rand()}`,
  });
  client = new ApprovalServiceClient(`127.0.0.1:${policy.grpcPort}`, credentials.createInsecure());
}, 180_000);

afterAll(async () => {
  client?.close();
  await policy?.stop();
  await bus?.close();
  await db?.drop();
  await bundles?.cleanup();
});

const wire = (a: DeviceAssertion) => ({ credentialId: a.credentialId, authenticatorData: Buffer.from(a.authenticatorData), clientDataJson: Buffer.from(a.clientDataJSON), signature: Buffer.from(a.signature) });

/** Ed25519-signed vote (the factor the signer re-verifies) plus, when given, the device assertion. */
function vote(op: TestOperator, p: PendingApproval, verdict: 'approve' | 'reject', assertion?: DeviceAssertion): Promise<ApproveResponse> {
  const role = op.roles[0] as string;
  const signature = Buffer.from(ed25519.sign(approvalSigningBytes(subjectOf(p), op.id, role, verdict), op.secret));
  const req = { decisionId: p.decisionId, operatorId: op.id, role, keyId: op.keyId, signature, ...(assertion ? { deviceAssertion: wire(assertion) } : {}) };
  return verdict === 'approve'
    ? call<object, ApproveResponse>(client.approve.bind(client) as never, req, new Metadata())
    : call<object, ApproveResponse>(client.reject.bind(client) as never, { ...req, reason: 'not verified' }, new Metadata());
}

async function stored(decisionId: string): Promise<{ status: string; votes: { operator_id: string; device_id: string | null; sign_count: string | null }[] }> {
  const [d] = await db.admin<{ status: string }>(`SELECT status FROM decision WHERE id = $1`, [decisionId]);
  const votes = await db.admin<{ operator_id: string; device_id: string | null; sign_count: string | null }>(`SELECT operator_id, device_id, sign_count::text FROM approval_vote WHERE decision_id = $1 ORDER BY operator_id`, [decisionId]);
  return { status: d?.status ?? 'missing', votes };
}

describe('C-8.2.2.5-e spoofing-resistant approver identity over ApprovalService: FIDO2 assertions from registered devices', () => {
  it('refuses password-only, unregistered, foreign, revoked, phishing, unverified, replayed and malformed assertions; stores nothing', async () => {
    const p = await pendingWithdrawal(bus, client);
    const s = subjectOf(p);
    const refused = async (assertion: DeviceAssertion | undefined) => failure(vote(ALICE, p, 'approve', assertion));
    const unauth = (reason: string) => ({ code: status.UNAUTHENTICATED, reason });

    expect(await refused(undefined)).toEqual(unauth('DEVICE_ASSERTION_REQUIRED'));
    expect(await refused(unregistered.assertVote(s, ALICE.id, 'compliance', 'approve'))).toEqual(unauth('UNKNOWN_DEVICE'));
    expect(await refused(bobKey.assertVote(s, ALICE.id, 'compliance', 'approve'))).toEqual(unauth('DEVICE_NOT_OPERATORS'));
    expect(await refused(aliceOldKey.assertVote(s, ALICE.id, 'compliance', 'approve'))).toEqual(unauth('DEVICE_REVOKED'));
    expect(await refused(aliceKey.assertVote(s, ALICE.id, 'compliance', 'approve', { rpId: 'custody-test.example', signCount: 1 }))).toEqual(unauth('DEVICE_RP_ID_MISMATCH'));
    expect(await refused(aliceKey.assertVote(s, ALICE.id, 'compliance', 'approve', { origin: 'https://console.custody-test.example', signCount: 1 }))).toEqual(unauth('DEVICE_ORIGIN_MISMATCH'));
    expect(await refused(aliceKey.assertVote(s, ALICE.id, 'compliance', 'approve', { flags: FLAG_UP, signCount: 1 }))).toEqual(unauth('DEVICE_USER_NOT_VERIFIED'));
    expect(await refused(aliceKey.assertVote({ ...s, decisionId: 'another-decision' }, ALICE.id, 'compliance', 'approve', { signCount: 1 }))).toEqual(unauth('DEVICE_CHALLENGE_MISMATCH'));
    expect(await refused(aliceKey.assertVote(s, ALICE.id, 'compliance', 'reject', { signCount: 1 }))).toEqual(unauth('DEVICE_CHALLENGE_MISMATCH'));
    const good = aliceKey.assertVote(s, ALICE.id, 'compliance', 'approve', { signCount: 1 });
    expect(await refused({ ...good, authenticatorData: good.authenticatorData.subarray(0, 20) })).toEqual({ code: status.INVALID_ARGUMENT, reason: 'DEVICE_ASSERTION_MALFORMED' });
    const tampered = new Uint8Array(good.signature);
    tampered[10] = (tampered[10] as number) ^ 0x01;
    expect(await refused({ ...good, signature: tampered })).toEqual(unauth('DEVICE_SIGNATURE_INVALID'));

    expect(await stored(p.decisionId)).toEqual({ status: 'require_approval', votes: [] });
  });

  it('accepts registered, verified assertions of this vote, stores device and counter, reaches the quorum; a non-growing counter (clone) is refused', async () => {
    const p = await pendingWithdrawal(bus, client);
    expect(p.quorum).toBe(2);
    const one = await vote(ALICE, p, 'approve', aliceKey.assertVote(subjectOf(p), ALICE.id, 'compliance', 'approve', { signCount: 10 }));
    expect(one.quorumReached).toBe(false);
    const two = await vote(BOB, p, 'approve', bobKey.assertVote(subjectOf(p), BOB.id, 'treasury', 'approve', { signCount: 0 }));
    expect(two.quorumReached).toBe(true);
    expect(await stored(p.decisionId)).toEqual({
      status: 'allow',
      votes: [
        { operator_id: ALICE.id, device_id: aliceKey.credentialId, sign_count: '10' },
        { operator_id: BOB.id, device_id: bobKey.credentialId, sign_count: '0' },
      ],
    });

    // A second decision: Alice's authenticator presents a counter it already used (a clone).
    const q = await pendingWithdrawal(bus, client);
    for (const n of [10, 9]) expect(await failure(vote(ALICE, q, 'reject', aliceKey.assertVote(subjectOf(q), ALICE.id, 'compliance', 'reject', { signCount: n })))).toEqual({ code: status.UNAUTHENTICATED, reason: 'DEVICE_SIGN_COUNT_NOT_INCREASING' });
    // Bob's counter-less authenticator (always 0) stays usable; a clone of it is not detectable by counter (WebAuthn §6.1.1).
    await vote(ALICE, q, 'reject', aliceKey.assertVote(subjectOf(q), ALICE.id, 'compliance', 'reject', { signCount: 11 }));
    expect(await stored(q.decisionId)).toEqual({ status: 'rejected', votes: [{ operator_id: ALICE.id, device_id: aliceKey.credentialId, sign_count: '11' }] });
    const [counter] = await db.admin<{ sign_count: string; operator_id: string }>(`SELECT sign_count::text, operator_id FROM approval_device_counter WHERE device_id = $1`, [aliceKey.credentialId]);
    expect(counter).toEqual({ sign_count: '11', operator_id: ALICE.id });
  });
});
