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
  | 'WALLET_UNKNOWN';

export class ChainAdapterError extends DomainError {
  constructor(code: ChainAdapterErrorCode, message: string, options?: { cause?: unknown }) {
    super(code, message, options);
    this.name = 'ChainAdapterError';
  }
}
