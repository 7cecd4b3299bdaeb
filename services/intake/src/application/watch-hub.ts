// In-process fan-out of committed withdrawal changes to WatchWithdrawals streams.
import type { Withdrawal } from '../domain/withdrawal.js';
import type { WithdrawalNotifier } from './ports.js';

export type WatchListener = (withdrawal: Withdrawal) => void;

export class WatchHub implements WithdrawalNotifier {
  private readonly listeners = new Map<string, Set<WatchListener>>();

  /** Listens to one client's withdrawals; returns the unsubscribe function. */
  subscribe(clientId: string, listener: WatchListener): () => void {
    let set = this.listeners.get(clientId);
    if (!set) {
      set = new Set();
      this.listeners.set(clientId, set);
    }
    set.add(listener);
    return () => {
      set.delete(listener);
      if (set.size === 0) this.listeners.delete(clientId);
    };
  }

  publish(withdrawal: Withdrawal): void {
    for (const listener of this.listeners.get(withdrawal.clientId) ?? []) {
      try {
        listener(withdrawal);
      } catch {
        // one broken stream must not starve the others
      }
    }
  }

  get size(): number {
    let n = 0;
    for (const set of this.listeners.values()) n += set.size;
    return n;
  }
}
