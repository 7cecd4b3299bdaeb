// key.lifecycle → the wallet registry (wallet id → chain address, state), in the inbox
// transaction so each event counts once. The rule itself is domain/wallet-registry.ts.
import type { KeyLifecycle } from '@custody/contracts';
import { applyKeyLifecycle, type WalletRow } from '../domain/wallet-registry.js';
import type { Clock } from './ports.js';
import type { StoreScope } from './store.js';

export type RegistryOutcome = { readonly outcome: 'registered'; readonly row: WalletRow } | { readonly outcome: 'ignored'; readonly reason: string };

export class WalletRegistry {
  constructor(private readonly d: { readonly profile: { readonly chain: string }; readonly clock: Clock }) {}

  /** Applies one key.lifecycle event under the wallet row's lock. */
  async apply(event: KeyLifecycle, scope: StoreScope): Promise<RegistryOutcome> {
    const current = event.walletId ? await scope.wallet(this.d.profile.chain, event.walletId, true) : undefined;
    const change = applyKeyLifecycle(current, event, this.d.profile.chain, this.d.clock.now());
    if (change.kind === 'ignored') return { outcome: 'ignored', reason: change.reason };
    await scope.putWallet(change.row);
    return { outcome: 'registered', row: change.row };
  }
}
