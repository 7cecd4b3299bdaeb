// Out-of-order pipeline events (C-5.3-a, "lose nothing"): intake consumes risk, policy,
// chain-adapter and signer topics in one consumer group, and topics are independent, so an
// event can arrive before the one it follows. Each event is placed against the withdrawal's
// current state:
//   apply    – a valid next transition now;
//   update   – same state with news (more confirmations, a replacement hash);
//   park     – AHEAD: a valid later transition whose predecessor has not arrived yet;
//   stale    – BEHIND: the withdrawal already moved past it (recorded, dropped);
//   terminal – the withdrawal is terminal: nothing changes.
// Parked events are retried after every applied transition of their withdrawal.
import { RANK, WithdrawalStates, canTransition, isTerminal, type WithdrawalStateName } from './withdrawal-state.js';

export type Placement = 'apply' | 'update' | 'park' | 'stale' | 'terminal';

export interface PlacedState {
  readonly state: WithdrawalStateName;
  readonly txHash: string;
  readonly confirmations: number;
}

export interface PlacedEvent {
  readonly to: WithdrawalStateName;
  readonly txHash?: string;
  readonly confirmations?: number;
}

/**
 * The pipeline's causal order on top of the edge table: the edge table allows skipping
 * states that may legitimately not happen (no HELD, no CONFIRMED before FINAL), but some
 * events always come after another one. Applying them early would skip that one for good
 * (it would arrive stale), so they wait for it instead.
 */
function evidenceFor(from: WithdrawalStateName, to: WithdrawalStateName): boolean {
  switch (to) {
    // policy.decided is computed from risk.assessed: a decision follows an assessment.
    case 'APPROVED':
    case 'AWAITING_APPROVAL':
      return from !== 'REQUESTED';
    // The signer signs a prepared transaction.
    case 'SIGNED':
      return RANK[from] >= RANK.PREPARED;
    // The chain sees only a signed transaction.
    case 'BROADCAST':
    case 'CONFIRMED':
      return RANK[from] >= RANK.SIGNED;
    default:
      return true;
  }
}

/** A transition the projector takes now (edge table + pipeline evidence). */
export function canApplyNow(from: WithdrawalStateName, to: WithdrawalStateName): boolean {
  return canTransition(from, to) && evidenceFor(from, to);
}

const REACHABLE: ReadonlyMap<WithdrawalStateName, ReadonlySet<WithdrawalStateName>> = (() => {
  const map = new Map<WithdrawalStateName, ReadonlySet<WithdrawalStateName>>();
  for (const start of WithdrawalStates) {
    const seen = new Set<WithdrawalStateName>();
    const stack: WithdrawalStateName[] = [start];
    while (stack.length > 0) {
      const s = stack.pop() as WithdrawalStateName;
      for (const t of WithdrawalStates) {
        if (!seen.has(t) && canApplyNow(s, t)) {
          seen.add(t);
          stack.push(t);
        }
      }
    }
    map.set(start, seen);
  }
  return map;
})();

export function placeEvent(current: PlacedState, event: PlacedEvent): Placement {
  if (isTerminal(current.state)) return 'terminal';
  if (current.state === event.to) {
    const newHash = event.txHash !== undefined && event.txHash !== '' && event.txHash !== current.txHash;
    const moreConfirmations = event.confirmations !== undefined && event.confirmations > current.confirmations;
    return newHash || moreConfirmations ? 'update' : 'stale';
  }
  if (canApplyNow(current.state, event.to)) return 'apply';
  // Ahead: some state still reachable from here leads to the event's target.
  for (const s of REACHABLE.get(current.state) ?? []) {
    if (canApplyNow(s, event.to)) return 'park';
  }
  return 'stale';
}

/**
 * Which parked event (index into `parked`, in arrival order) applies next, if any: among
 * those that apply or update now, the one with the earliest target on the pipeline (so a
 * FINAL parked before its CONFIRMED does not skip it), ties in arrival order.
 */
export function nextParked(current: PlacedState, parked: readonly PlacedEvent[]): number | undefined {
  let best: number | undefined;
  for (let i = 0; i < parked.length; i++) {
    const e = parked[i] as PlacedEvent;
    const p = placeEvent(current, e);
    if (p !== 'apply' && p !== 'update') continue;
    if (best === undefined || RANK[e.to] < RANK[(parked[best] as PlacedEvent).to]) best = i;
  }
  return best;
}
