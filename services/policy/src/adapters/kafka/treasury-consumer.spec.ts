import { describe, expect, it } from '@jest/globals';
import { Topics, TxSigningRefused, TxState, TxStatus, type DecodedEvent } from '@custody/contracts';
import { chainOutcomeOf } from './treasury-consumer.js';

const status = (withdrawalId: string, state: TxState, reasonCode = ''): DecodedEvent => ({ type: Topics.txStatus, message: TxStatus.fromPartial({ withdrawalId, state, reasonCode }) }) as DecodedEvent;
const T = 'treasury:sweep:ETH:1';

describe('C-9.3.7.1-a an in-flight sweep closes only when the chain has the last word', () => {
  it('FINAL closes, FAILED/DROPPED and a consumed refusal close as failed, REORGED reopens', () => {
    expect(chainOutcomeOf(status(T, TxState.TX_STATE_FINAL))).toEqual({ transferId: T, outcome: 'final', reason: '' });
    expect(chainOutcomeOf(status(T, TxState.TX_STATE_FAILED, 'REVERTED'))).toEqual({ transferId: T, outcome: 'failed', reason: 'REVERTED' });
    expect(chainOutcomeOf(status(T, TxState.TX_STATE_DROPPED))).toEqual({ transferId: T, outcome: 'failed', reason: 'TX_DROPPED' });
    expect(chainOutcomeOf(status(T, TxState.TX_STATE_REORGED))).toEqual({ transferId: T, outcome: 'reorged', reason: '' });
    expect(chainOutcomeOf({ type: Topics.txRefused, message: TxSigningRefused.fromPartial({ withdrawalId: T, decisionConsumed: true, reasonCode: 'TOKEN_EXPIRED' }) } as DecodedEvent)).toEqual({ transferId: T, outcome: 'failed', reason: 'TOKEN_EXPIRED' });
  });

  it('in-between states, refusals that did not spend the decision and customer withdrawals mean nothing', () => {
    for (const s of [TxState.TX_STATE_BROADCAST, TxState.TX_STATE_CONFIRMED, TxState.TX_STATE_REPLACED]) expect(chainOutcomeOf(status(T, s))).toBeUndefined();
    expect(chainOutcomeOf({ type: Topics.txRefused, message: TxSigningRefused.fromPartial({ withdrawalId: T, decisionConsumed: false }) } as DecodedEvent)).toBeUndefined();
    expect(chainOutcomeOf(status('8f14e45f-ceea-467f-a0e6-2b7cd1c5f1a1', TxState.TX_STATE_FINAL))).toBeUndefined();
  });
});
