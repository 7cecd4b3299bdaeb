import { randomBytes, randomUUID } from 'node:crypto';
import { beforeEach, describe, expect, it } from '@jest/globals';
import { ed25519 } from '@noble/curves/ed25519.js';
import { secp256k1 } from '@noble/curves/secp256k1.js';
import { hex } from '@scure/base';
import { signDecisionToken } from '@custody/decision-token';
import { InMemorySealedBlobStore, LocalSealedKeyCustody } from '../adapters/custody/local-sealed.js';
import { decodeEip1559Transaction, eip1559SigningHash, signEip1559Transaction } from '../domain/crypto/evm.js';
import { bigintToBytes } from '../domain/crypto/bytes.js';
import type { RefusalCode } from '../domain/refusal.js';
import { KeyLifecycle } from './key-lifecycle.js';
import { SignTransaction, type AssetProfile } from './sign-transaction.js';
import type { SignedOutcome } from './ports.js';
import {
  AMOUNT,
  ETH,
  MemoryStores,
  OTHER_DESTINATION,
  POLICY_KEY_ID,
  approve,
  policySeed,
  assets,
  operators,
  ops,
  prepared,
  scenario,
  signTransition,
  trustedPolicyKeys,
  type PreparedOptions,
  type Scenario,
} from '../../test/fixtures.js';

class MutableClock {
  ms = Date.UTC(2026, 10, 24, 10, 0, 0);
  now(): Date {
    return new Date(this.ms);
  }
}

interface World {
  clock: MutableClock;
  stores: MemoryStores;
  useCase: SignTransaction;
  lifecycle: KeyLifecycle;
  walletId: string;
  keyId: string;
}

async function world(options: { assets?: Map<string, AssetProfile>; activation?: { ttlSeconds: number; maxSignatures?: number } } = {}): Promise<World> {
  const clock = new MutableClock();
  const stores = new MemoryStores();
  const local = new LocalSealedKeyCustody({ masterKey: randomBytes(32), kekId: 'kek-unit', store: new InMemorySealedBlobStore() });
  const custody = new Map([[local.kind, local]]);
  const lifecycle = new KeyLifecycle({ store: stores, custody, clock, operators, adminRoles: ['key_custodian', 'security_officer'] });
  const walletId = `eth-hot-${randomUUID().slice(0, 8)}`;
  const keyId = `key-${walletId}`;
  const expiresAt = Math.floor(clock.ms / 1000) + 300;
  const gen = { requestId: randomUUID(), keyId, walletId, chain: ETH.chain, algorithm: 'secp256k1' as const, tier: 'hot' as const, custody: 'local-sealed' as const, expiresAt };
  const { generationRequest } = await import('./key-lifecycle.js');
  await lifecycle.generate(gen, [signTransition(generationRequest(gen), ops.carol), signTransition(generationRequest(gen), ops.dave)]);
  const activation = options.activation ?? { ttlSeconds: 3600 };
  const act = { requestId: randomUUID(), keyId, transition: 'activate' as const, ...activation, expiresAt };
  await lifecycle.transition(act, [signTransition(act, ops.carol), signTransition(act, ops.dave)], 'test activation');
  const useCase = new SignTransaction({ store: stores, custody, clock, trustedPolicyKeys, operators, assets: options.assets ?? assets });
  return { clock, stores, useCase, lifecycle, walletId, keyId };
}

const ctx = () => ({ eventId: randomUUID(), correlationId: randomUUID() });

function lastOutcome(w: World) {
  const o = w.stores.outcomes[w.stores.outcomes.length - 1];
  if (!o) throw new Error('no outcome');
  return o;
}

describe('C-8.2.2.5-a what you approve is what you sign (unit, local sealed custody)', () => {
  let w: World;
  let s: Scenario;
  beforeEach(async () => {
    w = await world();
    s = scenario(w.walletId, w.clock.now());
  });

  it('signs a request whose token, approvals and decoded transaction all agree; the signature recovers the wallet key', async () => {
    expect(await w.useCase.handle(prepared(s), ctx())).toBe('signed');
    const o = lastOutcome(w) as SignedOutcome;
    expect(o.kind).toBe('signed');
    const decoded = decodeEip1559Transaction(o.signedTx);
    const key = w.stores.keys.get(w.keyId);
    expect(`0x${hex.encode(decoded.signed?.from ?? new Uint8Array())}`).toBe(key?.address);
    expect(decoded.tx.value).toBe(AMOUNT);
    expect(decoded.tx.chainId).toBe(ETH.chainId);
    // independent check with @noble: the signature over the signing hash verifies under the key's public key
    const sig = decoded.signed?.signature;
    if (!sig || !key) throw new Error('unsigned');
    const compact = new Uint8Array([...bigintToBytes(sig.r, 32), ...bigintToBytes(sig.s, 32)]);
    expect(secp256k1.verify(compact, eip1559SigningHash(decoded.tx), key.publicKey, { prehash: false })).toBe(true);
    expect(w.stores.decisions.get(s.decisionId)?.status).toBe('signed');
  });

  const otherPolicy = ed25519.utils.randomSecretKey();
  const cases: Array<[string, (s: Scenario) => PreparedOptions, RefusalCode]> = [
    ['token signed by a key the signer does not trust, under the trusted key id (forged)', (s) => ({ token: signDecisionToken(s.claims, { keyId: POLICY_KEY_ID, secretKey: otherPolicy }) }), 'TOKEN_BAD_SIGNATURE'],
    ['token under an unknown policy key id', (s) => ({ token: signDecisionToken(s.claims, { keyId: 'rogue', secretKey: otherPolicy }) }), 'TOKEN_UNKNOWN_KEY'],
    ['genuine token with its signature altered', (s) => ({ token: `${signDecisionToken(s.claims, { keyId: POLICY_KEY_ID, secretKey: policySeed }).slice(0, -3)}AAA` }), 'TOKEN_BAD_SIGNATURE'],
    ['genuine token re-bound to a larger amount (payload edited, signature kept)', (s) => {
      const genuine = signDecisionToken(s.claims, { keyId: POLICY_KEY_ID, secretKey: policySeed });
      const forged = signDecisionToken({ ...s.claims, amount: AMOUNT * 2n }, { keyId: POLICY_KEY_ID, secretKey: otherPolicy });
      return { token: `${forged.split('.')[0]}.${genuine.split('.')[1]}`, fields: { amount: (AMOUNT * 2n).toString() }, tx: { value: AMOUNT * 2n } };
    }, 'TOKEN_BAD_SIGNATURE'],
    ['token that is not a token', () => ({ token: 'not-a-token' }), 'TOKEN_MALFORMED'],
    ['request amount differs from the token', () => ({ fields: { amount: (AMOUNT + 1n).toString() } }), 'TOKEN_BINDING_MISMATCH'],
    ['request destination differs from the token', () => ({ fields: { destinationAddress: OTHER_DESTINATION } }), 'TOKEN_BINDING_MISMATCH'],
    ['request source wallet differs from the token', () => ({ fields: { sourceWallet: 'eth-cold-other' } }), 'TOKEN_BINDING_MISMATCH'],
    ['request decision id differs from the token', () => ({ fields: { decisionId: 'dec-other' } }), 'TOKEN_BINDING_MISMATCH'],
    ['request chain differs from the asset profile', () => ({ fields: { chain: 'ethereum-mainnet' } }), 'CHAIN_MISMATCH'],
    ['tx value tampered', () => ({ tx: { value: AMOUNT * 10n } }), 'TX_AMOUNT_MISMATCH'],
    ['tx recipient tampered', () => ({ tx: { to: hex.decode(OTHER_DESTINATION.slice(2)) } }), 'TX_DESTINATION_MISMATCH'],
    ['tx chain id tampered (another chain)', () => ({ tx: { chainId: 1n } }), 'TX_CHAIN_ID_MISMATCH'],
    ['tx carries call data', () => ({ tx: { data: Uint8Array.of(0xa9, 0x05, 0x9c, 0xbb) } }), 'TX_DATA_NOT_ALLOWED'],
    ['tx carries an access list', () => ({ tx: { accessList: [{ address: new Uint8Array(20), storageKeys: [] }] } }), 'TX_DATA_NOT_ALLOWED'],
    ['tx fee above the cap', () => ({ tx: { maxFeePerGas: 10n ** 13n } }), 'TX_FEE_ABOVE_CAP'],
    ['tx fee above the request fee cap', () => ({ fields: { feeCap: '1000' } }), 'TX_FEE_ABOVE_CAP'],
    ['tx nonce differs from the declared nonce', () => ({ tx: { nonce: 8n } }), 'TX_NONCE_MISMATCH'],
    ['tx already signed', (s) => ({ unsignedTx: signEip1559Transaction(s.tx, randomBytes(32)).raw }), 'TX_MALFORMED'],
    ['tx bytes are garbage', () => ({ unsignedTx: Uint8Array.of(2, 0xc0, 1) }), 'TX_MALFORMED'],
    ['no approvals although the token needs 2', () => ({ approvals: [] }), 'QUORUM_NOT_MET'],
    ['one approval of 2', (s) => ({ approvals: [approve(s, ops.alice)] }), 'QUORUM_NOT_MET'],
    ['the same operator twice', (s) => ({ approvals: [approve(s, ops.alice), approve(s, ops.alice)] }), 'QUORUM_NOT_MET'],
    ['an approval in a role the token does not name', (s) => ({ approvals: [approve(s, ops.alice), approve(s, ops.carol)] }), 'QUORUM_NOT_MET'],
    ['an approval in a role the operator does not hold', (s) => ({ approvals: [approve(s, ops.alice), approve(s, ops.carol, { role: 'compliance' })] }), 'QUORUM_NOT_MET'],
    ['a forged approval signature', (s) => ({ approvals: [approve(s, ops.alice), { ...approve(s, ops.bob), signature: Buffer.alloc(64, 1) }] }), 'APPROVAL_INVALID'],
    ['an approval of another decision', (s) => ({ approvals: [approve(s, ops.alice), approve({ ...s, claims: { ...s.claims, decisionId: 'dec-other' } }, ops.bob)] }), 'APPROVAL_INVALID'],
    ['the approval window extended after signing', (s) => ({ approvalsExpireAt: s.approvalsExpireAt + 86400 }), 'APPROVAL_INVALID'],
    ['no approval window', () => ({ approvalsExpireAt: null }), 'QUORUM_NOT_MET'],
  ];

  it.each(cases)('refuses: %s', async (_title, mutate, code) => {
    expect(await w.useCase.handle(prepared(s, mutate(s)), ctx())).toBe('refused');
    const o = lastOutcome(w);
    expect(o.kind === 'refused' && o.refusal.code).toBe(code);
    expect(w.stores.outcomes.filter((x) => x.kind === 'signed')).toHaveLength(0);
    // Early refusals do not burn the decision id (an attacker cannot block a real decision).
    expect(w.stores.decisions.has(s.decisionId)).toBe(false);
  });

  it('refuses an expired decision token (C-8.2.2.5-a "expired → refused")', async () => {
    const p = prepared(s);
    w.clock.ms += 601_000;
    expect(await w.useCase.handle(p, ctx())).toBe('refused');
    expect(lastOutcome(w)).toMatchObject({ kind: 'refused', refusal: { code: 'TOKEN_EXPIRED' } });
  });

  it('refuses approvals whose window has ended even though the token is still valid', async () => {
    const p = prepared(s, { approvalsExpireAt: Math.floor(w.clock.ms / 1000) - 1, approvals: [approve(s, ops.alice, { expiresAt: Math.floor(w.clock.ms / 1000) - 1 }), approve(s, ops.bob, { expiresAt: Math.floor(w.clock.ms / 1000) - 1 })] });
    expect(await w.useCase.handle(p, ctx())).toBe('refused');
    expect(lastOutcome(w)).toMatchObject({ kind: 'refused', refusal: { code: 'APPROVALS_EXPIRED' } });
  });

  it('single use: a second tx.prepared with the same decision id is refused; a redelivered event is a no-op', async () => {
    const first = ctx();
    expect(await w.useCase.handle(prepared(s), first)).toBe('signed');
    expect(await w.useCase.handle(prepared(s), first)).toBe('duplicate');
    expect(await w.useCase.handle(prepared(s, { tx: { maxFeePerGas: 20_000_000_000n } }), ctx())).toBe('refused');
    expect(lastOutcome(w)).toMatchObject({ kind: 'refused', refusal: { code: 'DECISION_ALREADY_USED' } });
    expect(w.stores.outcomes.filter((x) => x.kind === 'signed')).toHaveLength(1);
  });

  it('refuses an amount above the key tier cap', async () => {
    const capped = new Map([[ETH.asset, { ...ETH, tierCaps: { ...ETH.tierCaps, hot: AMOUNT - 1n } }]]);
    const w2 = await world({ assets: capped });
    const s2 = scenario(w2.walletId, w2.clock.now());
    expect(await w2.useCase.handle(prepared(s2), ctx())).toBe('refused');
    expect(lastOutcome(w2)).toMatchObject({ kind: 'refused', refusal: { code: 'TIER_CAP_EXCEEDED' } });
  });

  it('refuses a wallet without a registered key', async () => {
    const s2 = scenario('eth-unknown-wallet', w.clock.now());
    expect(await w.useCase.handle(prepared(s2), ctx())).toBe('refused');
    expect(lastOutcome(w)).toMatchObject({ kind: 'refused', refusal: { code: 'WALLET_UNKNOWN' } });
  });

  it('a request without a token quorum (quorum 0) needs no approvals', async () => {
    const s2 = scenario(w.walletId, w.clock.now(), { quorum: 0, roles: [] });
    expect(await w.useCase.handle(prepared(s2, { approvals: [], approvalsExpireAt: null }), ctx())).toBe('signed');
  });
});

describe('C-5.4.2-b signing only while ACTIVE, inside a time-/count-boxed activation (unit)', () => {
  it('the key deactivates by itself when the activation window ends; the refusal records the auto-deactivation', async () => {
    const w = await world({ activation: { ttlSeconds: 60 } });
    expect(await w.useCase.handle(prepared(scenario(w.walletId, w.clock.now())), ctx())).toBe('signed');
    w.clock.ms += 61_000;
    const s2 = scenario(w.walletId, w.clock.now());
    expect(await w.useCase.handle(prepared(s2), ctx())).toBe('refused');
    expect(lastOutcome(w)).toMatchObject({ kind: 'refused', refusal: { code: 'KEY_NOT_ACTIVE' } });
    expect(w.stores.keys.get(w.keyId)?.state).toBe('inactive');
    expect(w.stores.transitions.at(-1)?.event).toMatchObject({ transition: 'deactivated', actor: 'signer', reason: 'activation window ended' });
  });

  it('a count-boxed activation signs exactly maxSignatures times', async () => {
    const w = await world({ activation: { ttlSeconds: 600, maxSignatures: 1 } });
    expect(await w.useCase.handle(prepared(scenario(w.walletId, w.clock.now())), ctx())).toBe('signed');
    expect(w.stores.keys.get(w.keyId)?.state).toBe('inactive');
    expect(await w.useCase.handle(prepared(scenario(w.walletId, w.clock.now())), ctx())).toBe('refused');
    expect(lastOutcome(w)).toMatchObject({ kind: 'refused', refusal: { code: 'KEY_NOT_ACTIVE' } });
  });
});

describe('C-5.4.4-a C-5.4.4-b suspension stops signing at once; one operator may suspend, resuming needs a quorum (unit)', () => {
  it('suspended key → KEY_SUSPENDED; resume with one signature is refused; with two the key returns to INACTIVE, not ACTIVE', async () => {
    const w = await world();
    const expiresAt = Math.floor(w.clock.ms / 1000) + 300;
    const suspend = { requestId: randomUUID(), keyId: w.keyId, transition: 'suspend' as const, expiresAt };
    await w.lifecycle.transition(suspend, [signTransition(suspend, ops.erin)], 'incident 42');
    expect(await w.useCase.handle(prepared(scenario(w.walletId, w.clock.now())), ctx())).toBe('refused');
    expect(lastOutcome(w)).toMatchObject({ kind: 'refused', refusal: { code: 'KEY_SUSPENDED' } });
    const resume = { requestId: randomUUID(), keyId: w.keyId, transition: 'resume' as const, expiresAt };
    await expect(w.lifecycle.transition(resume, [signTransition(resume, ops.erin)], 'resume')).rejects.toMatchObject({ code: 'QUORUM_NOT_MET' });
    await w.lifecycle.transition(resume, [signTransition(resume, ops.erin), signTransition(resume, ops.carol)], 'resume');
    expect(w.stores.keys.get(w.keyId)?.state).toBe('inactive');
  });
});
