import { describe, expect, it } from '@jest/globals';
import { CustodialTier, GetTransferBookingResponse, GetWalletBalancesResponse, TransferBookingState } from '@custody/contracts';
import { transferBookingOf, walletBalanceFacts } from './ledger-wallet-balances.js';

const res = (balances: { walletId: string; asset: string; available: string; chain?: string }[]): GetWalletBalancesResponse =>
  GetWalletBalancesResponse.fromPartial({ balances: balances.map((b) => ({ account: `custodian:${b.asset}:${b.walletId}`, tier: CustodialTier.CUSTODIAL_TIER_HOT, chain: 'ethereum-mainnet', ...b })) });

describe('C-9.3.7.1-a the monitor reads per-wallet balances from the ledger exactly', () => {
  it('maps wallet balances of the asset to bigint (wei beyond 2^53; negative allowed), skipping other assets and the legacy omnibus', () => {
    const facts = walletBalanceFacts(
      res([
        { walletId: 'eth-hot-01', asset: 'ETH', available: '60000000000000000001' },
        { walletId: 'eth-warm-01', asset: 'ETH', available: '-5' },
        { walletId: '', asset: 'ETH', available: '7' },
        { walletId: 'btc-hot-01', asset: 'BTC', available: '1' },
      ]),
      'ETH',
    );
    expect(facts).toEqual([
      { walletId: 'eth-hot-01', chain: 'ethereum-mainnet', available: 60000000000000000001n },
      { walletId: 'eth-warm-01', chain: 'ethereum-mainnet', available: -5n },
    ]);
  });

  it('a malformed amount rejects the whole answer (the round is skipped, never "0")', () => {
    for (const bad of ['', '1.5', '01', '1e3', ' 1']) expect(() => walletBalanceFacts(res([{ walletId: 'eth-hot-01', asset: 'ETH', available: bad }]), 'ETH')).toThrow(/malformed balance/);
  });
});

describe('C-9.3.7.1-a the monitor reads a transfer\'s booking from the ledger exactly (fail closed)', () => {
  const id = 'treasury:sweep:ETH:1';
  const booking = (state: TransferBookingState, transferId = id): GetTransferBookingResponse => GetTransferBookingResponse.fromPartial({ transferId, state, entryId: state === TransferBookingState.TRANSFER_BOOKING_STATE_BOOKED ? 'e1' : '' });

  it('BOOKED, PENDING and NOT_KNOWN map one to one', () => {
    expect(transferBookingOf(booking(TransferBookingState.TRANSFER_BOOKING_STATE_BOOKED), id)).toBe('booked');
    expect(transferBookingOf(booking(TransferBookingState.TRANSFER_BOOKING_STATE_PENDING), id)).toBe('pending');
    expect(transferBookingOf(booking(TransferBookingState.TRANSFER_BOOKING_STATE_NOT_KNOWN), id)).toBe('not_known');
  });

  it('UNSPECIFIED, an unknown state or an answer about another transfer rejects (never "booked")', () => {
    expect(() => transferBookingOf(booking(TransferBookingState.TRANSFER_BOOKING_STATE_UNSPECIFIED), id)).toThrow(/unknown booking state/);
    expect(() => transferBookingOf(booking(99 as TransferBookingState), id)).toThrow(/unknown booking state/);
    expect(() => transferBookingOf(booking(TransferBookingState.TRANSFER_BOOKING_STATE_BOOKED, 'treasury:sweep:ETH:2'), id)).toThrow(/another transfer/);
  });
});
