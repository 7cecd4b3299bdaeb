import { describe, it, expect } from '@jest/globals';
import { PolicyDecided, PolicyDecision, Topics, TxPrepared, TxSigned, TxSigningRefused, TxState, TxStatus, type DecodedEvent } from '@custody/contracts';
import { factOf } from './pipeline-consumer.js';

const refused = (decisionConsumed: boolean): DecodedEvent =>
  ({
    type: Topics.txRefused,
    message: TxSigningRefused.fromPartial({ withdrawalId: 'w-1', decisionId: 'd-1', reasonCode: 'TOKEN_BINDING_MISMATCH', detail: 'amount differs', decisionConsumed }),
  }) as DecodedEvent;

describe('C-5.3-a a signing refusal moves the withdrawal only when it spent the decision', () => {
  it('a refusal after the single-use reservation fails the withdrawal with the signer reason', () => {
    expect(factOf(refused(true))).toEqual({ withdrawalId: 'w-1', to: 'FAILED', reasonCode: 'TOKEN_BINDING_MISMATCH', reasonDetail: 'amount differs' });
  });

  it('a forged, tampered or replayed request refused before the reservation changes nothing (the genuine one may still be signed)', () => {
    expect(factOf(refused(false))).toBeUndefined();
  });
});

describe('C-9.3.7.1-a treasury transfers are not withdrawals of intake', () => {
  const id = 'treasury:sweep:ETH:8f14e45f-ceea-467f-a0e6-2b7cd1c5f1a1';
  const events: DecodedEvent[] = [
    { type: Topics.policyDecided, message: PolicyDecided.fromPartial({ withdrawalId: id, decisionId: 'd-9', decision: PolicyDecision.POLICY_DECISION_ALLOW, treasuryTransfer: { direction: 'sweep', destinationWallet: 'eth-cold-01' } }) },
    { type: Topics.txPrepared, message: TxPrepared.fromPartial({ withdrawalId: id }) },
    { type: Topics.txSigned, message: TxSigned.fromPartial({ withdrawalId: id, txHash: '0xab' }) },
    { type: Topics.txRefused, message: TxSigningRefused.fromPartial({ withdrawalId: id, decisionConsumed: true, reasonCode: 'KEY_SUSPENDED' }) },
    ...[TxState.TX_STATE_BROADCAST, TxState.TX_STATE_CONFIRMED, TxState.TX_STATE_FINAL, TxState.TX_STATE_REORGED, TxState.TX_STATE_FAILED, TxState.TX_STATE_REPLACED].map(
      (state) => ({ type: Topics.txStatus, message: TxStatus.fromPartial({ withdrawalId: id, state, txHash: '0xab' }) }) as DecodedEvent,
    ),
  ] as DecodedEvent[];

  it.each(events.map((e) => [e.type, e] as const))('%s of a transfer id is ignored (not parked, not looked up)', (_type, event) => {
    expect(factOf(event)).toBeUndefined();
  });

  it('the same events of a customer withdrawal still move it (control)', () => {
    const wd = '8f14e45f-ceea-467f-a0e6-2b7cd1c5f1a1';
    expect(factOf({ type: Topics.txStatus, message: TxStatus.fromPartial({ withdrawalId: wd, state: TxState.TX_STATE_FINAL, txHash: '0xab' }) } as DecodedEvent)).toMatchObject({ withdrawalId: wd, to: 'FINAL' });
    expect(factOf({ type: Topics.policyDecided, message: PolicyDecided.fromPartial({ withdrawalId: wd, decision: PolicyDecision.POLICY_DECISION_ALLOW }) } as DecodedEvent)).toMatchObject({ withdrawalId: wd, to: 'APPROVED' });
  });
});
