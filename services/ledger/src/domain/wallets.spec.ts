import { describe, expect, it } from '@jest/globals';
import { walletChange, type KeyLifecycleFacts, type WalletRecord } from './wallets.js';

const t0 = new Date('2026-01-01T00:00:00Z');
const t1 = new Date('2026-01-02T00:00:00Z');
const facts = (over: Partial<KeyLifecycleFacts> = {}): KeyLifecycleFacts => ({ keyId: 'k1', signatureKey: true, walletId: 'eth-hot-01', tier: 'hot', chain: 'ethereum', address: '0xabc', at: t1, ...over });
const row: WalletRecord = { walletId: 'eth-hot-01', chain: 'ethereum', tier: 'hot', address: '0xabc', updatedAt: t0 };

describe('wallet registry from key.lifecycle', () => {
  it('registers a signature key\'s wallet with its tier, chain and address', () => {
    expect(walletChange(undefined, facts())).toEqual({ kind: 'register', wallet: { walletId: 'eth-hot-01', chain: 'ethereum', tier: 'hot', address: '0xabc', updatedAt: t1 } });
  });

  it('ignores encryption keys, events without a wallet id, and a new wallet without a tier (stays unknown: fail closed)', () => {
    expect(walletChange(undefined, facts({ signatureKey: false }))).toMatchObject({ kind: 'ignored' });
    expect(walletChange(undefined, facts({ walletId: '' }))).toMatchObject({ kind: 'ignored' });
    expect(walletChange(undefined, facts({ tier: undefined }))).toMatchObject({ kind: 'ignored' });
  });

  it('refuses a wallet id that cannot be an account id, and the reserved "deposits"', () => {
    for (const walletId of ['a:b', 'deposits', ' x']) expect(() => walletChange(undefined, facts({ walletId }))).toThrow(expect.objectContaining({ code: 'WALLET_ID_INVALID' }));
  });

  it('a later event changes tier/address; an event without a tier keeps it; an older event changes nothing', () => {
    expect(walletChange(row, facts({ tier: 'warm' }))).toMatchObject({ kind: 'register', wallet: { tier: 'warm', address: '0xabc' } });
    expect(walletChange(row, facts({ tier: undefined, address: '0xdef' }))).toMatchObject({ kind: 'register', wallet: { tier: 'hot', address: '0xdef' } });
    expect(walletChange({ ...row, updatedAt: t1 }, facts({ tier: 'cold', at: t0 }))).toMatchObject({ kind: 'ignored' });
    expect(walletChange(row, facts())).toMatchObject({ kind: 'ignored', reason: 'no change' });
  });
});
