import { createDecipheriv, randomBytes } from 'node:crypto';
import { describe, expect, it } from '@jest/globals';
import { describeKeyCustodyContract } from '../../../test/contract/key-custody.contract.js';
import { InMemorySealedBlobStore, LocalSealedKeyCustody } from './local-sealed.js';
import { getPublicKey } from '../../domain/crypto/secp256k1.js';
import { ed25519GetPublicKey } from '../../domain/crypto/ed25519.js';

function unsealForTest(masterKey: Uint8Array, blob: { ref: string; algorithm: string; kekId: string; nonce: Uint8Array; ciphertext: Uint8Array }): Buffer {
  const d = createDecipheriv('aes-256-gcm', masterKey, blob.nonce);
  d.setAAD(Buffer.from(`custody.sealed-key.v1\0${blob.ref}\0${blob.algorithm}\0${blob.kekId}`));
  d.setAuthTag(blob.ciphertext.subarray(blob.ciphertext.length - 16));
  return Buffer.concat([d.update(blob.ciphertext.subarray(0, blob.ciphertext.length - 16)), d.final()]);
}

const contains = (haystack: Uint8Array, needle: Uint8Array): boolean => Buffer.from(haystack).indexOf(Buffer.from(needle)) >= 0;

describeKeyCustodyContract('KeyCustody contract: local sealed store (AES-256-GCM at rest)', async () => {
  const masterKey = randomBytes(32);
  const store = new InMemorySealedBlobStore();
  const custody = new LocalSealedKeyCustody({ masterKey, kekId: 'kek-test-1', store });
  return {
    custody,
    absentRef: `lk_${'0'.repeat(32)}`,
    async assertNotExtractable(ref, publicKey) {
      const blob = store.blobs.get(ref);
      if (!blob) throw new Error('no blob');
      // What is stored is the key, sealed: only the master key opens it ...
      const secret = unsealForTest(masterKey, blob);
      const derived = blob.algorithm === 'secp256k1' ? getPublicKey(secret, { compressed: true }) : ed25519GetPublicKey(secret);
      expect(derived).toEqual(publicKey);
      // ... the stored bytes do not contain it ...
      expect(contains(blob.ciphertext, secret)).toBe(false);
      // ... another master key does not open it ...
      expect(() => unsealForTest(randomBytes(32), blob)).toThrow();
      // ... and the blob moved under another ref does not open either (AAD binds the ref).
      expect(() => unsealForTest(masterKey, { ...blob, ref: `lk_${'1'.repeat(32)}` })).toThrow();
      secret.fill(0);
    },
    cleanup: () => custody.close(),
  };
});

describe('C-5.4.1-b (software-KEK part) local sealed store: the stored blobs without the master key yield no key', () => {
  it('a custody opened with another master key cannot sign with the stored blobs', async () => {
    const store = new InMemorySealedBlobStore();
    const a = new LocalSealedKeyCustody({ masterKey: randomBytes(32), kekId: 'kek-a', store });
    const key = await a.generateKey('secp256k1', 'k');
    const thief = new LocalSealedKeyCustody({ masterKey: randomBytes(32), kekId: 'kek-a', store });
    await expect(thief.sign(key.ref, { algorithm: 'secp256k1', digest: new Uint8Array(32).fill(1) })).rejects.toMatchObject({ code: 'KEY_CUSTODY_FAILED' });
    // a tampered blob fails authentication
    const blob = store.blobs.get(key.ref);
    if (!blob) throw new Error('no blob');
    const flipped = new Uint8Array(blob.ciphertext);
    flipped[0] = (flipped[0] as number) ^ 1;
    store.blobs.set(key.ref, { ...blob, ciphertext: flipped });
    await expect(a.sign(key.ref, { algorithm: 'secp256k1', digest: new Uint8Array(32).fill(1) })).rejects.toMatchObject({ code: 'KEY_CUSTODY_FAILED' });
  });

  it('refuses a master key that is not 32 bytes, and refuses use after close', async () => {
    expect(() => new LocalSealedKeyCustody({ masterKey: new Uint8Array(16), kekId: 'k', store: new InMemorySealedBlobStore() })).toThrow(expect.objectContaining({ code: 'KEY_CUSTODY_CONFIG_INVALID' }));
    const c = new LocalSealedKeyCustody({ masterKey: randomBytes(32), kekId: 'k', store: new InMemorySealedBlobStore() });
    await c.close();
    await expect(c.generateKey('ed25519', 'x')).rejects.toMatchObject({ code: 'KEY_CUSTODY_FAILED' });
  });
});
