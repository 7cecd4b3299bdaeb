/** The EIP-155 example transaction, reproduced byte for byte, and replay protection. */
import { describe, expect, it } from '@jest/globals';
import { keccak_256 } from '@noble/hashes/sha3.js';
import fc from 'fast-check';
import { bigintToBytes, bytesToHex, hexToBytes } from './bytes.js';
import { SignerInputError } from './errors.js';
import {
  decodeLegacyTransaction,
  legacySigningHash,
  legacySigningPayload,
  parseAddress,
  publicKeyToAddress,
  serializeSignedLegacy,
  signLegacyTransaction,
  type LegacyTransaction,
} from './evm.js';
import { getPublicKey, SECP256K1_N, signDigest } from './secp256k1.js';

const { default: vector } = await import('./vectors/eip155.json', { with: { type: 'json' } });

const hex = (text: string): Uint8Array => hexToBytes(text, 'vector');
const exampleTx: LegacyTransaction = {
  nonce: BigInt(vector.tx.nonce),
  gasPrice: BigInt(vector.tx.gasPrice),
  gasLimit: BigInt(vector.tx.gasLimit),
  to: parseAddress(vector.tx.to),
  value: BigInt(vector.tx.value),
  data: hex(vector.tx.data),
  chainId: BigInt(vector.tx.chainId),
};
const privateKey = hex(vector.privateKey);
const signer = publicKeyToAddress(getPublicKey(privateKey));

function codeOf(fn: () => unknown): string | undefined {
  try {
    fn();
  } catch (error) {
    return error instanceof SignerInputError ? error.code : `not a SignerInputError: ${String(error)}`;
  }
  return undefined;
}

describe('C-5.5.4.3-b EIP-155 example transaction, byte for byte', () => {
  it('the example is the one in the EIP (nonce 9, 20 gwei, 21000 gas, 1 ether to 0x3535…35, chain 1)', () => {
    expect(exampleTx.nonce).toBe(9n);
    expect(exampleTx.gasPrice).toBe(20n * 10n ** 9n);
    expect(exampleTx.gasLimit).toBe(21000n);
    expect(bytesToHex(exampleTx.to)).toBe('35'.repeat(20));
    expect(exampleTx.value).toBe(10n ** 18n);
    expect(exampleTx.chainId).toBe(1n);
  });

  it('produces the exact signing data and signing hash', () => {
    expect(legacySigningPayload(exampleTx)).toEqual(hex(vector.signingData));
    expect(legacySigningHash(exampleTx)).toEqual(hex(vector.signingHash));
    expect(keccak_256(hex(vector.signingData))).toEqual(hex(vector.signingHash));
  });

  it('signs to the published v, r, s and the exact signed transaction bytes', () => {
    const signed = signLegacyTransaction(exampleTx, privateKey);
    expect(signed.v).toBe(BigInt(vector.v));
    expect(signed.signature.r).toBe(BigInt(vector.r));
    expect(signed.signature.s).toBe(BigInt(vector.s));
    expect(bytesToHex(signed.raw)).toBe(vector.signedTx.slice(2));
    expect(signed.hash).toEqual(keccak_256(hex(vector.signedTx)));
    expect(signed.from).toEqual(signer);
    expect(Object.isFrozen(signed)).toBe(true);
  });

  it('decodes the published signed transaction back to the example and its sender', () => {
    const decoded = decodeLegacyTransaction(hex(vector.signedTx));
    expect(decoded.tx).toEqual(exampleTx);
    expect(decoded.signed?.from).toEqual(signer);
    expect(decoded.signed?.v).toBe(37n);
    expect(decodeLegacyTransaction(hex(vector.signingData))).toEqual({ tx: exampleTx });
  });
});

describe('C-5.5.4.3-b replay protection: no EVM signature without a chain id', () => {
  it('refuses to sign or hash without a chain id, or with chain id 0', () => {
    for (const chainId of [undefined, null, 0n]) {
      const tx = { ...exampleTx, chainId } as unknown as LegacyTransaction;
      expect(codeOf(() => signLegacyTransaction(tx, privateKey))).toBe('MISSING_CHAIN_ID');
      expect(codeOf(() => legacySigningHash(tx))).toBe('MISSING_CHAIN_ID');
    }
  });

  it('refuses to decode a pre-EIP-155 (v = 27) signature: it would replay on every chain', () => {
    const raw = hex(vector.signedTx);
    const vAt = raw.length - 67; // …, v (1 byte), 0xa0 r (33 bytes), 0xa0 s (33 bytes)
    expect(raw[vAt]).toBe(37);
    const preEip155 = Uint8Array.from(raw);
    preEip155[vAt] = 27;
    expect(codeOf(() => decodeLegacyTransaction(preEip155))).toBe('MISSING_CHAIN_ID');
  });

  it('the chain-1 signature replayed as chain 5 recovers someone else', () => {
    const raw = hex(vector.signedTx);
    const vAt = raw.length - 67;
    const asChain5 = Uint8Array.from(raw);
    asChain5[vAt] = 5 * 2 + 35; // same r, s, recovery bit; v claims chain 5
    const decoded = decodeLegacyTransaction(asChain5);
    expect(decoded.tx.chainId).toBe(5n);
    expect(decoded.signed?.from).not.toEqual(signer);
  });

  it('refuses high-S signatures when assembling a transaction (EIP-2)', () => {
    const sig = signDigest(legacySigningHash(exampleTx), privateKey);
    const high = { r: sig.r, s: SECP256K1_N - sig.s, recovery: (sig.recovery ^ 1) as 0 | 1 };
    expect(codeOf(() => serializeSignedLegacy(exampleTx, high))).toBe('HIGH_S_SIGNATURE');
    expect(serializeSignedLegacy(exampleTx, sig).raw).toEqual(hex(vector.signedTx));
  });

  it('refuses contract creation and out-of-range fields', () => {
    expect(codeOf(() => signLegacyTransaction({ ...exampleTx, to: new Uint8Array(0) }, privateKey))).toBe('INVALID_TRANSACTION');
    expect(codeOf(() => signLegacyTransaction({ ...exampleTx, to: new Uint8Array(19) }, privateKey))).toBe('INVALID_LENGTH');
    expect(codeOf(() => signLegacyTransaction({ ...exampleTx, value: -1n }, privateKey))).toBe('OUT_OF_RANGE');
    expect(codeOf(() => signLegacyTransaction({ ...exampleTx, nonce: 2n ** 64n - 1n }, privateKey))).toBe('OUT_OF_RANGE');
    expect(codeOf(() => signLegacyTransaction({ ...exampleTx, gasPrice: 1 as unknown as bigint }, privateKey))).toBe('INVALID_TYPE');
  });
});

const legacyTxArb = fc.record({
  nonce: fc.bigInt({ min: 0n, max: 2n ** 64n - 2n }),
  gasPrice: fc.bigInt({ min: 0n, max: 2n ** 256n - 1n }),
  gasLimit: fc.bigInt({ min: 0n, max: 2n ** 64n - 1n }),
  to: fc.uint8Array({ minLength: 20, maxLength: 20 }),
  value: fc.bigInt({ min: 0n, max: 2n ** 256n - 1n }),
  data: fc.uint8Array({ maxLength: 100 }),
  chainId: fc.bigInt({ min: 1n, max: 2n ** 64n - 1n }),
});

describe('C-5.5.4.3-b legacy transactions: properties', () => {
  it('sign → decode round trip recovers the signer and the chain id', () => {
    fc.assert(
      fc.property(legacyTxArb, fc.bigInt({ min: 1n, max: SECP256K1_N - 1n }), (tx, d) => {
        const key = bigintToBytes(d, 32);
        const signed = signLegacyTransaction(tx, key);
        const decoded = decodeLegacyTransaction(signed.raw);
        expect(decoded.tx).toEqual(tx);
        expect(decoded.signed?.from).toEqual(publicKeyToAddress(getPublicKey(key)));
        expect(decoded.signed?.v).toBe(tx.chainId * 2n + 35n + BigInt(signed.signature.recovery));
      }),
      { numRuns: 40 },
    );
  });
});
