// The wallet registry's mapping from key.lifecycle events (signer) to wallet id → address/state.
import { describe, expect, it } from '@jest/globals';
import { KeyLifecycle, KeyPurpose, KeyTransition, timestampFromDate } from '@custody/contracts';
import { applyKeyLifecycle, refusalFor, type WalletRow } from './wallet-registry.js';

const CHAIN = 'ethereum-local';
const A1 = '0x00000000000000000000000000000000000000A1';
const A2 = '0x00000000000000000000000000000000000000a2';
const t0 = new Date('2026-11-24T12:00:00Z');
const later = (s: number): Date => new Date(t0.getTime() + s * 1000);

function event(transition: KeyTransition, over: Partial<KeyLifecycle> = {}, at: Date = t0): KeyLifecycle {
  return KeyLifecycle.fromPartial({ keyId: 'k1', walletId: 'eth-hot-01', transition, purpose: KeyPurpose.KEY_PURPOSE_SIGNATURE, chain: CHAIN, address: A1, transitionedAt: timestampFromDate(at), ...over });
}

function row(change: ReturnType<typeof applyKeyLifecycle>): WalletRow {
  if (change.kind !== 'upsert') throw new Error(`ignored: ${change.reason}`);
  return change.row;
}

describe('wallet registry: key.lifecycle → wallet id, address, state', () => {
  it.each([
    [KeyTransition.KEY_TRANSITION_GENERATED, 'active'],
    [KeyTransition.KEY_TRANSITION_ACTIVATED, 'active'],
    [KeyTransition.KEY_TRANSITION_RESUMED, 'active'],
    [KeyTransition.KEY_TRANSITION_DEACTIVATED, 'inactive'],
    [KeyTransition.KEY_TRANSITION_SUSPENDED, 'suspended'],
    [KeyTransition.KEY_TRANSITION_RETIRED, 'retired'],
    [KeyTransition.KEY_TRANSITION_DESTROYED, 'destroyed'],
  ])('transition %p on a new wallet → state %s at the lower-cased address', (transition, state) => {
    expect(row(applyKeyLifecycle(undefined, event(transition), CHAIN, t0))).toEqual({ walletId: 'eth-hot-01', chain: CHAIN, address: A1.toLowerCase(), keyId: 'k1', state, updatedAt: t0 });
  });

  it('suspended, retired and destroyed wallets are refused with their code; active and inactive ones are not', () => {
    const base = row(applyKeyLifecycle(undefined, event(KeyTransition.KEY_TRANSITION_GENERATED), CHAIN, t0));
    expect(refusalFor(base)).toBeUndefined();
    expect(refusalFor({ ...base, state: 'inactive' })).toBeUndefined();
    expect(refusalFor({ ...base, state: 'suspended' })).toBe('WALLET_SUSPENDED');
    expect(refusalFor({ ...base, state: 'retired' })).toBe('WALLET_RETIRED');
    expect(refusalFor({ ...base, state: 'destroyed' })).toBe('WALLET_DESTROYED');
  });

  it('suspend then resume: the address stays, the state follows', () => {
    const generated = row(applyKeyLifecycle(undefined, event(KeyTransition.KEY_TRANSITION_GENERATED), CHAIN, t0));
    const suspended = row(applyKeyLifecycle(generated, event(KeyTransition.KEY_TRANSITION_SUSPENDED, { address: '' }, later(1)), CHAIN, t0));
    expect(suspended).toMatchObject({ state: 'suspended', address: A1.toLowerCase() });
    expect(row(applyKeyLifecycle(suspended, event(KeyTransition.KEY_TRANSITION_RESUMED, {}, later(2)), CHAIN, t0))).toMatchObject({ state: 'active', address: A1.toLowerCase() });
  });

  it('ROTATED moves the wallet to the successor key and its new address; late events of the old key change nothing', () => {
    const old = row(applyKeyLifecycle(undefined, event(KeyTransition.KEY_TRANSITION_GENERATED), CHAIN, t0));
    const rotated = row(applyKeyLifecycle(old, event(KeyTransition.KEY_TRANSITION_ROTATED, { successorKeyId: 'k2', address: A2 }, later(5)), CHAIN, t0));
    expect(rotated).toMatchObject({ keyId: 'k2', address: A2, state: 'active' });
    expect(applyKeyLifecycle(rotated, event(KeyTransition.KEY_TRANSITION_RETIRED, {}, later(6)), CHAIN, t0)).toMatchObject({ kind: 'ignored' });
    expect(applyKeyLifecycle(rotated, event(KeyTransition.KEY_TRANSITION_ACTIVATED, {}, later(1)), CHAIN, t0)).toMatchObject({ kind: 'ignored' });
  });

  it('a retired or destroyed key never becomes active again', () => {
    const destroyed = row(applyKeyLifecycle(undefined, event(KeyTransition.KEY_TRANSITION_DESTROYED), CHAIN, t0));
    expect(applyKeyLifecycle(destroyed, event(KeyTransition.KEY_TRANSITION_ACTIVATED, {}, later(1)), CHAIN, t0)).toMatchObject({ kind: 'ignored' });
  });

  it('only signature keys of our chain count; no wallet id or a malformed address is refused (dead letter), never guessed', () => {
    expect(applyKeyLifecycle(undefined, event(KeyTransition.KEY_TRANSITION_GENERATED, { chain: 'bitcoin-mainnet' }), CHAIN, t0)).toMatchObject({ kind: 'ignored' });
    expect(applyKeyLifecycle(undefined, event(KeyTransition.KEY_TRANSITION_GENERATED, { purpose: KeyPurpose.KEY_PURPOSE_ENCRYPTION }), CHAIN, t0)).toMatchObject({ kind: 'ignored' });
    expect(() => applyKeyLifecycle(undefined, event(KeyTransition.KEY_TRANSITION_GENERATED, { walletId: '' }), CHAIN, t0)).toThrow(expect.objectContaining({ code: 'INVALID_STATE' }));
    expect(() => applyKeyLifecycle(undefined, event(KeyTransition.KEY_TRANSITION_GENERATED, { address: 'eth-hot-01' }), CHAIN, t0)).toThrow(expect.objectContaining({ code: 'INVALID_ADDRESS' }));
    expect(() => applyKeyLifecycle(undefined, event(KeyTransition.KEY_TRANSITION_ACTIVATED, { address: '' }), CHAIN, t0)).toThrow(expect.objectContaining({ code: 'INVALID_ADDRESS' }));
  });

  it('an event without transitioned_at is stamped with the fallback time', () => {
    expect(row(applyKeyLifecycle(undefined, event(KeyTransition.KEY_TRANSITION_GENERATED, { transitionedAt: undefined }), CHAIN, later(9))).updatedAt).toEqual(later(9));
  });
});
