// What a signer refusal (custody.tx.refused.v1) does to a withdrawal we prepared. Only one
// outcome frees anything: the refusal is for exactly our withdrawal (same chain, decision and
// wallet), the signer says the decision is spent (`decision_consumed`: refused after its
// single-use reservation, so nothing can ever be signed for it), no attempt of the withdrawal
// is signed, and it is still PREPARED. Everything else is recorded and changes nothing (fail
// closed: a nonce freed while a signature for it may still appear would let two different
// transactions compete for one nonce).

export type RefusalOutcome =
  /** Withdrawal FAILED with the signer's reason, tx.status FAILED, nonce onto the wallet's free list. */
  | 'released'
  /** A signed attempt exists (e.g. a refused fee-bump re-sign): keep following the signed tx. */
  | 'signed_kept'
  /** Refused before the signer's reservation (forged/tampered/replayed request): the genuine request may still be signed. */
  | 'not_consumed'
  /** Our withdrawal is past PREPARED without a signed attempt (not reachable today): nothing freed. */
  | 'not_prepared'
  /** Already released by an earlier refusal of the same decision. */
  | 'duplicate'
  /** No withdrawal with this id here. */
  | 'unknown'
  /** Another chain, decision or wallet than the withdrawal we prepared. */
  | 'foreign';

export const REFUSAL_OUTCOMES: readonly RefusalOutcome[] = ['released', 'signed_kept', 'not_consumed', 'not_prepared', 'duplicate', 'unknown', 'foreign'];

export interface RefusalFacts {
  readonly chain: string;
  readonly decisionId: string;
  /** Wallet id as the signer names it (tx.prepared source_wallet). */
  readonly sourceWallet: string;
  readonly decisionConsumed: boolean;
}

export interface PreparedFacts {
  readonly chain: string;
  readonly decisionId: string;
  readonly walletId: string;
  readonly wallet: string;
  readonly state: string;
  readonly nonceReleased: boolean;
  readonly hasSignedAttempt: boolean;
}

export function refusalOutcome(r: RefusalFacts, ourChain: string, w: PreparedFacts | undefined): RefusalOutcome {
  if (r.chain !== ourChain) return 'foreign';
  if (!w) return 'unknown';
  // tx.prepared names the wallet id (rows prepared before the registry: the address).
  const ourWallet = w.walletId || w.wallet;
  if (w.chain !== r.chain || w.decisionId !== r.decisionId || r.sourceWallet !== ourWallet) return 'foreign';
  if (w.nonceReleased) return 'duplicate';
  if (w.hasSignedAttempt) return 'signed_kept';
  if (!r.decisionConsumed) return 'not_consumed';
  if (w.state !== 'PREPARED') return 'not_prepared';
  return 'released';
}
