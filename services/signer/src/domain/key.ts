/**
 * The key model (CONTROLS §4) and the key lifecycle state machine (C-5.4.2-b, C-5.4.4-a).
 *
 *   generated ──wrap──► inactive ──activate (TTL and/or count)──► active ──sign──┐
 *                          ▲                                         │            │
 *                          └──── deactivate / auto (TTL or count) ◄──┴────────────┘
 *   inactive|active ──suspend──► suspended ──resume──► inactive
 *   suspended ──retire──► retired ──destroy──► destroyed
 *
 * Pure functions over a `KeyRecord`: no clock of their own, no I/O. "Auto-deactivate" is
 * expressed by `effectiveState`: an active key whose window ended or whose signature budget
 * is spent IS inactive, whatever the row still says, so no timer has to fire for the key to
 * stop signing. Every transition yields a `KeyTransitionEvent` (published as key.lifecycle).
 */
import { SignerError } from './errors.js';

export type KeyAlgorithm = 'secp256k1' | 'ed25519';
export type KeyTier = 'hot' | 'warm' | 'cold';
export type KeyPurpose = 'signature' | 'encryption';
export type KeyState = 'generated' | 'inactive' | 'active' | 'suspended' | 'retired' | 'destroyed';
export type CustodyKind = 'local-sealed' | 'pkcs11' | 'vault';

export const KEY_ALGORITHMS: readonly KeyAlgorithm[] = ['secp256k1', 'ed25519'];
export const KEY_TIERS: readonly KeyTier[] = ['hot', 'warm', 'cold'];
export const KEY_STATES: readonly KeyState[] = ['generated', 'inactive', 'active', 'suspended', 'retired', 'destroyed'];

export interface KeyRecord {
  readonly keyId: string;
  /** The wallet this key signs for (one signature key per wallet here). */
  readonly walletId: string;
  readonly chain: string;
  readonly algorithm: KeyAlgorithm;
  readonly purpose: KeyPurpose;
  readonly tier: KeyTier;
  readonly custody: CustodyKind;
  /** Opaque reference inside the custody (HSM CKA_ID, sealed-blob id). */
  readonly custodyRef: string;
  /** Compressed SEC1 (secp256k1) or raw 32 bytes (Ed25519). */
  readonly publicKey: Uint8Array;
  /** Chain address (EVM: 0x-prefixed lowercase), empty when not applicable. */
  readonly address: string;
  readonly state: KeyState;
  /** End of the activation window (only meaningful while active). */
  readonly activeUntil: Date | undefined;
  /** Signatures left in the activation (undefined = bounded by time only). */
  readonly signaturesLeft: number | undefined;
  readonly updatedAt: Date;
}

export type KeyTransitionName = 'generated' | 'activated' | 'deactivated' | 'suspended' | 'resumed' | 'retired' | 'destroyed';

/** Transitions an operator asks for (generation is the ceremony itself). */
export type AdminTransition = 'activate' | 'deactivate' | 'suspend' | 'resume' | 'retire' | 'destroy';

export interface KeyTransitionEvent {
  readonly keyId: string;
  readonly transition: KeyTransitionName;
  readonly from: KeyState | undefined;
  readonly to: KeyState;
  readonly actor: string;
  readonly reason: string;
  readonly at: Date;
}

export interface ActivationBox {
  /** Seconds the activation lasts; required (C-5.4.2-b: every activation is time-boxed). */
  readonly ttlSeconds: number;
  /** Optional signature budget; the key deactivates after this many signatures. */
  readonly maxSignatures?: number;
}

/** Tier limits on activation windows: a warm/cold key cannot be left active for long. */
export const MAX_ACTIVATION_SECONDS: Readonly<Record<KeyTier, number>> = { hot: 24 * 3600, warm: 3600, cold: 900 };

const ADMIN_RULES: Readonly<Record<AdminTransition, { from: readonly KeyState[]; to: KeyState; name: KeyTransitionName }>> = {
  activate: { from: ['inactive'], to: 'active', name: 'activated' },
  deactivate: { from: ['active'], to: 'inactive', name: 'deactivated' },
  suspend: { from: ['inactive', 'active'], to: 'suspended', name: 'suspended' },
  resume: { from: ['suspended'], to: 'inactive', name: 'resumed' },
  retire: { from: ['suspended'], to: 'retired', name: 'retired' },
  destroy: { from: ['retired'], to: 'destroyed', name: 'destroyed' },
};

/** The state that counts now: an active key past its window or budget is inactive. */
export function effectiveState(key: Pick<KeyRecord, 'state' | 'activeUntil' | 'signaturesLeft'>, now: Date): KeyState {
  if (key.state !== 'active') return key.state;
  if (key.activeUntil === undefined || now.getTime() >= key.activeUntil.getTime()) return 'inactive';
  if (key.signaturesLeft !== undefined && key.signaturesLeft <= 0) return 'inactive';
  return 'active';
}

/** The wrap step right after generation: generated → inactive. */
export function wrapGenerated(key: KeyRecord, actor: string, now: Date): { key: KeyRecord; event: KeyTransitionEvent } {
  if (key.state !== 'generated') throw new SignerError('INVALID_TRANSITION', `key ${key.keyId} is ${key.state}, not generated`);
  return { key: { ...key, state: 'inactive', activeUntil: undefined, signaturesLeft: undefined, updatedAt: now }, event: { keyId: key.keyId, transition: 'deactivated', from: 'generated', to: 'inactive', actor, reason: 'wrapped after generation', at: now } };
}

/**
 * Applies an admin transition. The caller has already verified the operator quorum
 * (`verifyOperatorQuorum`); this checks that the transition is legal from the key's
 * effective state and computes the new record.
 */
export function applyAdminTransition(
  key: KeyRecord,
  transition: AdminTransition,
  context: { actor: string; reason: string; now: Date; activation?: ActivationBox },
): { key: KeyRecord; event: KeyTransitionEvent } {
  const rule = ADMIN_RULES[transition];
  const from = effectiveState(key, context.now);
  if (!rule.from.includes(from)) throw new SignerError('INVALID_TRANSITION', `cannot ${transition} key ${key.keyId}: it is ${from}`);
  let activeUntil: Date | undefined;
  let signaturesLeft: number | undefined;
  if (transition === 'activate') {
    const box = context.activation;
    if (!box || !Number.isSafeInteger(box.ttlSeconds) || box.ttlSeconds <= 0) throw new SignerError('INVALID_TRANSITION', 'activation needs a positive ttlSeconds');
    if (box.ttlSeconds > MAX_ACTIVATION_SECONDS[key.tier]) {
      throw new SignerError('INVALID_TRANSITION', `activation of a ${key.tier} key lasts at most ${MAX_ACTIVATION_SECONDS[key.tier]} s`);
    }
    if (box.maxSignatures !== undefined && (!Number.isSafeInteger(box.maxSignatures) || box.maxSignatures <= 0)) {
      throw new SignerError('INVALID_TRANSITION', 'maxSignatures must be a positive integer');
    }
    activeUntil = new Date(context.now.getTime() + box.ttlSeconds * 1000);
    signaturesLeft = box.maxSignatures;
  }
  return {
    key: { ...key, state: rule.to, activeUntil, signaturesLeft, updatedAt: context.now },
    event: { keyId: key.keyId, transition: rule.name, from, to: rule.to, actor: context.actor, reason: context.reason, at: context.now },
  };
}

/** A signature was made: spend one from the budget (the row keeps state 'active'). */
export function spendSignature(key: KeyRecord, now: Date): KeyRecord {
  return { ...key, signaturesLeft: key.signaturesLeft === undefined ? undefined : key.signaturesLeft - 1, updatedAt: now };
}

/** If the effective state says inactive while the row says active, the auto-deactivation event. */
export function autoDeactivation(key: KeyRecord, now: Date): { key: KeyRecord; event: KeyTransitionEvent } | undefined {
  if (key.state !== 'active' || effectiveState(key, now) !== 'inactive') return undefined;
  const reason = key.activeUntil !== undefined && now.getTime() >= key.activeUntil.getTime() ? 'activation window ended' : 'signature budget spent';
  return {
    key: { ...key, state: 'inactive', activeUntil: undefined, signaturesLeft: undefined, updatedAt: now },
    event: { keyId: key.keyId, transition: 'deactivated', from: 'active', to: 'inactive', actor: 'signer', reason, at: now },
  };
}
