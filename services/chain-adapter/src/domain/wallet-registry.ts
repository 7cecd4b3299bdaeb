// The wallet registry's rule: which chain address a wallet id sends from, and whether it may
// send at all. Fed by custody.key.lifecycle.v1 (the signer names every key's wallet id and
// address); policy and the signer know wallets by id, nonces and the chain know addresses.
// Pure: no I/O, no clock.
import { KeyPurpose, KeyTransition, timestampToDate, type KeyLifecycle } from '@custody/contracts';
import { ChainAdapterError } from './errors.js';
import { normaliseAddress } from './evm-tx.js';

/**
 * active/inactive: transactions are prepared (an inactive key — wrapped, resumed, or past its
 * activation window — is the signer's to refuse until operators activate it);
 * suspended/retired/destroyed: nothing is prepared (fail closed).
 */
export type WalletState = 'active' | 'inactive' | 'suspended' | 'retired' | 'destroyed';

export interface WalletRow {
  readonly walletId: string;
  readonly chain: string;
  /** EVM: 0x + 40 lower-case hex digits; '' when a refusing state arrived before any address. */
  readonly address: string;
  /** The key whose events currently decide the row (the successor after a rotation). */
  readonly keyId: string;
  readonly state: WalletState;
  /** transitioned_at of the event that last changed the row. */
  readonly updatedAt: Date;
}

export type RegistryChange = { readonly kind: 'upsert'; readonly row: WalletRow } | { readonly kind: 'ignored'; readonly reason: string };

const ADDRESS_SETTING: ReadonlyMap<KeyTransition, WalletState> = new Map([
  [KeyTransition.KEY_TRANSITION_GENERATED, 'active'],
  [KeyTransition.KEY_TRANSITION_ACTIVATED, 'active'],
  [KeyTransition.KEY_TRANSITION_RESUMED, 'active'],
  [KeyTransition.KEY_TRANSITION_ROTATED, 'active'],
  [KeyTransition.KEY_TRANSITION_DEACTIVATED, 'inactive'],
]);

const REFUSING: ReadonlyMap<KeyTransition, WalletState> = new Map([
  [KeyTransition.KEY_TRANSITION_SUSPENDED, 'suspended'],
  [KeyTransition.KEY_TRANSITION_RETIRED, 'retired'],
  [KeyTransition.KEY_TRANSITION_DESTROYED, 'destroyed'],
]);

const TERMINAL: readonly WalletState[] = ['retired', 'destroyed'];

/** Stable refusal code for a wallet that must not send, undefined when it may. */
export function refusalFor(row: WalletRow): 'WALLET_SUSPENDED' | 'WALLET_RETIRED' | 'WALLET_DESTROYED' | undefined {
  switch (row.state) {
    case 'suspended':
      return 'WALLET_SUSPENDED';
    case 'retired':
      return 'WALLET_RETIRED';
    case 'destroyed':
      return 'WALLET_DESTROYED';
    default:
      return undefined;
  }
}

/**
 * The registry row after one key.lifecycle event. Only signature keys of `chain` count.
 * GENERATED/ACTIVATED/RESUMED/ROTATED: the wallet is active at the event's address (for
 * ROTATED the event names the successor key and its new address); DEACTIVATED: inactive at
 * that address; SUSPENDED/RETIRED/DESTROYED: the state is recorded. An event of a key that is
 * not the wallet's current key is ignored when it is older than the row (a late event of a
 * rotated-out key cannot move the wallet back), and a refusing event of another key never
 * changes the current key's state. A retired or destroyed key never comes back.
 */
export function applyKeyLifecycle(current: WalletRow | undefined, event: KeyLifecycle, chain: string, fallbackAt: Date): RegistryChange {
  if (event.purpose !== KeyPurpose.KEY_PURPOSE_SIGNATURE) return { kind: 'ignored', reason: 'not a signature key' };
  if (event.chain !== chain) return { kind: 'ignored', reason: `chain ${event.chain} is not ${chain}` };
  if (!event.walletId) throw new ChainAdapterError('INVALID_STATE', `key.lifecycle of key ${event.keyId} names no wallet id`);
  if (current && current.walletId !== event.walletId) throw new ChainAdapterError('INVALID_STATE', 'registry row of another wallet');
  const at = event.transitionedAt ? timestampToDate(event.transitionedAt) : fallbackAt;
  const addressState = ADDRESS_SETTING.get(event.transition);
  if (addressState !== undefined) {
    const keyId = event.transition === KeyTransition.KEY_TRANSITION_ROTATED && event.successorKeyId ? event.successorKeyId : event.keyId;
    const address = normaliseAddress(event.address); // INVALID_ADDRESS: a malformed event is not guessed at
    if (current && current.keyId === keyId && TERMINAL.includes(current.state)) return { kind: 'ignored', reason: `key ${keyId} is ${current.state}` };
    if (current && current.keyId !== keyId && current.updatedAt.getTime() > at.getTime()) return { kind: 'ignored', reason: `older than the wallet's current key ${current.keyId}` };
    return { kind: 'upsert', row: { walletId: event.walletId, chain, address, keyId, state: addressState, updatedAt: at } };
  }
  const refusing = REFUSING.get(event.transition);
  if (refusing !== undefined) {
    if (current && current.keyId !== event.keyId) return { kind: 'ignored', reason: `key ${event.keyId} is not the wallet's current key ${current.keyId}` };
    const address = current?.address ?? (event.address ? normaliseAddress(event.address) : '');
    return { kind: 'upsert', row: { walletId: event.walletId, chain, address, keyId: event.keyId, state: refusing, updatedAt: at } };
  }
  return { kind: 'ignored', reason: `transition ${event.transition} does not change the registry` };
}
