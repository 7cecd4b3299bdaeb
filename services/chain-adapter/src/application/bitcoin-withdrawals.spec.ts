// checkSignedRaw: the signer's finalised raw transaction is accepted only for exactly the
// prepared PSBT (inputs, outputs, witnesses, announced txid).
import { describe, expect, it } from '@jest/globals';
import { secp256k1 } from '@noble/curves/secp256k1.js';
import { OutScript, Transaction, p2wpkh } from '@scure/btc-signer';
import { buildWithdrawalPsbt, networkOf } from '../domain/bitcoin/psbt.js';
import { checkSignedRaw } from './bitcoin-withdrawals.js';

const net = networkOf('regtest');
const secret = secp256k1.utils.randomSecretKey();
const ours = p2wpkh(secp256k1.getPublicKey(secret, true), net);
const destination = p2wpkh(secp256k1.getPublicKey(secp256k1.utils.randomSecretKey(), true), net).address ?? '';
const script = OutScript.encode({ type: 'wpkh', hash: ours.hash });
const utxo = (n: number, amount: bigint) => ({ txid: n.toString(16).padStart(2, '0').repeat(32), vout: n, amount, script, type: 'p2wpkh' as const });

const built = buildWithdrawalPsbt({ network: 'regtest', utxos: [utxo(1, 100_000n), utxo(2, 50_000n)], destination, amount: 60_000n, changeAddress: ours.address ?? '', feeRate: 2n, maxFee: 10_000n });

function signedRaw(psbt: Uint8Array): { raw: Uint8Array; id: string } {
  const tx = Transaction.fromPSBT(psbt);
  tx.sign(secret);
  tx.finalize();
  return { raw: tx.extract(), id: tx.id };
}

describe('checkSignedRaw (what is stored as SIGNED is what was prepared)', () => {
  it('accepts the signed prepared PSBT and returns its txid', () => {
    const { raw, id } = signedRaw(built.psbt);
    expect(checkSignedRaw(raw, built.psbt, id)).toEqual({ ok: true, txid: id });
  });

  it('refuses an extra output, a changed amount, another input, a wrong txid, a missing witness and garbage', () => {
    const extra = Transaction.fromPSBT(built.psbt);
    extra.addOutputAddress(destination, 200n, net);
    expect(checkSignedRaw(signedRaw(extra.toPSBT(0)).raw, built.psbt, '')).toMatchObject({ ok: false, reason: 'NOT_PREPARED' });

    const other = buildWithdrawalPsbt({ network: 'regtest', utxos: [utxo(3, 100_000n)], destination, amount: 60_000n, changeAddress: ours.address ?? '', feeRate: 2n, maxFee: 10_000n });
    expect(checkSignedRaw(signedRaw(other.psbt).raw, built.psbt, '')).toMatchObject({ ok: false, reason: 'NOT_PREPARED' });

    const more = buildWithdrawalPsbt({ network: 'regtest', utxos: [utxo(1, 100_000n), utxo(2, 50_000n)], destination, amount: 60_001n, changeAddress: ours.address ?? '', feeRate: 2n, maxFee: 10_000n });
    expect(checkSignedRaw(signedRaw(more.psbt).raw, built.psbt, '')).toMatchObject({ ok: false, reason: 'NOT_PREPARED' });

    expect(checkSignedRaw(signedRaw(built.psbt).raw, built.psbt, 'ab'.repeat(32))).toMatchObject({ ok: false, reason: 'HASH_MISMATCH' });

    const unsigned = Transaction.fromPSBT(built.psbt).unsignedTx;
    expect(checkSignedRaw(unsigned, built.psbt, '')).toMatchObject({ ok: false, reason: 'NOT_SIGNED' });

    expect(checkSignedRaw(new Uint8Array([1, 2, 3]), built.psbt, '')).toMatchObject({ ok: false, reason: 'UNDECODABLE' });
  });
});
