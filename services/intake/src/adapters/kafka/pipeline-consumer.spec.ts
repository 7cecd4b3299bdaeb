import { describe, it, expect } from '@jest/globals';
import { Topics, TxSigningRefused, type DecodedEvent } from '@custody/contracts';
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
