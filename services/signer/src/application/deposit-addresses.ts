/**
 * DeriveDepositAddress: one derivation index per (customer account, asset), allocated once
 * by the store (unique constraints), then the address is derived from the asset's xpub.
 * The same customer always gets the same address; two customers never share an index.
 */
import { DepositAddressError, deriveEvmDepositAddress, validateDepositRequest, type DepositXpub } from '../domain/deposit-address.js';

export interface DepositAddressAssignment {
  readonly index: number;
  readonly address: string;
  readonly derivationPath: string;
}

export interface DepositAddressStore {
  /**
   * The stored assignment of (customerAccount, asset), or a new one made with the next
   * free index of the asset: `derive(index)` computes the address to store. Concurrent
   * callers for the same pair get the same assignment.
   */
  assign(asset: string, customerAccount: string, derive: (index: number) => { readonly address: string; readonly derivationPath: string }): Promise<DepositAddressAssignment>;
}

export interface DepositAddressResult {
  readonly address: string;
  readonly derivationPath: string;
  readonly chain: string;
}

export class DeriveDepositAddress {
  constructor(private readonly deps: { readonly store: DepositAddressStore; readonly xpubs: ReadonlyMap<string, DepositXpub> }) {}

  async derive(input: { readonly customerAccount: string; readonly asset: string }): Promise<DepositAddressResult> {
    validateDepositRequest(input);
    const source = this.deps.xpubs.get(input.asset);
    if (!source) throw new DepositAddressError('UNKNOWN_ASSET', `no deposit xpub is configured for asset ${input.asset}`);
    const assignment = await this.deps.store.assign(source.asset, input.customerAccount, (index) => deriveEvmDepositAddress(source, index));
    // Re-derive and compare: a stored row that no longer matches the xpub (changed config)
    // must not be handed out.
    const check = deriveEvmDepositAddress(source, assignment.index);
    if (check.address !== assignment.address) throw new DepositAddressError('DEPOSIT_XPUB_INVALID', `the stored deposit address of this customer does not derive from the configured ${source.asset} xpub`);
    return { address: assignment.address, derivationPath: assignment.derivationPath, chain: source.chain };
  }
}
