import { describe, expect, it } from '@jest/globals';
import { keccak_256 } from '@noble/hashes/sha3.js';
import fc from 'fast-check';
import { bigintToBytes } from './bytes.js';
import { SignerInputError } from './errors.js';
import {
  decodeEip1559Transaction,
  eip1559SigningHash,
  eip1559UnsignedPayload,
  publicKeyToAddress,
  serializeSignedEip1559,
  signEip1559Transaction,
  type Eip1559Transaction,
} from './evm.js';
import { rlpDecode } from './rlp.js';
import { computeRecoveryId, getPublicKey, normaliseLowS, SECP256K1_N, signatureFromCompact, signatureToCompact, signDigest } from './secp256k1.js';

const u256 = fc.bigInt({ min: 0n, max: 2n ** 256n - 1n });
const bytes = (n: number) => fc.uint8Array({ minLength: n, maxLength: n });
const txArb: fc.Arbitrary<Eip1559Transaction> = fc
  .record({
    chainId: fc.bigInt({ min: 1n, max: 2n ** 64n - 1n }),
    nonce: fc.bigInt({ min: 0n, max: 2n ** 64n - 2n }),
    a: u256,
    b: u256,
    gasLimit: fc.bigInt({ min: 0n, max: 2n ** 64n - 1n }),
    to: bytes(20),
    value: u256,
    data: fc.uint8Array({ maxLength: 80 }),
    accessList: fc.array(fc.record({ address: bytes(20), storageKeys: fc.array(bytes(32), { maxLength: 3 }) }), { maxLength: 3 }),
  })
  .map(({ a, b, ...rest }) => ({ ...rest, maxPriorityFeePerGas: a < b ? a : b, maxFeePerGas: a < b ? b : a }));
const keyArb = fc.bigInt({ min: 1n, max: SECP256K1_N - 1n }).map((d) => bigintToBytes(d, 32));

const base: Eip1559Transaction = {
  chainId: 1n,
  nonce: 0n,
  maxPriorityFeePerGas: 2n * 10n ** 9n,
  maxFeePerGas: 30n * 10n ** 9n,
  gasLimit: 21000n,
  to: new Uint8Array(20).fill(0x35),
  value: 10n ** 18n,
  data: new Uint8Array(0),
  accessList: [],
};
const key = bigintToBytes(0x4646464646464646464646464646464646464646464646464646464646464646n, 32);

function codeOf(fn: () => unknown): string | undefined {
  try {
    fn();
  } catch (error) {
    return error instanceof SignerInputError ? error.code : `not a SignerInputError: ${String(error)}`;
  }
  return undefined;
}

describe('EIP-1559 (type 2) serialisation and signing: properties', () => {
  it('signing hash is keccak256 of 0x02 || rlp(9 fields)', () => {
    fc.assert(
      fc.property(txArb, (tx) => {
        const payload = eip1559UnsignedPayload(tx);
        expect(payload[0]).toBe(2);
        const fields = rlpDecode(payload.subarray(1));
        expect(Array.isArray(fields) && fields.length).toBe(9);
        expect(eip1559SigningHash(tx)).toEqual(keccak_256(payload));
        expect(decodeEip1559Transaction(payload)).toEqual({ tx });
      }),
      { numRuns: 60 },
    );
  });

  it('sign → decode round trip gives back the transaction and the signer', () => {
    fc.assert(
      fc.property(txArb, keyArb, (tx, secretKey) => {
        const signed = signEip1559Transaction(tx, secretKey);
        const decoded = decodeEip1559Transaction(signed.raw);
        expect(decoded.tx).toEqual(tx);
        expect(decoded.signed?.from).toEqual(publicKeyToAddress(getPublicKey(secretKey)));
        expect(decoded.signed?.raw).toEqual(signed.raw);
        expect(signed.hash).toEqual(keccak_256(signed.raw));
        expect(signed.v).toBe(BigInt(signed.signature.recovery));
      }),
      { numRuns: 40 },
    );
  });

  it('a tampered amount or destination no longer recovers the signer', () => {
    const signed = signEip1559Transaction(base, key);
    const fields = rlpDecode(signed.raw.subarray(1)) as readonly Uint8Array[];
    const valueField = fields[6] as Uint8Array;
    const at = signed.raw.findIndex((_, i) => signed.raw.subarray(i, i + valueField.length).every((b, j) => b === valueField[j]));
    const tampered = Uint8Array.from(signed.raw);
    tampered[at] = (tampered[at] ?? 0) ^ 0x01;
    const decoded = decodeEip1559Transaction(tampered);
    expect(decoded.tx.value).not.toBe(base.value);
    expect(decoded.signed?.from).not.toEqual(signed.from);
  });

  it('an HSM-style bare high-S signature, normalised with its recovery id computed, gives the same bytes', () => {
    fc.assert(
      fc.property(txArb, keyArb, (tx, secretKey) => {
        const digest = eip1559SigningHash(tx);
        const ours = signDigest(digest, secretKey);
        const hsmOutput = signatureToCompact({ r: ours.r, s: SECP256K1_N - ours.s }); // r || s, high-S, no id
        const low = normaliseLowS(signatureFromCompact(hsmOutput));
        const recovery = computeRecoveryId(digest, low, getPublicKey(secretKey));
        expect(serializeSignedEip1559(tx, { ...low, recovery }).raw).toEqual(signEip1559Transaction(tx, secretKey).raw);
      }),
      { numRuns: 25 },
    );
  });
});

describe('C-5.5.4.3-b EIP-1559: chain id required, fields validated', () => {
  it('refuses a transaction without chain id', () => {
    for (const chainId of [undefined, null, 0n]) {
      const tx = { ...base, chainId } as unknown as Eip1559Transaction;
      expect(codeOf(() => signEip1559Transaction(tx, key))).toBe('MISSING_CHAIN_ID');
      expect(codeOf(() => eip1559SigningHash(tx))).toBe('MISSING_CHAIN_ID');
    }
  });

  it('refuses a priority fee above the max fee, bad access lists and high-S signatures', () => {
    expect(codeOf(() => signEip1559Transaction({ ...base, maxPriorityFeePerGas: base.maxFeePerGas + 1n }, key))).toBe('INVALID_TRANSACTION');
    expect(codeOf(() => signEip1559Transaction({ ...base, accessList: [{ address: new Uint8Array(20), storageKeys: [new Uint8Array(31)] }] }, key))).toBe(
      'INVALID_LENGTH',
    );
    const sig = signDigest(eip1559SigningHash(base), key);
    expect(codeOf(() => serializeSignedEip1559(base, { r: sig.r, s: SECP256K1_N - sig.s, recovery: sig.recovery }))).toBe('HIGH_S_SIGNATURE');
  });

  it('decoding refuses other types, wrong field counts and trailing bytes', () => {
    const signed = signEip1559Transaction(base, key);
    const legacyTyped = Uint8Array.from(signed.raw);
    legacyTyped[0] = 0x01;
    expect(codeOf(() => decodeEip1559Transaction(legacyTyped))).toBe('INVALID_TRANSACTION');
    expect(codeOf(() => decodeEip1559Transaction(Uint8Array.of(...signed.raw, 0)))).toBe('INVALID_RLP');
    expect(codeOf(() => decodeEip1559Transaction(Uint8Array.of(2, 0xc1, 0x80)))).toBe('INVALID_TRANSACTION');
  });
});
