// GetDepositAddress: the signer derives addresses; intake asks it through the
// DepositAddressProvider port. Without a provider the call fails closed (UNAVAILABLE):
// intake never invents an address.
import type { AssetRegistry } from '../domain/asset-registry.js';
import { InvalidArgumentError, PermissionError, UnavailableError } from '../domain/errors.js';
import { validateCustomerAccount } from '../domain/withdrawal.js';
import type { Caller } from './authenticate.js';
import type { DepositAddress, DepositAddressProvider, IntegratorDirectory } from './ports.js';

export class DepositAddressUseCase {
  constructor(
    private readonly deps: {
      readonly provider: DepositAddressProvider | undefined;
      readonly registry: AssetRegistry;
      readonly directory: IntegratorDirectory;
    },
  ) {}

  async get(caller: Caller, input: { readonly customerAccount: string; readonly asset: string }): Promise<DepositAddress> {
    validateCustomerAccount(input.customerAccount);
    const asset = this.deps.registry.require(input.asset);
    if (!caller.integrator.allowedAssets.includes(asset.id)) throw new PermissionError('ASSET_NOT_ALLOWED', `this integrator may not use ${asset.id}`);
    if (!(await this.deps.directory.accountExists(caller.integrator.clientId, input.customerAccount))) {
      throw new InvalidArgumentError('customer_account', 'UNKNOWN_CUSTOMER_ACCOUNT', 'is not an account of this integrator');
    }
    if (!this.deps.provider) {
      throw new UnavailableError(
        'DEPOSIT_ADDRESS_PROVIDER_UNAVAILABLE',
        'deposit addresses are derived by the signer, which is not connected to this gateway yet; no address was issued',
      );
    }
    return this.deps.provider.depositAddress({ clientId: caller.integrator.clientId, customerAccount: input.customerAccount, asset: asset.id, chain: asset.chain });
  }
}
