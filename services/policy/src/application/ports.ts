/**
 * Ports of the policy service's application layer. Adapters: adapters/persistence
 * (Postgres), adapters/keys (decision signing key), adapters/facts (withdrawal facts).
 */
import type { DecisionTokenClaims, UnsignedDecisionToken } from '../domain/decision-token.js';
import type { Operator } from '../domain/approval.js';

/** An opaque open transaction (an EntityManager for the Postgres adapter). */
export type Tx = unknown;

/** The policy service's Ed25519 decision-token key. The secret never leaves the adapter. */
export interface DecisionSigner {
  readonly keyId: string;
  readonly publicKey: Uint8Array;
  sign(claims: UnsignedDecisionToken): string;
}

/**
 * Facts about a withdrawal that travel on no event the policy consumes: the customer
 * account's tier and opening date, the source wallet chosen for it, and the ledger hold.
 * Anything unknown is left out, and the policy denies with `input_invalid` /
 * `ledger_hold_missing` (fail closed).
 */
export interface WithdrawalFacts {
  readonly account?: { readonly id: string; readonly tier: string; readonly openedAt: string };
  readonly sourceWallet?: { readonly id: string; readonly tier: 'hot' | 'warm' | 'cold' };
  readonly ledgerHold?: { readonly id: string; readonly amount: bigint };
}

export interface FactsRequest {
  readonly withdrawalId: string;
  readonly clientId: string;
  readonly customerAccount: string;
  readonly asset: string;
  readonly amount: bigint;
}

export interface WithdrawalFactsProvider {
  factsFor(request: FactsRequest): Promise<WithdrawalFacts>;
}

/** Operator identities (Ed25519 keys + roles), from configuration. */
export interface OperatorDirectory {
  readonly operators: ReadonlyMap<string, Operator>;
}

export type { DecisionTokenClaims };
