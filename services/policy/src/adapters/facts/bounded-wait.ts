// How long the policy keeps waiting for a ledger answer about one withdrawal: from the first
// time this process asked without an answer, for `waitMs`; after that the fact is given up as
// unknown (and the policy denies). At most `maxTracked` withdrawals are remembered (oldest
// forgotten first). Shared by the hold lookup and the outflow lookup.
export class BoundedWait {
  private readonly firstAsked = new Map<string, number>();

  constructor(
    private readonly waitMs: number,
    private readonly now: () => number,
    private readonly maxTracked = 10_000,
  ) {}

  /** The answer is still unknown: `waiting` while within the bound; past it the withdrawal is forgotten. */
  unanswered(withdrawalId: string): { readonly waiting: boolean; readonly waitedMs: number } {
    const now = this.now();
    const first = this.firstAsked.get(withdrawalId);
    if (first === undefined) this.track(withdrawalId, now);
    const waitedMs = now - (first ?? now);
    if (waitedMs < this.waitMs) return { waiting: true, waitedMs };
    this.firstAsked.delete(withdrawalId);
    return { waiting: false, waitedMs };
  }

  /** The ledger answered: nothing to wait for any more. */
  answered(withdrawalId: string): void {
    this.firstAsked.delete(withdrawalId);
  }

  private track(withdrawalId: string, now: number): void {
    if (this.firstAsked.size >= this.maxTracked) {
      const oldest = this.firstAsked.keys().next();
      if (!oldest.done) this.firstAsked.delete(oldest.value);
    }
    this.firstAsked.set(withdrawalId, now);
  }
}
