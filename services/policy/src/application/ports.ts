/**
 * Ports of the policy service's application layer. Adapters: adapters/persistence
 * (Postgres), adapters/keys (decision signing key), adapters/facts (withdrawal facts).
 */
import type { DecisionTokenClaims, UnsignedDecisionToken } from '../domain/decision-token.js';
import type { Operator } from '../domain/approval.js';
import type { DeviceAssertionPolicy } from '../domain/device-assertion.js';

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
  /** `jurisdiction`: the account's jurisdiction pack (policies/data/jurisdictions.json); absent = the pack data's default. */
  readonly account?: { readonly id: string; readonly tier: string; readonly openedAt: string; readonly jurisdiction?: string };
  readonly sourceWallet?: { readonly id: string; readonly tier: 'hot' | 'warm' | 'cold' };
  readonly ledgerHold?: { readonly id: string; readonly amount: bigint };
  /**
   * The account's outflow of the asset over the 24 h before the decision as the ledger books
   * it (held + settled withdrawals, this one excluded), or why the ledger could not say
   * (the policy then denies `velocity_ledger_unavailable`). Absent: no ledger source wired.
   */
  readonly ledgerOutflow?: LedgerOutflowFact;
}

export type LedgerOutflowFact = { readonly known: true; readonly total: bigint } | { readonly known: false; readonly why: string };

export interface FactsRequest {
  readonly withdrawalId: string;
  readonly clientId: string;
  readonly customerAccount: string;
  readonly asset: string;
  readonly amount: bigint;
  /** The decision's time (the service clock); windows such as the 24 h outflow end here. */
  readonly at?: Date;
}

export interface WithdrawalFactsProvider {
  factsFor(request: FactsRequest): Promise<WithdrawalFacts>;
}

/** Operator identities (Ed25519 keys + roles), from configuration. */
export interface OperatorDirectory {
  readonly operators: ReadonlyMap<string, Operator>;
  /**
   * Device assertions on votes (C-8.2.2.5-e). The operators file always sets it (absent
   * there: required); absent here (a directory built in code): not required, but an
   * assertion that is sent is still verified.
   */
  readonly deviceAssertions?: DeviceAssertionPolicy | undefined;
}

export type { DecisionTokenClaims };
