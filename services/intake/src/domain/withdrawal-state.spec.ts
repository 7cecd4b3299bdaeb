import { describe, expect, it } from '@jest/globals';
import { CANCELLABLE_STATES, TERMINAL_STATES, WITHDRAWAL_TRANSITIONS, WithdrawalStates, canTransition, type WithdrawalStateName } from './withdrawal-state.js';

const HAPPY: WithdrawalStateName[] = ['REQUESTED', 'SCREENED', 'APPROVED', 'PREPARED', 'SIGNED', 'BROADCAST', 'CONFIRMED', 'FINAL'];

describe('C-5.3-a withdrawal state machine: explicit, forward-only edges', () => {
  it('walks the happy path edge by edge', () => {
    for (let i = 1; i < HAPPY.length; i++) expect(canTransition(HAPPY[i - 1] as WithdrawalStateName, HAPPY[i] as WithdrawalStateName)).toBe(true);
  });

  it('has no edge back along the happy path and no self-loop', () => {
    for (let i = 0; i < HAPPY.length; i++) {
      for (let j = 0; j <= i; j++) expect(canTransition(HAPPY[i] as WithdrawalStateName, HAPPY[j] as WithdrawalStateName)).toBe(false);
    }
  });

  it('has no cycle: the edge graph is a DAG', () => {
    const visiting = new Set<WithdrawalStateName>();
    const done = new Set<WithdrawalStateName>();
    const visit = (s: WithdrawalStateName): void => {
      expect(visiting.has(s)).toBe(false);
      if (done.has(s)) return;
      visiting.add(s);
      for (const t of WITHDRAWAL_TRANSITIONS.get(s) ?? []) visit(t);
      visiting.delete(s);
      done.add(s);
    };
    for (const s of WithdrawalStates) visit(s);
  });

  it('leaves terminal states never', () => {
    for (const s of TERMINAL_STATES) expect(WITHDRAWAL_TRANSITIONS.get(s)?.size).toBe(0);
  });

  it('after a deny nothing is prepared, signed or broadcast', () => {
    for (const t of ['PREPARED', 'SIGNED', 'BROADCAST', 'CONFIRMED', 'FINAL'] as const) expect(canTransition('DENIED', t)).toBe(false);
  });

  it('an undecided request cannot be prepared, signed or broadcast', () => {
    for (const from of ['REQUESTED', 'SCREENED', 'HELD', 'AWAITING_APPROVAL'] as const) {
      for (const to of ['PREPARED', 'SIGNED', 'BROADCAST', 'CONFIRMED', 'FINAL'] as const) expect(canTransition(from, to)).toBe(false);
    }
  });

  it('cancels only before the signer has the transaction', () => {
    expect([...CANCELLABLE_STATES].sort()).toEqual(['APPROVED', 'AWAITING_APPROVAL', 'HELD', 'REQUESTED', 'SCREENED']);
    for (const s of WithdrawalStates) expect(canTransition(s, 'CANCELLED')).toBe(CANCELLABLE_STATES.has(s));
  });

  it('denies only before preparation, reorgs and finality only on chain', () => {
    expect(canTransition('APPROVED', 'DENIED')).toBe(false);
    expect(canTransition('PREPARED', 'DENIED')).toBe(false);
    expect(canTransition('SIGNED', 'REORGED')).toBe(false);
    expect(canTransition('CONFIRMED', 'REORGED')).toBe(true);
    expect(canTransition('SIGNED', 'FINAL')).toBe(false);
    expect(canTransition('PREPARED', 'FAILED')).toBe(true);
  });
});
