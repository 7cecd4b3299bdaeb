// C-5.3-a: the withdrawal pipeline as an explicit state machine with only forward edges.
// Intake observes the pipeline (risk, policy, chain-adapter, signer events arrive on
// different topics and partitions, so their order is not guaranteed): an edge may skip
// intermediate states, but never goes back, and nothing leaves a terminal state.

export const WithdrawalStates = [
  'REQUESTED',
  'SCREENED',
  'HELD',
  'AWAITING_APPROVAL',
  'APPROVED',
  'PREPARED',
  'SIGNED',
  'BROADCAST',
  'CONFIRMED',
  'FINAL',
  'DENIED',
  'CANCELLED',
  'FAILED',
  'REORGED',
] as const;

export type WithdrawalStateName = (typeof WithdrawalStates)[number];

export const TERMINAL_STATES: ReadonlySet<WithdrawalStateName> = new Set(['FINAL', 'DENIED', 'CANCELLED', 'FAILED', 'REORGED']);

/** Before the transaction goes to the signer: the only states an integrator may cancel from. */
export const CANCELLABLE_STATES: ReadonlySet<WithdrawalStateName> = new Set(['REQUESTED', 'SCREENED', 'HELD', 'AWAITING_APPROVAL', 'APPROVED']);

/** Position on the happy path; terminal side states sit where they can occur. */
export const RANK: Readonly<Record<WithdrawalStateName, number>> = {
  REQUESTED: 0,
  SCREENED: 1,
  HELD: 2,
  AWAITING_APPROVAL: 3,
  APPROVED: 4,
  PREPARED: 5,
  SIGNED: 6,
  BROADCAST: 7,
  CONFIRMED: 8,
  FINAL: 9,
  DENIED: 10,
  CANCELLED: 10,
  FAILED: 10,
  REORGED: 10,
};

/** Where each side state may be entered from. */
const SIDE_ENTRY: Readonly<Partial<Record<WithdrawalStateName, ReadonlySet<WithdrawalStateName>>>> = {
  // Only risk or policy deny; once the signer has the transaction a deny is not possible.
  DENIED: new Set(['REQUESTED', 'SCREENED', 'HELD', 'AWAITING_APPROVAL']),
  CANCELLED: CANCELLABLE_STATES,
  FAILED: new Set(['REQUESTED', 'SCREENED', 'HELD', 'AWAITING_APPROVAL', 'APPROVED', 'PREPARED', 'SIGNED', 'BROADCAST', 'CONFIRMED']),
  REORGED: new Set(['BROADCAST', 'CONFIRMED']),
  // A transaction is final only after it was seen on chain.
  FINAL: new Set(['BROADCAST', 'CONFIRMED']),
};

function computeEdges(): ReadonlyMap<WithdrawalStateName, ReadonlySet<WithdrawalStateName>> {
  const edges = new Map<WithdrawalStateName, ReadonlySet<WithdrawalStateName>>();
  for (const from of WithdrawalStates) {
    const targets = new Set<WithdrawalStateName>();
    if (!TERMINAL_STATES.has(from)) {
      for (const to of WithdrawalStates) {
        if (RANK[to] <= RANK[from]) continue;
        const entry = SIDE_ENTRY[to];
        if (entry !== undefined && !entry.has(from)) continue;
        // Happy-path states past APPROVED need the previous step's evidence first: a
        // transaction cannot be prepared, signed or broadcast for an undecided request.
        if ((to === 'PREPARED' || to === 'SIGNED' || to === 'BROADCAST' || to === 'CONFIRMED') && RANK[from] < RANK.APPROVED) continue;
        targets.add(to);
      }
    }
    edges.set(from, targets);
  }
  return edges;
}

/** The complete, explicit edge table (from → allowed targets). */
export const WITHDRAWAL_TRANSITIONS: ReadonlyMap<WithdrawalStateName, ReadonlySet<WithdrawalStateName>> = computeEdges();

export function canTransition(from: WithdrawalStateName, to: WithdrawalStateName): boolean {
  return WITHDRAWAL_TRANSITIONS.get(from)?.has(to) ?? false;
}

export function isTerminal(state: WithdrawalStateName): boolean {
  return TERMINAL_STATES.has(state);
}

export function isWithdrawalState(value: string): value is WithdrawalStateName {
  return (WithdrawalStates as readonly string[]).includes(value);
}
