import { describe, expect, it } from '@jest/globals';
import { refusalOutcome, type PreparedFacts, type RefusalFacts } from './signer-refusal.js';

describe('signer refusal outcome: only a spent decision of our PREPARED, unsigned withdrawal frees its nonce', () => {
  const refusal: RefusalFacts = { chain: 'anvil', decisionId: 'd-1', sourceWallet: 'hot-1', decisionConsumed: true };
  const ours: PreparedFacts = { chain: 'anvil', decisionId: 'd-1', walletId: 'hot-1', wallet: '0xabc', state: 'PREPARED', nonceReleased: false, hasSignedAttempt: false };

  it('released: same chain, decision and wallet, decision consumed, nothing signed, still PREPARED', () => {
    expect(refusalOutcome(refusal, 'anvil', ours)).toBe('released');
    // rows prepared before the wallet registry name the address as the wallet
    expect(refusalOutcome({ ...refusal, sourceWallet: '0xabc' }, 'anvil', { ...ours, walletId: '' })).toBe('released');
  });

  it('a signed attempt is kept (a refused fee-bump re-sign), even when the refusal says the decision is consumed', () => {
    expect(refusalOutcome(refusal, 'anvil', { ...ours, state: 'BROADCAST', hasSignedAttempt: true })).toBe('signed_kept');
    expect(refusalOutcome({ ...refusal, decisionConsumed: false }, 'anvil', { ...ours, state: 'SIGNED', hasSignedAttempt: true })).toBe('signed_kept');
  });

  it('refused before the reservation (decision not consumed): the genuine request may still be signed, nothing freed', () => {
    expect(refusalOutcome({ ...refusal, decisionConsumed: false }, 'anvil', ours)).toBe('not_consumed');
  });

  it('unknown withdrawal, another chain, decision or wallet: ignored', () => {
    expect(refusalOutcome(refusal, 'anvil', undefined)).toBe('unknown');
    expect(refusalOutcome({ ...refusal, chain: 'bitcoin' }, 'anvil', ours)).toBe('foreign');
    expect(refusalOutcome({ ...refusal, decisionId: 'd-2' }, 'anvil', ours)).toBe('foreign');
    expect(refusalOutcome({ ...refusal, sourceWallet: 'hot-2' }, 'anvil', ours)).toBe('foreign');
  });

  it('already released → duplicate; past PREPARED without a signature → not_prepared (nothing freed)', () => {
    expect(refusalOutcome(refusal, 'anvil', { ...ours, state: 'FAILED', nonceReleased: true })).toBe('duplicate');
    expect(refusalOutcome(refusal, 'anvil', { ...ours, state: 'FAILED' })).toBe('not_prepared');
  });
});
