import { describe, expect, it } from '@jest/globals';
import fc from 'fast-check';
import { nextParked, placeEvent, type PlacedEvent, type PlacedState } from './pipeline-order.js';
import type { WithdrawalStateName } from './withdrawal-state.js';

const at = (state: WithdrawalStateName, txHash = '', confirmations = 0): PlacedState => ({ state, txHash, confirmations });

/** The projector's algorithm on plain values: place, park, retry parked after every change, drop stale. */
function project(events: readonly PlacedEvent[]): { final: PlacedState; history: WithdrawalStateName[]; parked: number } {
  let current = at('REQUESTED');
  const history: WithdrawalStateName[] = ['REQUESTED'];
  let parked: PlacedEvent[] = [];
  const applyOne = (e: PlacedEvent): void => {
    if (e.to !== current.state) history.push(e.to);
    current = { state: e.to, txHash: e.txHash ?? current.txHash, confirmations: Math.max(current.confirmations, e.confirmations ?? 0) };
  };
  for (const e of events) {
    const p = placeEvent(current, e);
    if (p === 'park') parked.push(e);
    if (p !== 'apply' && p !== 'update') continue;
    applyOne(e);
    for (let i = nextParked(current, parked); i !== undefined; i = nextParked(current, parked)) {
      const next = parked[i] as PlacedEvent;
      parked = parked.filter((_, j) => j !== i);
      applyOne(next);
    }
    parked = parked.filter((x) => placeEvent(current, x) === 'park');
  }
  return { final: current, history, parked: parked.length };
}

const ev = (to: WithdrawalStateName, txHash?: string, confirmations?: number): PlacedEvent => ({ to, ...(txHash ? { txHash } : {}), ...(confirmations !== undefined ? { confirmations } : {}) });

/** Event sequences the pipeline produces for one withdrawal, in causal order. */
const SEQUENCES: Record<string, readonly PlacedEvent[]> = {
  happy: [ev('SCREENED'), ev('APPROVED'), ev('PREPARED'), ev('SIGNED', '0xa'), ev('BROADCAST', '0xa', 0), ev('CONFIRMED', '0xa', 1), ev('FINAL', '0xa', 12)],
  reviewedThenFinalWithoutConfirmed: [ev('HELD'), ev('APPROVED'), ev('PREPARED'), ev('SIGNED', '0xa'), ev('BROADCAST', '0xa'), ev('FINAL', '0xa', 12)],
  approvalThenReorg: [ev('SCREENED'), ev('AWAITING_APPROVAL'), ev('APPROVED'), ev('PREPARED'), ev('SIGNED', '0xa'), ev('BROADCAST', '0xa'), ev('CONFIRMED', '0xa', 1), ev('REORGED', '0xa')],
  policyDenied: [ev('SCREENED'), ev('DENIED')],
  riskBlocked: [ev('DENIED')],
  policyHoldThenApproved: [ev('SCREENED'), ev('HELD'), ev('APPROVED'), ev('PREPARED'), ev('SIGNED', '0xa'), ev('BROADCAST', '0xa'), ev('CONFIRMED', '0xa', 1), ev('FINAL', '0xa', 12)],
  signingRefused: [ev('SCREENED'), ev('APPROVED'), ev('PREPARED'), ev('FAILED')],
  prepareFailed: [ev('SCREENED'), ev('APPROVED'), ev('FAILED')],
  droppedOnChain: [ev('SCREENED'), ev('APPROVED'), ev('PREPARED'), ev('SIGNED', '0xa'), ev('BROADCAST', '0xa'), ev('FAILED', '0xa')],
};

describe('C-5.3-a pipeline events out of order: apply / park / stale', () => {
  it('applies the next transition, parks an event ahead, drops one behind', () => {
    expect(placeEvent(at('REQUESTED'), ev('SCREENED'))).toBe('apply');
    expect(placeEvent(at('APPROVED'), ev('PREPARED'))).toBe('apply');
    expect(placeEvent(at('BROADCAST'), ev('FINAL'))).toBe('apply');
    // ahead: a valid later transition whose predecessor has not arrived
    expect(placeEvent(at('SCREENED'), ev('PREPARED'))).toBe('park');
    expect(placeEvent(at('REQUESTED'), ev('APPROVED'))).toBe('park');
    expect(placeEvent(at('APPROVED'), ev('SIGNED'))).toBe('park');
    expect(placeEvent(at('PREPARED'), ev('BROADCAST'))).toBe('park');
    expect(placeEvent(at('APPROVED'), ev('FINAL'))).toBe('park');
    expect(placeEvent(at('APPROVED'), ev('REORGED'))).toBe('park');
    // behind: the withdrawal moved past it
    expect(placeEvent(at('APPROVED'), ev('SCREENED'))).toBe('stale');
    expect(placeEvent(at('PREPARED'), ev('DENIED'))).toBe('stale');
    expect(placeEvent(at('SIGNED'), ev('PREPARED'))).toBe('stale');
    expect(placeEvent(at('SIGNED'), ev('SIGNED'))).toBe('stale');
  });

  it('keeps the existing semantics: skips that need no evidence, updates, FAILED from anywhere non-terminal', () => {
    expect(placeEvent(at('SCREENED'), ev('APPROVED'))).toBe('apply');
    expect(placeEvent(at('SIGNED'), ev('CONFIRMED', '0xa', 1))).toBe('apply');
    expect(placeEvent(at('REQUESTED'), ev('DENIED'))).toBe('apply');
    expect(placeEvent(at('SCREENED'), ev('FAILED'))).toBe('apply');
    expect(placeEvent(at('BROADCAST', '0xa', 0), ev('BROADCAST', '0xb'))).toBe('update');
    expect(placeEvent(at('CONFIRMED', '0xa', 1), ev('CONFIRMED', '0xa', 3))).toBe('update');
    expect(placeEvent(at('CONFIRMED', '0xa', 3), ev('CONFIRMED', '0xa', 2))).toBe('stale');
  });

  it('changes nothing for a terminal withdrawal', () => {
    for (const s of ['FINAL', 'DENIED', 'CANCELLED', 'FAILED', 'REORGED'] as const) {
      for (const to of ['SCREENED', 'APPROVED', 'PREPARED', 'FINAL', 'FAILED', 'REORGED'] as const) expect(placeEvent(at(s), ev(to))).toBe('terminal');
    }
  });

  it('retries parked events earliest step first, ties in arrival order', () => {
    const parked = [ev('FINAL'), ev('CONFIRMED'), ev('BROADCAST'), ev('SIGNED')];
    expect(nextParked(at('PREPARED'), parked)).toBe(3);
    expect(nextParked(at('SIGNED'), parked)).toBe(2);
    expect(nextParked(at('BROADCAST'), parked)).toBe(1);
    expect(nextParked(at('APPROVED'), parked)).toBeUndefined();
    expect(nextParked(at('BROADCAST', '0xa'), [ev('BROADCAST', '0xb'), ev('BROADCAST', '0xc')])).toBe(0);
  });

  it('a reverse-ordered happy path ends FINAL with the full history in order', () => {
    const seq = SEQUENCES['happy'] as readonly PlacedEvent[];
    const r = project([...seq].reverse());
    expect(r.final.state).toBe('FINAL');
    expect(r.history).toEqual(['REQUESTED', 'SCREENED', 'APPROVED', 'PREPARED', 'SIGNED', 'BROADCAST', 'CONFIRMED', 'FINAL']);
    expect(r.parked).toBe(0);
  });

  for (const [name, seq] of Object.entries(SEQUENCES)) {
    it(`any permutation of "${name}" ends in the in-order final state, nothing left parked`, () => {
      const inOrder = project(seq);
      expect(inOrder.history).toEqual(['REQUESTED', ...seq.map((e) => e.to).filter((s, i, a) => a[i - 1] !== s)]);
      fc.assert(
        fc.property(fc.shuffledSubarray([...seq], { minLength: seq.length, maxLength: seq.length }), (perm) => {
          const r = project(perm);
          expect(r.final.state).toBe(inOrder.final.state);
          expect(r.parked).toBe(0);
          // the history is forward-only in every order
          for (let i = 1; i < r.history.length; i++) expect(placeEvent(at(r.history[i - 1] as WithdrawalStateName), ev(r.history[i] as WithdrawalStateName))).toBe('apply');
        }),
        { numRuns: 300 },
      );
    });
  }
});
