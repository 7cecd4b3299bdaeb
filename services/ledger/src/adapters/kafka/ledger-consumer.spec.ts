import { describe, expect, it } from '@jest/globals';
import { PolicyDecided, PolicyDecision, Topics, TxState, TxStatus, type DecodedEvent } from '@custody/contracts';
import type { LedgerPostings } from '../../application/postings.js';
import { postingFor } from './ledger-consumer.js';

const calls: string[] = [];
const postings = new Proxy({}, { get: (_t, name) => (...args: unknown[]) => (calls.push(`${String(name)}:${String(args[0] && typeof args[0] === 'object' ? (args[0] as { transferId: string }).transferId : args[0])}`), Promise.resolve('ignored')) }) as unknown as LedgerPostings;
const ctx = { eventId: 'e-1', correlationId: 'c-1' };
const T = 'treasury:sweep:ETH:1';
const decided = (over: Partial<PolicyDecided>): DecodedEvent =>
  ({ type: Topics.policyDecided, message: PolicyDecided.fromPartial({ decisionId: 'd-1', withdrawalId: T, decision: PolicyDecision.POLICY_DECISION_ALLOW, asset: 'ETH', chain: 'ethereum', amount: '600', sourceWallet: 'eth-hot-01', treasuryTransfer: { direction: 'sweep', destinationWallet: 'eth-cold-01' }, ...over }) }) as DecodedEvent;
const status = (withdrawalId: string, state: TxState): DecodedEvent => ({ type: Topics.txStatus, message: TxStatus.fromPartial({ withdrawalId, state, sourceWallet: 'eth-hot-01', feePaid: '5' }) }) as DecodedEvent;

async function run(event: DecodedEvent): Promise<string | undefined> {
  calls.length = 0;
  const p = postingFor(event, postings, ctx);
  if (!p) return undefined;
  await p({});
  return calls[0];
}

describe('C-9.3.7.1-a the ledger routes treasury transfers apart from withdrawals', () => {
  it('an ALLOW of a treasury transfer authorises it; FINAL and REORGED of the transfer go to the transfer postings', async () => {
    expect(await run(decided({}))).toBe(`transferAuthorised:${T}`);
    expect(await run(status(T, TxState.TX_STATE_FINAL))).toBe(`transferFinal:${T}`);
    expect(await run(status(T, TxState.TX_STATE_REORGED))).toBe(`transferReorged:${T}`);
    expect(await run(status(T, TxState.TX_STATE_FAILED))).toBeUndefined();
  });

  it('customer decisions and non-allow transfer decisions mean nothing for the books; customer tx.status still settles withdrawals', async () => {
    expect(await run(decided({ withdrawalId: '8f14e45f-ceea-467f-a0e6-2b7cd1c5f1a1' }))).toBeUndefined();
    expect(await run(decided({ decision: PolicyDecision.POLICY_DECISION_REQUIRE_APPROVAL }))).toBeUndefined();
    expect(await run(status('w-1', TxState.TX_STATE_FINAL))).toBe('settle:w-1');
  });

  it('a malformed transfer decision is refused (dead-lettered), never booked to a guessed wallet', () => {
    expect(() => postingFor(decided({ treasuryTransfer: undefined }), postings, ctx)).toThrow(/treasury_transfer/);
    expect(() => postingFor(decided({ treasuryTransfer: { direction: 'sweep', destinationWallet: 'a:b' } } as never), postings, ctx)).toThrow(/destination_wallet/);
    expect(() => postingFor(decided({ treasuryTransfer: { direction: 'sweep', destinationWallet: 'eth-hot-01' } } as never), postings, ctx)).toThrow(/same wallet/);
    expect(() => postingFor(decided({ amount: '-1' }), postings, ctx)).toThrow();
  });
});
