import { describe, expect, it } from '@jest/globals';
import { denyDecision, NO_APPROVALS, parseDecision, SERVICE_REASON } from './decision.js';

const allow = { outcome: 'allow', reasons: [], approvals: { quorum: 0, roles: [], expires_in_seconds: 0 } };
const requireApproval = {
  outcome: 'require_approval',
  reasons: [{ code: 'amount_requires_approval', detail: 'amount 150000000 reaches the BTC threshold' }],
  approvals: { quorum: 2, roles: ['compliance', 'treasury'], expires_in_seconds: 14400 },
};
const hold = {
  outcome: 'hold',
  reasons: [{ code: 'new_account_hold', detail: 'held' }],
  approvals: { quorum: 0, roles: [], expires_in_seconds: 0 },
  hold_until: '2025-06-08T00:00:00Z',
};
const deny = {
  outcome: 'deny',
  reasons: [{ code: 'risk_sanctioned', detail: 'screening matched a sanctions list' }],
  approvals: { quorum: 0, roles: [], expires_in_seconds: 0 },
};

function invalidDetail(raw: unknown): string {
  const decision = parseDecision(raw);
  expect(decision.outcome).toBe('deny');
  expect(decision.reasons).toHaveLength(1);
  expect(decision.reasons[0]?.code).toBe(SERVICE_REASON.policyOutputInvalid);
  return decision.reasons[0]?.detail ?? '';
}

describe('parseDecision', () => {
  it('reads each outcome of the documented shape', () => {
    expect(parseDecision(allow)).toEqual({ outcome: 'allow', reasons: [], approvals: NO_APPROVALS });
    expect(parseDecision(requireApproval)).toEqual({
      outcome: 'require_approval',
      reasons: [{ code: 'amount_requires_approval', detail: 'amount 150000000 reaches the BTC threshold' }],
      approvals: { quorum: 2, roles: ['compliance', 'treasury'], expiresInSeconds: 14400 },
    });
    expect(parseDecision(hold)).toEqual({
      outcome: 'hold',
      reasons: [{ code: 'new_account_hold', detail: 'held' }],
      approvals: NO_APPROVALS,
      holdUntil: '2025-06-08T00:00:00Z',
    });
    expect(parseDecision(deny).outcome).toBe('deny');
  });

  it('returns frozen values', () => {
    const decision = parseDecision(requireApproval);
    expect(Object.isFrozen(decision)).toBe(true);
    expect(Object.isFrozen(decision.reasons)).toBe(true);
    expect(Object.isFrozen(decision.reasons[0])).toBe(true);
    expect(Object.isFrozen(decision.approvals.roles)).toBe(true);
  });
});

describe('C-9.3.2-b parseDecision fails closed on anything but the documented shape', () => {
  it.each([
    ['undefined', undefined],
    ['null', null],
    ['a string', 'allow'],
    ['an array', [allow]],
    ['true', true],
  ])('denies %s', (_name, raw) => {
    expect(invalidDetail(raw)).toBe('decision is not an object');
  });

  it('denies an unknown outcome', () => {
    expect(invalidDetail({ ...allow, outcome: 'approve' })).toBe('unknown outcome "approve"');
    expect(invalidDetail({ ...allow, outcome: 'ALLOW' })).toBe('unknown outcome "ALLOW"');
    expect(invalidDetail({ ...allow, outcome: 1 })).toBe('unknown outcome 1');
  });

  it('denies missing and extra keys', () => {
    expect(invalidDetail({ outcome: 'allow', reasons: [] })).toMatch(/^decision keys are \[outcome, reasons\]/);
    expect(invalidDetail({ ...allow, hold_until: '2025-06-08T00:00:00Z' })).toMatch(/^decision keys are/);
    expect(invalidDetail({ ...allow, signed: true })).toMatch(/^decision keys are/);
    const { hold_until: _ignored, ...holdWithoutTime } = hold;
    expect(invalidDetail(holdWithoutTime)).toMatch(/^decision keys are/);
  });

  it('denies malformed reasons', () => {
    expect(invalidDetail({ ...deny, reasons: {} })).toBe('reasons is not an array');
    expect(invalidDetail({ ...deny, reasons: [{ code: 'x' }] })).toBe('reasons[0] is not {code, detail}');
    expect(invalidDetail({ ...deny, reasons: [{ code: 'Risk-Blocked', detail: '' }] })).toMatch(/^reasons\[0\]\.code/);
    expect(invalidDetail({ ...deny, reasons: [{ code: 'x', detail: 7 }] })).toMatch(/^reasons\[0\]\.detail/);
    expect(invalidDetail({ ...deny, reasons: [{ code: 'x', detail: 'd', extra: 1 }] })).toBe('reasons[0] is not {code, detail}');
    expect(invalidDetail({ ...deny, reasons: Array.from({ length: 65 }, () => ({ code: 'x', detail: '' })) })).toBe('more than 64 reasons');
  });

  it('denies a deny, hold or require_approval without a reason', () => {
    expect(invalidDetail({ ...deny, reasons: [] })).toBe('deny without a reason');
    expect(invalidDetail({ ...hold, reasons: [] })).toBe('hold without a reason');
    expect(invalidDetail({ ...requireApproval, reasons: [] })).toBe('require_approval without a reason');
  });

  it('denies malformed approvals', () => {
    const withApprovals = (approvals: unknown) => ({ ...requireApproval, approvals });
    expect(invalidDetail(withApprovals({ quorum: 2, roles: [] }))).toBe('approvals is not {quorum, roles, expires_in_seconds}');
    expect(invalidDetail(withApprovals({ quorum: 1.5, roles: [], expires_in_seconds: 1 }))).toMatch(/^approvals\.quorum/);
    expect(invalidDetail(withApprovals({ quorum: -1, roles: [], expires_in_seconds: 1 }))).toMatch(/^approvals\.quorum/);
    expect(invalidDetail(withApprovals({ quorum: '2', roles: [], expires_in_seconds: 1 }))).toMatch(/^approvals\.quorum/);
    expect(invalidDetail(withApprovals({ quorum: 2, roles: ['Treasury'], expires_in_seconds: 1 }))).toBe('approvals.roles is not an array of role names');
    expect(invalidDetail(withApprovals({ quorum: 2, roles: ['treasury', 'treasury'], expires_in_seconds: 1 }))).toBe('approvals.roles has duplicates');
    expect(invalidDetail(withApprovals({ quorum: 1, roles: ['compliance', 'treasury'], expires_in_seconds: 1 }))).toBe('approvals.roles has more roles than the quorum');
    expect(invalidDetail(withApprovals({ quorum: 1, roles: [], expires_in_seconds: -5 }))).toMatch(/^approvals\.expires_in_seconds/);
  });

  it('denies require_approval without a quorum or expiry, and deny with approvals', () => {
    expect(invalidDetail({ ...requireApproval, approvals: { quorum: 0, roles: [], expires_in_seconds: 60 } })).toBe('require_approval without a quorum and an expiry');
    expect(invalidDetail({ ...requireApproval, approvals: { quorum: 1, roles: [], expires_in_seconds: 0 } })).toBe('require_approval without a quorum and an expiry');
    expect(invalidDetail({ ...deny, approvals: { quorum: 1, roles: [], expires_in_seconds: 60 } })).toBe('deny with an approval requirement');
  });

  it.each(['2025-06-08', '2025-06-08T00:00:00+00:00', '2025-06-08T00:00:00.000Z', '2025-02-29T00:00:00Z', 1749340800])(
    'denies a hold_until of %p',
    (holdUntil) => {
      expect(invalidDetail({ ...hold, hold_until: holdUntil })).toMatch(/^hold_until .* is not a canonical UTC timestamp$/);
    },
  );
});

describe('denyDecision', () => {
  it('is a frozen deny with one reason and no approvals', () => {
    const decision = denyDecision('policy_undefined', 'nothing');
    expect(decision).toEqual({ outcome: 'deny', reasons: [{ code: 'policy_undefined', detail: 'nothing' }], approvals: NO_APPROVALS });
    expect(Object.isFrozen(decision)).toBe(true);
  });
});
