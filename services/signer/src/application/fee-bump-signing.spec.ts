// Fee-bump re-signature wired into the tx.prepared flow (unit tier: local sealed custody,
// in-memory stores): a second tx.prepared for a SIGNED decision is signed only if the
// fee-bump rule accepts it against the payload signed last; otherwise DECISION_ALREADY_USED.
import { randomBytes, randomUUID } from 'node:crypto';
import { beforeEach, describe, expect, it } from '@jest/globals';
import { hex } from '@scure/base';
import { InMemorySealedBlobStore, LocalSealedKeyCustody } from '../adapters/custody/local-sealed.js';
import { decodeEip1559Transaction, eip1559UnsignedPayload } from '../domain/crypto/evm.js';
import { KeyLifecycle, generationRequest } from './key-lifecycle.js';
import { SignTransaction } from './sign-transaction.js';
import { ETH, MemoryStores, assets, operators, ops, prepared, scenario, signTransition, trustedPolicyKeys, type Scenario } from '../../test/fixtures.js';

const GWEI = 1_000_000_000n;
const clock = { now: () => new Date(Date.UTC(2026, 10, 24, 10, 0, 0)) };
const ctx = () => ({ eventId: randomUUID(), correlationId: randomUUID() });

interface World {
  stores: MemoryStores;
  useCase: SignTransaction;
  lifecycle: KeyLifecycle;
  walletId: string;
  keyId: string;
}

async function world(): Promise<World> {
  const stores = new MemoryStores();
  const local = new LocalSealedKeyCustody({ masterKey: randomBytes(32), kekId: 'kek-bump', store: new InMemorySealedBlobStore() });
  const custody = new Map([[local.kind, local]]);
  const lifecycle = new KeyLifecycle({ store: stores, custody, clock, operators, adminRoles: ['key_custodian', 'security_officer'] });
  const walletId = `eth-hot-${randomUUID().slice(0, 8)}`;
  const keyId = `key-${walletId}`;
  const expiresAt = Math.floor(clock.now().getTime() / 1000) + 300;
  const gen = { requestId: randomUUID(), keyId, walletId, chain: ETH.chain, algorithm: 'secp256k1' as const, tier: 'hot' as const, custody: 'local-sealed' as const, expiresAt };
  await lifecycle.generate(gen, [signTransition(generationRequest(gen), ops.carol), signTransition(generationRequest(gen), ops.dave)]);
  const act = { requestId: randomUUID(), keyId, transition: 'activate' as const, ttlSeconds: 3600, expiresAt };
  await lifecycle.transition(act, [signTransition(act, ops.carol), signTransition(act, ops.dave)], 'test activation');
  return { stores, useCase: new SignTransaction({ store: stores, custody, clock, trustedPolicyKeys, operators, assets }), lifecycle, walletId, keyId };
}

describe('fee bump of a signed decision (EVM): re-signed only if the fee-bump rule passes against the payload signed last', () => {
  let w: World;
  let s: Scenario;
  beforeEach(async () => {
    w = await world();
    s = scenario(w.walletId, clock.now());
    expect(await w.useCase.handle(prepared(s), ctx())).toBe('signed');
  });

  const last = () => w.stores.outcomes.at(-1);

  it('higher fees, everything else identical → tx.signed for the same nonce; the new payload is recorded', async () => {
    const bump = { maxFeePerGas: 40n * GWEI, maxPriorityFeePerGas: 2n * GWEI };
    expect(await w.useCase.handle(prepared(s, { tx: bump }), ctx())).toBe('signed');
    const o = last();
    if (o?.kind !== 'signed') throw new Error('expected signed');
    const decoded = decodeEip1559Transaction(o.signedTx);
    expect(decoded.tx).toMatchObject({ nonce: s.tx.nonce, value: s.tx.value, gasLimit: s.tx.gasLimit, ...bump });
    expect(`0x${hex.encode(decoded.signed?.from ?? new Uint8Array())}`).toBe(w.stores.keys.get(w.keyId)?.address);
    const d = w.stores.decisions.get(s.decisionId);
    expect(d).toMatchObject({ status: 'signed', bumps: 1, txHash: o.txHash });
    expect(d?.signedPayload).toEqual(eip1559UnsignedPayload({ ...s.tx, ...bump }));
    expect(w.stores.outcomes.filter((x) => x.kind === 'signed')).toHaveLength(2);
  });

  it.each([
    ['the same transaction again (not higher)', 'FEE_BUMP_NOT_HIGHER', { tx: {} }],
    ['a lower max fee', 'FEE_BUMP_FEE_DECREASED', { tx: { maxFeePerGas: 29n * GWEI, maxPriorityFeePerGas: 2n * GWEI } }],
    ['a changed gas limit', 'FEE_BUMP_FIELD_CHANGED', { tx: { maxFeePerGas: 40n * GWEI, gasLimit: 30_000n } }],
  ])('%s → DECISION_ALREADY_USED (%s), nothing signed, not consumed', async (_name, bumpCode, options) => {
    expect(await w.useCase.handle(prepared(s, options), ctx())).toBe('refused');
    const o = last();
    expect(o).toMatchObject({ kind: 'refused', refusal: { code: 'DECISION_ALREADY_USED' }, decisionConsumed: false });
    expect(o?.kind === 'refused' ? o.refusal.detail : '').toContain(bumpCode);
    expect(w.stores.outcomes.filter((x) => x.kind === 'signed')).toHaveLength(1);
    expect(w.stores.decisions.get(s.decisionId)?.bumps).toBeUndefined();
  });

  it('a second bump is checked against the FIRST bump, not the original', async () => {
    expect(await w.useCase.handle(prepared(s, { tx: { maxFeePerGas: 40n * GWEI } }), ctx())).toBe('signed');
    // higher than the original (30 gwei), lower than the payload signed last (40 gwei)
    expect(await w.useCase.handle(prepared(s, { tx: { maxFeePerGas: 35n * GWEI } }), ctx())).toBe('refused');
    expect(last()).toMatchObject({ refusal: { code: 'DECISION_ALREADY_USED' } });
    expect(await w.useCase.handle(prepared(s, { tx: { maxFeePerGas: 45n * GWEI } }), ctx())).toBe('signed');
    expect(w.stores.decisions.get(s.decisionId)?.bumps).toBe(2);
  });

  it('a tampered bump (amount) is refused by the intent check before the fee-bump rule', async () => {
    expect(await w.useCase.handle(prepared(s, { tx: { maxFeePerGas: 40n * GWEI, value: s.tx.value + 1n } }), ctx())).toBe('refused');
    expect(last()).toMatchObject({ refusal: { code: 'TX_AMOUNT_MISMATCH' } });
  });

  it('a suspended key signs no bump (KEY_SUSPENDED, decision not consumed: the first signature stands)', async () => {
    const expiresAt = Math.floor(clock.now().getTime() / 1000) + 300;
    const suspend = { requestId: randomUUID(), keyId: w.keyId, transition: 'suspend' as const, expiresAt };
    await w.lifecycle.transition(suspend, [signTransition(suspend, ops.carol), signTransition(suspend, ops.dave)], 'incident');
    expect(await w.useCase.handle(prepared(s, { tx: { maxFeePerGas: 40n * GWEI } }), ctx())).toBe('refused');
    expect(last()).toMatchObject({ refusal: { code: 'KEY_SUSPENDED' }, decisionConsumed: false });
    expect(w.stores.decisions.get(s.decisionId)).toMatchObject({ status: 'signed' });
  });

  it('the same bump event redelivered is a duplicate', async () => {
    const c = ctx();
    const p = prepared(s, { tx: { maxFeePerGas: 40n * GWEI } });
    expect(await w.useCase.handle(p, c)).toBe('signed');
    expect(await w.useCase.handle(p, c)).toBe('duplicate');
    expect(w.stores.decisions.get(s.decisionId)?.bumps).toBe(1);
  });
});
