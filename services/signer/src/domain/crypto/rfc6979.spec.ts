/**
 * Known answers for RFC 6979 deterministic ECDSA on secp256k1 with SHA-256. RFC 6979 has
 * no secp256k1 vectors, so these are the widely used ones (btcd/Trezor/CoreBitcoin and
 * bitcoinjs-lib fixtures; sources in vectors/rfc6979.json). The nonce k is not exposed
 * by the kernel (nor should it be); it is checked through r = x(k·G) mod n.
 */
import { describe, expect, it } from '@jest/globals';
import { secp256k1 } from '@noble/curves/secp256k1.js';
import { sha256 } from '@noble/hashes/sha2.js';
import { hexToBytes } from './bytes.js';
import { getPublicKey, recoverPublicKey, SECP256K1_N, signDigest, verifyDigest } from './secp256k1.js';

const { default: vectors } = await import('./vectors/rfc6979.json', { with: { type: 'json' } });

const utf8 = (text: string): Uint8Array => new TextEncoder().encode(text);
const key32 = (hex: string): Uint8Array => hexToBytes(hex.padStart(64, '0'), 'key');
/** x coordinate of k·G reduced mod n: the r every signature made with nonce k has. */
const rOfNonce = (kHex: string): bigint => secp256k1.Point.BASE.multiply(BigInt(`0x${kHex}`)).x % SECP256K1_N;
const fromDer = (hex: string) => secp256k1.Signature.fromBytes(hexToBytes(hex, 'der'), 'der');

describe('C-5.5.3.2-a RFC 6979 secp256k1 known answers: btcd / Trezor / CoreBitcoin', () => {
  it('has the six published vectors', () => {
    expect(vectors.btcd.vectors).toHaveLength(6);
  });
  it.each(vectors.btcd.vectors.map((v) => [v.message.slice(0, 40), v] as const))('%s', (_name, v) => {
    const digest = sha256(utf8(v.message));
    const expected = fromDer(v.signatureDer);
    const sig = signDigest(digest, key32(v.key));
    expect(sig.r).toBe(expected.r);
    expect(sig.s).toBe(expected.s);
    expect(sig.r).toBe(rOfNonce(v.k));
    expect(verifyDigest({ r: expected.r, s: expected.s }, digest, getPublicKey(key32(v.key)))).toBe(true);
  });
});

describe('C-5.5.3.2-a RFC 6979 secp256k1 known answers: bitcoinjs-lib ecdsa fixtures', () => {
  it('has the seven published vectors', () => {
    expect(vectors.bitcoinjs.vectors).toHaveLength(7);
  });
  it.each(vectors.bitcoinjs.vectors.map((v) => [v.message.slice(0, 40), v] as const))('%s', (_name, v) => {
    const digest = sha256(utf8(v.message));
    const expected = fromDer(v.signatureDer);
    const sig = signDigest(digest, key32(v.d));
    expect({ r: sig.r, s: sig.s }).toEqual({ r: expected.r, s: expected.s });
    expect(sig.r).toBe(rOfNonce(v.k));
    expect(sig.recovery).toBe(v.i);
    expect(recoverPublicKey(digest, sig)).toEqual(getPublicKey(key32(v.d)));
  });
});

describe('C-5.5.3.2-a RFC 6979 secp256k1 known answers: bitcoinjs-lib first nonce candidates', () => {
  it('has the ten published vectors', () => {
    expect(vectors.bitcoinjsNonces.vectors).toHaveLength(10);
  });
  it.each(vectors.bitcoinjsNonces.vectors.map((v) => [v.message, v] as const))('%s', (_name, v) => {
    const sig = signDigest(sha256(utf8(v.message)), key32(v.d));
    expect(sig.r).toBe(rOfNonce(v.k0));
  });
});
