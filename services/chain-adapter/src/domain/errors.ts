// Domain errors: plain classes with stable string codes (CONVENTIONS §8).
import { DomainError } from '@custody/platform';

export type ChainAdapterErrorCode =
  | 'CHAIN_ID_MISMATCH'
  | 'GENESIS_MISMATCH'
  | 'NODE_UNSYNCED'
  | 'NODE_BEHIND'
  | 'FEE_CAP_EXCEEDED'
  | 'INVALID_TRANSACTION'
  | 'SIGNED_TX_MISMATCH'
  | 'UNKNOWN_ASSET'
  | 'INVALID_ADDRESS'
  | 'INVALID_AMOUNT'
  | 'REORG_TOO_DEEP'
  | 'NOT_FOUND'
  | 'INVALID_STATE'
  /** policy.decided names a wallet id the registry (key.lifecycle) does not know yet: retried, then dead-lettered. */
  | 'WALLET_UNKNOWN'
  /** Several RPC endpoints (adapters/chain/quorum-evm-chain.ts) disagree on a fixed fact (block hash at a height, chain id, receipt): incident, nothing acted on. */
  | 'CHAIN_VIEW_DIVERGENCE'
  /** Fewer than the quorum of RPC endpoints answered, or agreed on a moving value (nonce): retried, nothing acted on. */
  | 'CHAIN_QUORUM_UNAVAILABLE'
  /** The chain's pause breaker is tripped (deep reorg, divergence): decisions wait, retried, nothing allocated, until an operator resumes. */
  | 'CHAIN_PAUSED'
  /** Operator cancellation of a withdrawal that is signed or broadcast: only a signed replacement could cancel it. */
  | 'CANCEL_NEEDS_REPLACEMENT'
  /** Operator cancellation of a withdrawal already final, failed or released. */
  | 'NOT_CANCELLABLE';

export class ChainAdapterError extends DomainError {
  /** Machine-readable facts for an incident's evidence (hashes, heights, endpoint labels; never URLs or secrets). */
  readonly evidence: Readonly<Record<string, string>>;
  constructor(code: ChainAdapterErrorCode, message: string, options?: { cause?: unknown; evidence?: Readonly<Record<string, string>> }) {
    super(code, message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'ChainAdapterError';
    this.evidence = options?.evidence ?? {};
  }
}
