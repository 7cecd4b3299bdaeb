import { describe, expect, it } from '@jest/globals';
import { ed25519 } from '@noble/curves/ed25519.js';
import { APPROVAL_DOMAIN, approvalSigningBytes, bundleActivationBytes, checkVote, verifiedAdmins, type ApprovalSubject, type Operator, type VoteCheck } from './approval.js';

const subject: ApprovalSubject = {
  decisionId: '3f1c1f9e-6a3b-4c8e-9f57-3c1d2b4a5e6f',
  withdrawalId: 'wd-1',
  asset: 'BTC',
  sourceWallet: 'btc-hot-01',
  destinationAddress: 'bc1qdest',
  destinationTag: '',
  amount: 150000000n,
  bundleDigest: 'ab'.repeat(32),
  quorum: 2,
  roles: ['treasury', 'compliance'],
  expiresAt: 1_750_000_000,
};

function operator(id: string, roles: string[]): { op: Operator; secret: Uint8Array } {
  const secret = ed25519.utils.randomSecretKey();
  return { op: { operatorId: id, roles, keys: new Map([['k1', ed25519.getPublicKey(secret)]]) }, secret };
}

const alice = operator('op-alice', ['compliance']);

function check(overrides: Partial<VoteCheck> = {}, signWith: { secret: Uint8Array; operatorId?: string; role?: string; subject?: ApprovalSubject } = { secret: alice.secret }): ReturnType<typeof checkVote> {
  const base = { operatorId: 'op-alice', role: 'compliance', verdict: 'approve' as const, ...overrides };
  const signature = ed25519.sign(approvalSigningBytes(signWith.subject ?? subject, signWith.operatorId ?? base.operatorId, signWith.role ?? base.role, base.verdict), signWith.secret);
  return checkVote({ subject, requestedBy: 'client-acme', operator: alice.op, keyId: 'k1', signature, voted: [], now: subject.expiresAt - 1, ...base, ...overrides });
}

describe('C-9.3.6.2-c operator votes: signature over the canonical decision, requester excluded, one vote, role, expiry', () => {
  it('accepts a valid vote', () => {
    expect(check()).toBeUndefined();
  });

  it('is domain separated and binds every field: changing any one changes the bytes', () => {
    const bytes = approvalSigningBytes(subject, 'op-alice', 'compliance', 'approve');
    expect(Buffer.from(bytes.subarray(0, APPROVAL_DOMAIN.length)).toString()).toBe(APPROVAL_DOMAIN);
    const variants: ApprovalSubject[] = [
      { ...subject, decisionId: 'other' },
      { ...subject, withdrawalId: 'wd-2' },
      { ...subject, asset: 'ETH' },
      { ...subject, sourceWallet: 'btc-cold-01' },
      { ...subject, destinationAddress: 'bc1qother' },
      { ...subject, destinationTag: 'x' },
      { ...subject, amount: 150000001n },
      { ...subject, bundleDigest: 'cd'.repeat(32) },
      { ...subject, quorum: 1 },
      { ...subject, roles: ['treasury'] },
      { ...subject, expiresAt: subject.expiresAt + 1 },
    ];
    for (const v of variants) expect(Buffer.from(approvalSigningBytes(v, 'op-alice', 'compliance', 'approve')).equals(Buffer.from(bytes))).toBe(false);
    expect(Buffer.from(approvalSigningBytes(subject, 'op-alice', 'compliance', 'reject')).equals(Buffer.from(bytes))).toBe(false);
    // Role order does not matter (sorted), so the client and server agree.
    expect(Buffer.from(approvalSigningBytes({ ...subject, roles: ['compliance', 'treasury'] }, 'op-alice', 'compliance', 'approve')).equals(Buffer.from(bytes))).toBe(true);
  });

  it('refuses, in order: unknown operator, unknown key, bad signature, self-approval, duplicate, role not held, role not required, expired', () => {
    expect(check({ operator: undefined })).toBe('UNKNOWN_OPERATOR');
    expect(check({ keyId: 'k2' })).toBe('UNKNOWN_OPERATOR_KEY');
    expect(check({}, { secret: ed25519.utils.randomSecretKey() })).toBe('BAD_APPROVAL_SIGNATURE');
    expect(check({}, { secret: alice.secret, subject: { ...subject, amount: 1n } })).toBe('BAD_APPROVAL_SIGNATURE');
    expect(check({ role: 'treasury' }, { secret: alice.secret, role: 'compliance' })).toBe('BAD_APPROVAL_SIGNATURE');
    expect(check({ requestedBy: 'op-alice' })).toBe('SELF_APPROVAL');
    expect(check({ voted: ['op-bob', 'op-alice'] })).toBe('DUPLICATE_VOTE');
    expect(check({ role: 'treasury' })).toBe('ROLE_NOT_HELD');
    const auditor = operator('op-alice', ['compliance', 'auditor']);
    expect(check({ operator: auditor.op, role: 'auditor' }, { secret: auditor.secret })).toBe('ROLE_NOT_REQUIRED');
    expect(check({ now: subject.expiresAt })).toBe('APPROVAL_EXPIRED');
  });

  it('a reject may be cast in any role the operator holds', () => {
    const auditor = operator('op-alice', ['auditor']);
    expect(check({ operator: auditor.op, role: 'auditor', verdict: 'reject' }, { secret: auditor.secret })).toBeUndefined();
  });
});

describe('C-9.3.2-a bundle activation signatures: distinct admins over the digest', () => {
  const a1 = operator('admin-1', ['policy_admin']);
  const a2 = operator('admin-2', ['policy_admin']);
  const op = operator('op-bob', ['treasury']);
  const ops = new Map([a1, a2, op].map((o) => [o.op.operatorId, o.op]));
  const digest = '12'.repeat(32);
  const sig = (o: { op: Operator; secret: Uint8Array }, d = digest, id = o.op.operatorId) => ({ adminId: id, keyId: 'k1', signature: ed25519.sign(bundleActivationBytes(d, id), o.secret) });

  it('counts each admin once, ignores non-admins and signatures over another digest', () => {
    expect(verifiedAdmins(digest, [sig(a1), sig(a2)], ops, 'policy_admin')).toEqual(['admin-1', 'admin-2']);
    expect(verifiedAdmins(digest, [sig(a1), sig(a1)], ops, 'policy_admin')).toEqual(['admin-1']);
    expect(verifiedAdmins(digest, [sig(a1), sig(op)], ops, 'policy_admin')).toEqual(['admin-1']);
    expect(verifiedAdmins(digest, [sig(a1), sig(a2, '34'.repeat(32))], ops, 'policy_admin')).toEqual(['admin-1']);
    // admin-1's signature presented as admin-2's does not verify.
    expect(verifiedAdmins(digest, [{ ...sig(a1), adminId: 'admin-2' }], ops, 'policy_admin')).toEqual([]);
  });
});
