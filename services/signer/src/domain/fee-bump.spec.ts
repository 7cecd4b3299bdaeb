import { describe, expect, it } from '@jest/globals';
import fc from 'fast-check';
import { hex } from '@scure/base';
import { eip1559UnsignedPayload, signEip1559Transaction, type Eip1559Transaction } from './crypto/evm.js';
import { bigintToMinimalBytes, rlpEncode } from './crypto/rlp.js';
import { checkFeeBump, feeCeiling } from './fee-bump.js';

const GWEI = 1_000_000_000n;
const original: Eip1559Transaction = {
  chainId: 11155111n,
  nonce: 7n,
  maxPriorityFeePerGas: 1n * GWEI,
  maxFeePerGas: 30n * GWEI,
  gasLimit: 21_000n,
  to: hex.decode('2222222222222222222222222222222222222222'),
  value: 1_500000000000000000n,
  data: new Uint8Array(0),
  accessList: [],
};
const CEILING = 10n ** 16n; // 0.01 ETH: gasLimit 21000 allows maxFeePerGas up to 476.19 gwei
const signedPayload = eip1559UnsignedPayload(original);
const check = (candidate: Partial<Eip1559Transaction>, ceiling = CEILING) => checkFeeBump({ signedPayload, candidatePayload: eip1559UnsignedPayload({ ...original, ...candidate }), feeCeiling: ceiling });

describe('fee-only re-signature rule (domain, not wired)', () => {
  it('accepts a bump of both fee fields within the ceiling, and of the priority fee alone', () => {
    const both = check({ maxFeePerGas: 60n * GWEI, maxPriorityFeePerGas: 2n * GWEI });
    expect(both).toMatchObject({ ok: true, tx: { maxFeePerGas: 60n * GWEI, maxPriorityFeePerGas: 2n * GWEI, nonce: 7n } });
    expect(check({ maxPriorityFeePerGas: 3n * GWEI })).toMatchObject({ ok: true });
    expect(check({ maxFeePerGas: 31n * GWEI })).toMatchObject({ ok: true });
  });

  it.each<[string, Partial<Eip1559Transaction>]>([
    ['chainId', { chainId: 1n }],
    ['nonce', { nonce: 8n }],
    ['gasLimit', { gasLimit: 21_001n }],
    ['to', { to: hex.decode('3333333333333333333333333333333333333333') }],
    ['value', { value: original.value + 1n }],
    ['data', { data: Uint8Array.of(0xa9, 0x05, 0x9c, 0xbb) }],
    ['accessList', { accessList: [{ address: hex.decode('4444444444444444444444444444444444444444'), storageKeys: [] }] }],
  ])('refuses a change of %s, even with a valid fee bump (FEE_BUMP_FIELD_CHANGED, field named)', (field, change) => {
    const verdict = check({ ...change, maxFeePerGas: 60n * GWEI });
    expect(verdict).toMatchObject({ ok: false, code: 'FEE_BUMP_FIELD_CHANGED' });
    expect(verdict.ok ? '' : verdict.detail).toContain(field);
  });

  it('refuses a lower fee field, an identical transaction, and a tip above the max fee', () => {
    expect(check({ maxFeePerGas: 60n * GWEI, maxPriorityFeePerGas: GWEI / 2n })).toMatchObject({ ok: false, code: 'FEE_BUMP_FEE_DECREASED' });
    expect(check({ maxFeePerGas: 29n * GWEI, maxPriorityFeePerGas: 2n * GWEI })).toMatchObject({ ok: false, code: 'FEE_BUMP_FEE_DECREASED' });
    expect(check({})).toMatchObject({ ok: false, code: 'FEE_BUMP_NOT_HIGHER' });
    // Our encoder will not even build tip > max fee; a hand-made payload is refused by the strict decoder.
    const fields = [original.chainId, original.nonce, 31n * GWEI, 30n * GWEI, original.gasLimit].map(bigintToMinimalBytes);
    const tipAboveMax = Uint8Array.of(0x02, ...rlpEncode([...fields, original.to, bigintToMinimalBytes(original.value), original.data, []]));
    expect(checkFeeBump({ signedPayload, candidatePayload: tipAboveMax, feeCeiling: CEILING })).toMatchObject({ ok: false, code: 'FEE_BUMP_MALFORMED' });
  });

  it('holds gasLimit × maxFeePerGas to min(profile cap, decision cap): equal passes, one wei over is refused', () => {
    const ceiling = feeCeiling(10n ** 16n, 21_000n * 100n * GWEI);
    expect(ceiling).toBe(21_000n * 100n * GWEI);
    expect(feeCeiling(5n, 9n)).toBe(5n);
    expect(check({ maxFeePerGas: 100n * GWEI }, ceiling)).toMatchObject({ ok: true });
    expect(check({ maxFeePerGas: 100n * GWEI + 1n }, ceiling)).toMatchObject({ ok: false, code: 'FEE_BUMP_ABOVE_CAP' });
    expect(check({ maxFeePerGas: 60n * GWEI }, 0n)).toMatchObject({ ok: false, code: 'FEE_BUMP_MALFORMED' });
  });

  it('refuses a signed or non-canonical candidate and a malformed original', () => {
    const bumped = { ...original, maxFeePerGas: 60n * GWEI };
    const signed = signEip1559Transaction(bumped, new Uint8Array(32).fill(1)).raw;
    expect(checkFeeBump({ signedPayload, candidatePayload: signed, feeCeiling: CEILING })).toMatchObject({ ok: false, code: 'FEE_BUMP_MALFORMED' });
    const trailing = Uint8Array.of(...eip1559UnsignedPayload(bumped), 0x00);
    expect(checkFeeBump({ signedPayload, candidatePayload: trailing, feeCeiling: CEILING })).toMatchObject({ ok: false, code: 'FEE_BUMP_MALFORMED' });
    expect(checkFeeBump({ signedPayload: Uint8Array.of(0x02, 0xc0), candidatePayload: eip1559UnsignedPayload(bumped), feeCeiling: CEILING })).toMatchObject({ ok: false, code: 'FEE_BUMP_MALFORMED' });
  });

  it('property: accepted ⇔ only the fee fields changed, neither decreased, one increased, tip ≤ max fee, within the ceiling', () => {
    const fee = fc.bigInt({ min: 0n, max: 300n * GWEI });
    fc.assert(
      fc.property(fee, fee, fc.constantFrom<keyof Eip1559Transaction | 'none'>('none', 'nonce', 'value', 'gasLimit'), (tip, extra, mutate) => {
        const maxFee = tip + extra; // EIP-1559 validity (tip <= max fee) is the encoder's own rule
        const change: Partial<Eip1559Transaction> =
          mutate === 'nonce' ? { nonce: 8n } : mutate === 'value' ? { value: original.value - 1n } : mutate === 'gasLimit' ? { gasLimit: 30_000n } : {};
        const verdict = check({ ...change, maxFeePerGas: maxFee, maxPriorityFeePerGas: tip });
        const expected =
          mutate === 'none' &&
          maxFee >= original.maxFeePerGas &&
          tip >= original.maxPriorityFeePerGas &&
          (maxFee > original.maxFeePerGas || tip > original.maxPriorityFeePerGas) &&
          original.gasLimit * maxFee <= CEILING;
        expect(verdict.ok).toBe(expected);
      }),
      { numRuns: 500 },
    );
  });
});
