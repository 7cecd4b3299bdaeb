/**
 * The KeyCustody contract: one suite, run against every adapter (local sealed store in the
 * unit tier, PKCS#11 against the real SoftHSM2 token in the integration tier). Signatures
 * are checked with @noble/curves directly, not with the code under test.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { ed25519 } from '@noble/curves/ed25519.js';
import { secp256k1 } from '@noble/curves/secp256k1.js';
import { sha256 } from '@noble/hashes/sha2.js';
import type { KeyCustody } from '../../src/application/key-custody.js';
import { SECP256K1_N } from '../../src/domain/crypto/secp256k1.js';
import { bigintToBytes } from '../../src/domain/crypto/bytes.js';

export interface ContractSubject {
  readonly custody: KeyCustody;
  /** A ref of the adapter's own shape that names no key. */
  readonly absentRef: string;
  /** Proves the private key of `ref` cannot be read out through the custody's storage/API. */
  assertNotExtractable(ref: string, publicKey: Uint8Array): Promise<void>;
  cleanup(): Promise<void>;
}

async function codeOf(p: Promise<unknown>): Promise<string | undefined> {
  try {
    await p;
  } catch (error) {
    return (error as { code?: string }).code;
  }
  return undefined;
}

export function describeKeyCustodyContract(title: string, open: () => Promise<ContractSubject>): void {
  describe(title, () => {
    let subject: ContractSubject;
    let custody: KeyCustody;
    const created: string[] = [];

    beforeAll(async () => {
      subject = await open();
      custody = subject.custody;
    });

    afterAll(async () => {
      for (const ref of created) await custody.destroyKey(ref).catch(() => undefined);
      await subject.cleanup();
    });

    it('generates a secp256k1 key and returns only its compressed public key', async () => {
      const key = await custody.generateKey('secp256k1', 'contract secp256k1');
      created.push(key.ref);
      expect(Object.keys(key).sort()).toEqual(['algorithm', 'publicKey', 'ref']);
      expect(key.publicKey).toHaveLength(33);
      expect(() => secp256k1.Point.fromBytes(key.publicKey)).not.toThrow();
      expect(await custody.publicKey(key.ref, 'secp256k1')).toEqual(key.publicKey);
    });

    it('secp256k1 signatures verify with @noble/curves, are always low-S and carry the right recovery id', async () => {
      const key = await custody.generateKey('secp256k1', 'contract secp256k1 sign');
      created.push(key.ref);
      // 24 digests: an HSM that returns high-S half the time would fail this with p = 2^-24.
      for (let i = 0; i < 24; i++) {
        const digest = sha256(Uint8Array.of(i, 1, 2, 3));
        const result = await custody.sign(key.ref, { algorithm: 'secp256k1', digest });
        if (result.algorithm !== 'secp256k1') throw new Error('wrong result algorithm');
        const { r, s, recovery } = result.signature;
        expect(s <= SECP256K1_N / 2n).toBe(true);
        const compact = new Uint8Array([...bigintToBytes(r, 32), ...bigintToBytes(s, 32)]);
        expect(secp256k1.verify(compact, digest, key.publicKey, { prehash: false, lowS: true })).toBe(true);
        const recovered = new secp256k1.Signature(r, s, recovery).recoverPublicKey(digest).toBytes(true);
        expect(recovered).toEqual(key.publicKey);
        // the same signature does not verify another digest
        expect(secp256k1.verify(compact, sha256(digest), key.publicKey, { prehash: false })).toBe(false);
      }
    });

    it('generates Ed25519 keys whose RFC 8032 signatures verify with @noble/curves', async () => {
      const key = await custody.generateKey('ed25519', 'contract ed25519');
      created.push(key.ref);
      expect(key.publicKey).toHaveLength(32);
      expect(await custody.publicKey(key.ref, 'ed25519')).toEqual(key.publicKey);
      const message = new TextEncoder().encode('custody contract message');
      const result = await custody.sign(key.ref, { algorithm: 'ed25519', message });
      if (result.algorithm !== 'ed25519') throw new Error('wrong result algorithm');
      expect(ed25519.verify(result.signature, message, key.publicKey, { zip215: false })).toBe(true);
      expect(ed25519.verify(result.signature, new TextEncoder().encode('other message'), key.publicKey)).toBe(false);
    });

    it('generates distinct keys', async () => {
      const a = await custody.generateKey('secp256k1', 'contract distinct a');
      const b = await custody.generateKey('secp256k1', 'contract distinct b');
      created.push(a.ref, b.ref);
      expect(a.ref).not.toBe(b.ref);
      expect(a.publicKey).not.toEqual(b.publicKey);
    });

    it('offers no way to read a private key out', async () => {
      const key = await custody.generateKey('secp256k1', 'contract non-extractable');
      const edKey = await custody.generateKey('ed25519', 'contract non-extractable ed');
      created.push(key.ref, edKey.ref);
      await subject.assertNotExtractable(key.ref, key.publicKey);
      await subject.assertNotExtractable(edKey.ref, edKey.publicKey);
      const port = ['generateKey', 'publicKey', 'sign', 'destroyKey', 'close'];
      for (const name of Object.getOwnPropertyNames(Object.getPrototypeOf(custody))) {
        if (name === 'constructor' || port.includes(name)) continue;
        // anything else on the adapter must not be a key export
        expect(name).not.toMatch(/export|private|secret|unwrap/i);
      }
    });

    it('refuses an unknown key with KEY_NOT_FOUND', async () => {
      const digest = sha256(Uint8Array.of(9));
      expect(await codeOf(custody.sign(subject.absentRef, { algorithm: 'secp256k1', digest }))).toBe('KEY_NOT_FOUND');
      expect(await codeOf(custody.sign('../../etc/passwd', { algorithm: 'secp256k1', digest }))).toBe('KEY_NOT_FOUND');
      expect(await codeOf(custody.publicKey(subject.absentRef, 'ed25519'))).toBe('KEY_NOT_FOUND');
    });

    it('refuses to use a key under the wrong algorithm with KEY_ALGORITHM_MISMATCH', async () => {
      const secp = await custody.generateKey('secp256k1', 'contract wrong alg secp');
      const ed = await custody.generateKey('ed25519', 'contract wrong alg ed');
      created.push(secp.ref, ed.ref);
      expect(await codeOf(custody.sign(secp.ref, { algorithm: 'ed25519', message: Uint8Array.of(1) }))).toBe('KEY_ALGORITHM_MISMATCH');
      expect(await codeOf(custody.sign(ed.ref, { algorithm: 'secp256k1', digest: sha256(Uint8Array.of(1)) }))).toBe('KEY_ALGORITHM_MISMATCH');
      expect(await codeOf(custody.publicKey(ed.ref, 'secp256k1'))).toBe('KEY_ALGORITHM_MISMATCH');
    });

    it('rejects a digest that is not 32 bytes before it reaches the key', async () => {
      const key = await custody.generateKey('secp256k1', 'contract digest length');
      created.push(key.ref);
      const code = await codeOf(custody.sign(key.ref, { algorithm: 'secp256k1', digest: new Uint8Array(31) }));
      expect(code).toBe('INVALID_LENGTH');
    });

    it('destroys a key: afterwards it is not found', async () => {
      const key = await custody.generateKey('ed25519', 'contract destroy');
      await custody.destroyKey(key.ref);
      expect(await codeOf(custody.sign(key.ref, { algorithm: 'ed25519', message: Uint8Array.of(1) }))).toBe('KEY_NOT_FOUND');
      expect(await codeOf(custody.destroyKey(key.ref))).toBe('KEY_NOT_FOUND');
    });
  });
}
