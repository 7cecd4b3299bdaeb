// Verdicts and reasons: every fired rule or check contributes one reason {code, detail}.
export type Verdict = 'CLEAR' | 'REVIEW' | 'BLOCK';

export interface Reason {
  /** Stable lower_snake code, e.g. "sanctioned_address", "list_stale", "velocity_customer_24h". */
  readonly code: string;
  readonly detail: string;
}

/** A reason plus what it demands: the verdict it forces at least, and its score contribution. */
export interface Finding extends Reason {
  readonly action: Verdict;
  readonly score: number;
}

const RANK: Readonly<Record<Verdict, number>> = { CLEAR: 0, REVIEW: 1, BLOCK: 2 };

export function maxVerdict(a: Verdict, b: Verdict): Verdict {
  return RANK[a] >= RANK[b] ? a : b;
}
