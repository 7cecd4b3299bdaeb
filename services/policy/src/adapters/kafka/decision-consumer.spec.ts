import { describe, expect, it } from '@jest/globals';
import { RiskAssessed, RiskVerdict, WithdrawalRequested, timestampFromDate } from '@custody/contracts';
import { assessmentOf, requestOf } from './decision-consumer.js';

describe('event → policy facts mapping', () => {
  it('maps verdicts, flags sanctions from the reasons, and ignores deposit screenings', () => {
    const at = new Date('2025-06-02T09:58:00Z');
    const base = { assessmentId: 'a1', withdrawalId: 'wd-1', score: 12, assessedAt: timestampFromDate(at) };
    expect(assessmentOf(RiskAssessed.fromPartial({ ...base, verdict: RiskVerdict.RISK_VERDICT_CLEAR }))).toEqual({ withdrawalId: 'wd-1', assessmentId: 'a1', verdict: 'ALLOW', score: 12, sanctionsHit: false, assessedAt: at });
    expect(assessmentOf(RiskAssessed.fromPartial({ ...base, verdict: RiskVerdict.RISK_VERDICT_REVIEW }))?.verdict).toBe('REVIEW');
    const blocked = assessmentOf(RiskAssessed.fromPartial({ ...base, verdict: RiskVerdict.RISK_VERDICT_BLOCK, reasons: [{ code: 'SANCTIONED_ADDRESS', detail: '' }] }));
    expect(blocked).toMatchObject({ verdict: 'BLOCK', sanctionsHit: true });
    expect(assessmentOf(RiskAssessed.fromPartial({ ...base, verdict: RiskVerdict.RISK_VERDICT_UNSPECIFIED }))?.verdict).toBe('UNKNOWN');
    expect(assessmentOf(RiskAssessed.fromPartial({ ...base, withdrawalId: '', depositId: 'dep-1' }))).toBeUndefined();
  });

  it('refuses a withdrawal without a canonical positive amount (dead letter, not a decision)', () => {
    const ok = { withdrawalId: 'wd-1', asset: 'BTC', destinationAddress: 'bc1q', amount: '1000' };
    expect(requestOf(WithdrawalRequested.fromPartial(ok)).amount).toBe(1000n);
    for (const amount of ['', '0', '01', '1.5', '-1', '1e3']) expect(() => requestOf(WithdrawalRequested.fromPartial({ ...ok, amount }))).toThrow(/canonical positive amount/);
    expect(() => requestOf(WithdrawalRequested.fromPartial({ ...ok, withdrawalId: '' }))).toThrow();
  });
});
