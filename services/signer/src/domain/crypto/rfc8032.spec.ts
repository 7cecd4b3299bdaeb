/** RFC 8032 §7.1 Ed25519 test vectors: TEST 1, 2, 3, 1024 and SHA(abc). */
import { describe, expect, it } from '@jest/globals';
import { sha512 } from '@noble/hashes/sha2.js';
import { hexToBytes } from './bytes.js';
import { ed25519GetPublicKey, ed25519Sign, ed25519Verify } from './ed25519.js';

const { default: vectors } = await import('./vectors/rfc8032.json', { with: { type: 'json' } });
const hex = (text: string): Uint8Array => hexToBytes(text, 'vector');
const byName = (name: string) => {
  const found = vectors.vectors.find((v) => v.name === name);
  if (found === undefined) throw new Error(`missing ${name}`);
  return found;
};

describe('C-5.5.3.2-a RFC 8032 Ed25519 known answers (section 7.1)', () => {
  it('has TEST 1, 2, 3, 1024 and SHA(abc), with the messages the RFC describes', () => {
    expect(vectors.vectors.map((v) => v.name)).toEqual(['TEST 1', 'TEST 2', 'TEST 3', 'TEST 1024', 'TEST SHA(abc)']);
    expect(hex(byName('TEST 1').message)).toHaveLength(0);
    expect(hex(byName('TEST 1024').message)).toHaveLength(1023);
    expect(hex(byName('TEST SHA(abc)').message)).toEqual(sha512(new TextEncoder().encode('abc')));
  });

  it.each(vectors.vectors.map((v) => [v.name, v] as const))('%s: public key, signature and verification', (_name, v) => {
    const secretKey = hex(v.secretKey);
    const message = hex(v.message);
    expect(ed25519GetPublicKey(secretKey)).toEqual(hex(v.publicKey));
    expect(ed25519Sign(message, secretKey)).toEqual(hex(v.signature));
    expect(ed25519Verify(hex(v.signature), message, hex(v.publicKey))).toBe(true);
  });

  it.each(vectors.vectors.map((v) => [v.name, v] as const))('%s: a flipped signature bit fails', (_name, v) => {
    const sig = hex(v.signature);
    sig[0] = (sig[0] ?? 0) ^ 1;
    expect(ed25519Verify(sig, hex(v.message), hex(v.publicKey))).toBe(false);
  });
});
