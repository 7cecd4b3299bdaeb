// 2-of-3 P2WSH multisig whose three keys live in three different custodies — the local
// sealed store, the SoftHSM2 token (PKCS#11) and a real OpenBao server — checked
// independently with bitcoinjs-lib (its own BIP-143 sighash code) and @noble verification.
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { secp256k1 } from '@noble/curves/secp256k1.js';
import * as btc from '@scure/btc-signer';
import * as bitcoin from 'bitcoinjs-lib';
import type { KeyCustody } from '../../src/application/key-custody.js';
import { finalizePsbt, p2wshMultisig, signPsbtWithCustody } from '../../src/application/psbt-multisig.js';
import { InMemorySealedBlobStore, LocalSealedKeyCustody } from '../../src/adapters/custody/local-sealed.js';
import { Pkcs11KeyCustody } from '../../src/adapters/custody/pkcs11.js';
import { VaultKeyCustody } from '../../src/adapters/custody/vault.js';
import { startBao } from './bao.js';
import { pkcs11Options } from './support.js';

let bao: Awaited<ReturnType<typeof startBao>>;
const custodies: Array<{ name: string; custody: KeyCustody; ref: string; publicKey: Uint8Array }> = [];

beforeAll(async () => {
  bao = await startBao();
  const local = new LocalSealedKeyCustody({ masterKey: randomBytes(32), kekId: 'ms', store: new InMemorySealedBlobStore() });
  const hsm = await Pkcs11KeyCustody.open(pkcs11Options());
  const vault = await VaultKeyCustody.open({ address: bao.address, token: bao.token, store: new InMemorySealedBlobStore() });
  for (const [name, custody] of [['local-sealed', local], ['pkcs11', hsm], ['vault', vault]] as const) {
    const key = await custody.generateKey('secp256k1', `multisig ${name}`);
    custodies.push({ name, custody, ref: key.ref, publicKey: key.publicKey });
  }
}, 60_000);

afterAll(async () => {
  for (const c of custodies) {
    await c.custody.destroyKey(c.ref).catch(() => undefined);
    await c.custody.close();
  }
  await bao?.stop();
});

function unsignedPsbt(): { psbt: Uint8Array; witnessScript: Uint8Array } {
  const ms = p2wshMultisig(2, custodies.map((c) => c.publicKey));
  const tx = new btc.Transaction();
  tx.addInput({ txid: randomBytes(32), index: 0, witnessUtxo: { script: ms.script, amount: 100_000n }, witnessScript: ms.witnessScript });
  tx.addOutputAddress(ms.address, 90_000n, btc.TEST_NETWORK);
  return { psbt: tx.toPSBT(), witnessScript: ms.witnessScript };
}

describe('C-9.3.7.5-a 2-of-3 native multisig with keys in three distinct custodies (local sealed, SoftHSM2, OpenBao)', () => {
  it('any 2 custodies produce a PSBT that finalises; bitcoinjs-lib validates every partial signature with its own sighash', async () => {
    for (const pair of [[0, 1], [1, 2], [0, 2]] as const) {
      let psbt = unsignedPsbt().psbt;
      for (const i of pair) {
        const c = custodies[i];
        if (!c) throw new Error('custody');
        psbt = await signPsbtWithCustody(psbt, c.custody, c.ref, c.publicKey);
      }
      const independent = bitcoin.Psbt.fromBuffer(Buffer.from(psbt), { network: bitcoin.networks.testnet });
      const valid = independent.validateSignaturesOfInput(0, (pubkey, msghash, signature) => secp256k1.verify(signature, msghash, pubkey, { prehash: false, lowS: true, format: 'compact' }));
      expect(valid).toBe(true);
      expect(independent.data.inputs[0]?.partialSig).toHaveLength(2);
      const raw = finalizePsbt(psbt);
      const parsed = bitcoin.Transaction.fromBuffer(Buffer.from(raw));
      expect(parsed.ins[0]?.witness).toHaveLength(4); // OP_0 dummy, 2 signatures, witness script
    }
  });

  it('one key is not enough: a PSBT with a single partial signature does not finalise', async () => {
    const c = custodies[1];
    if (!c) throw new Error('custody');
    const once = await signPsbtWithCustody(unsignedPsbt().psbt, c.custody, c.ref, c.publicKey);
    expect(() => finalizePsbt(once)).toThrow();
  });

  it('a key outside the script signs nothing', async () => {
    const outsider = custodies[0];
    if (!outsider) throw new Error('custody');
    const stranger = await outsider.custody.generateKey('secp256k1', 'stranger');
    await expect(signPsbtWithCustody(unsignedPsbt().psbt, outsider.custody, stranger.ref, stranger.publicKey)).rejects.toMatchObject({ code: 'KEY_NOT_FOUND' });
    await outsider.custody.destroyKey(stranger.ref);
  });
});
