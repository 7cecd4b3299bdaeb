// The ledger's custodial wallet registry rule (pure): which wallets may be booked to, and their
// tier. Fed by custody.key.lifecycle.v1 (the signer names every signature key's wallet id,
// tier and address). A tx.status whose source wallet is not registered here is never booked
// to a guessed account: it is parked until the wallet is registered (application/postings.ts).
import { DEPOSITS_WALLET, isValidWalletId } from './postings.js';
import { InvalidArgumentError } from './errors.js';

export type WalletTier = 'hot' | 'warm' | 'cold';

export interface WalletRecord {
  readonly walletId: string;
  readonly chain: string;
  readonly tier: WalletTier;
  /** Chain address of the wallet's current key ('' when no event named one). */
  readonly address: string;
  /** transitioned_at of the event that last changed the row. */
  readonly updatedAt: Date;
}

/** What the ledger reads from one key.lifecycle event (mapped from the proto by the consumer). */
export interface KeyLifecycleFacts {
  readonly keyId: string;
  readonly signatureKey: boolean;
  readonly walletId: string;
  /** undefined: KEY_TIER_UNSPECIFIED. */
  readonly tier: WalletTier | undefined;
  readonly chain: string;
  readonly address: string;
  readonly at: Date;
}

export type WalletChange = { readonly kind: 'register'; readonly wallet: WalletRecord } | { readonly kind: 'ignored'; readonly reason: string };

/**
 * The registry row after one event. Encryption keys and events without a wallet id are
 * ignored; a malformed wallet id (or the reserved "deposits") is refused (dead-lettered, not
 * guessed at). A new wallet needs a tier; an event without one never changes a known tier. An
 * event older than the row does not change it (a late event cannot move a wallet back to an
 * older tier or address). The chain of a wallet is the one it was registered with.
 */
export function walletChange(current: WalletRecord | undefined, e: KeyLifecycleFacts): WalletChange {
  if (!e.signatureKey) return { kind: 'ignored', reason: 'not a signature key' };
  if (e.walletId === '') return { kind: 'ignored', reason: `key ${e.keyId} names no wallet id` };
  if (!isValidWalletId(e.walletId) || e.walletId === DEPOSITS_WALLET) throw new InvalidArgumentError('wallet_id', 'WALLET_ID_INVALID', `key ${e.keyId}: not a usable wallet id`);
  if (!current) {
    if (!e.tier) return { kind: 'ignored', reason: `wallet ${e.walletId}: no tier yet` };
    return { kind: 'register', wallet: { walletId: e.walletId, chain: e.chain, tier: e.tier, address: e.address, updatedAt: e.at } };
  }
  if (e.at.getTime() < current.updatedAt.getTime()) return { kind: 'ignored', reason: `older than wallet ${e.walletId}'s last change` };
  const tier = e.tier ?? current.tier;
  const address = e.address !== '' ? e.address : current.address;
  if (tier === current.tier && address === current.address) return { kind: 'ignored', reason: 'no change' };
  return { kind: 'register', wallet: { ...current, tier, address, updatedAt: e.at } };
}
