/**
 * WithdrawalFactsProvider from a configuration document (until the ledger and wallet
 * services publish these facts): account tier and opening date per customer account,
 * (and, optionally, jurisdiction), and the hot wallet per asset. Ledger holds are not known here, so none is given and the
 * policy denies `ledger_hold_missing` (fail closed) unless a provider that knows them is
 * plugged in.
 */
import type { FactsRequest, WithdrawalFacts, WithdrawalFactsProvider } from '../../application/ports.js';

export interface StaticFactsDocument {
  /** `jurisdiction` (optional): the account's jurisdiction pack; absent = the pack data's `default_jurisdiction`. */
  readonly accounts: Readonly<Record<string, { readonly tier: string; readonly opened_at: string; readonly jurisdiction?: string }>>;
  readonly source_wallets: Readonly<Record<string, { readonly id: string; readonly tier: 'hot' | 'warm' | 'cold' }>>;
}

export class StaticFactsProvider implements WithdrawalFactsProvider {
  constructor(private readonly doc: StaticFactsDocument) {}

  factsFor(r: FactsRequest): Promise<WithdrawalFacts> {
    const account = Object.hasOwn(this.doc.accounts, r.customerAccount) ? this.doc.accounts[r.customerAccount] : undefined;
    const wallet = Object.hasOwn(this.doc.source_wallets, r.asset) ? this.doc.source_wallets[r.asset] : undefined;
    return Promise.resolve({
      ...(account
        ? { account: { id: r.customerAccount, tier: account.tier, openedAt: account.opened_at, ...(account.jurisdiction === undefined ? {} : { jurisdiction: account.jurisdiction }) } }
        : {}),
      ...(wallet ? { sourceWallet: { id: wallet.id, tier: wallet.tier } } : {}),
    });
  }
}
