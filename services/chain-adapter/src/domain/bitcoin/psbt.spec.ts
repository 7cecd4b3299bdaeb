// PSBT withdrawals: built by us (scure), signed by a stand-in signer, finalised by us, then
// parsed and signature-checked by an independent library (bitcoinjs-lib).
import { describe, expect, it } from '@jest/globals';
import { schnorr, secp256k1 } from '@noble/curves/secp256k1.js';
import { p2tr, p2wpkh, Transaction } from '@scure/btc-signer';
import * as bitcoin from 'bitcoinjs-lib';
import { buildWithdrawalPsbt, finaliseSignedPsbt, networkOf, selectCoins, type BtcWithdrawal, type Utxo } from './psbt.js';

const net = networkOf('regtest');
const key = Uint8Array.from(Buffer.alloc(32, 0x11));
const trKey = Uint8Array.from(Buffer.alloc(32, 0x22));
const wallet = p2wpkh(secp256k1.getPublicKey(key, true), net);
const trWallet = p2tr(schnorr.getPublicKey(trKey), undefined, net);
const change = p2wpkh(secp256k1.getPublicKey(Uint8Array.from(Buffer.alloc(32, 0x33)), true), net);
const destination = p2wpkh(secp256k1.getPublicKey(Uint8Array.from(Buffer.alloc(32, 0x44)), true), net);
const txid = (n: number): string => Buffer.alloc(32, n).toString('hex');

const utxos: Utxo[] = [
  { txid: txid(1), vout: 0, amount: 40_000n, script: wallet.script, type: 'p2wpkh' },
  { txid: txid(2), vout: 1, amount: 150_000n, script: wallet.script, type: 'p2wpkh' },
  { txid: txid(3), vout: 0, amount: 90_000n, script: trWallet.script, type: 'p2tr', tapInternalKey: trWallet.tapInternalKey },
];
const request: BtcWithdrawal = { network: 'regtest', utxos, destination: destination.address ?? '', amount: 200_000n, changeAddress: change.address ?? '', feeRate: 5n, maxFee: 10_000n };

/** Stand-in signer: signs every input it holds a key for. */
function sign(psbt: Uint8Array): Uint8Array {
  const tx = Transaction.fromPSBT(psbt);
  tx.sign(key);
  tx.sign(trKey);
  return tx.toPSBT(0);
}

describe('Bitcoin PSBT withdrawal: selection, change to our address, RBF, signer hand-off, finalisation', () => {
  it('selects largest first, pays change back to our own address, fee = vsize × rate under the cap', () => {
    const sel = selectCoins(request);
    expect(sel.inputs.map((u) => u.txid)).toEqual([txid(2), txid(3)]);
    expect(sel.fee).toBe(sel.vsize * 5n);
    expect(sel.change).toBe(150_000n + 90_000n - 200_000n - sel.fee);
    expect(() => selectCoins({ ...request, maxFee: 100n })).toThrow(expect.objectContaining({ code: 'FEE_CAP_EXCEEDED' }));
    expect(() => selectCoins({ ...request, amount: 10_000_000n })).toThrow(expect.objectContaining({ code: 'INVALID_AMOUNT' }));
    expect(() => selectCoins({ ...request, changeAddress: request.destination })).toThrow(expect.objectContaining({ code: 'INVALID_ADDRESS' }));
  });

  it('signed and finalised, bitcoinjs-lib parses it, validates every signature and sees the approved outputs', () => {
    const built = buildWithdrawalPsbt(request);
    const signed = sign(built.psbt);
    const { raw, txid: id } = finaliseSignedPsbt(signed, { network: 'regtest', built, destination: request.destination, amount: request.amount, changeAddress: request.changeAddress });

    const parsed = bitcoin.Transaction.fromBuffer(raw);
    expect(parsed.getId()).toBe(id);
    expect(parsed.ins.every((i) => i.sequence === 0xfffffffd)).toBe(true); // BIP-125 replaceable
    const bjsNet = { ...bitcoin.networks.regtest };
    expect(parsed.outs.map((o) => [bitcoin.address.fromOutputScript(o.script, bjsNet), o.value])).toEqual([
      [request.destination, request.amount],
      [request.changeAddress, built.change],
    ]);
    // Every witness checked over the sighash bitcoinjs-lib computes for the final transaction.
    const spent = built.inputs;
    const scripts = spent.map((u) => u.script);
    const values = spent.map((u) => u.amount);
    parsed.ins.forEach((input, i) => {
      const u = spent[i];
      if (u?.type === 'p2wpkh') {
        const [sig, pub] = input.witness;
        const scriptCode = bitcoin.payments.p2pkh({ pubkey: pub }).output as Uint8Array;
        const digest = parsed.hashForWitnessV0(i, scriptCode, u.amount, bitcoin.Transaction.SIGHASH_ALL);
        expect(sig?.[sig.length - 1]).toBe(bitcoin.Transaction.SIGHASH_ALL);
        expect(secp256k1.verify(sig?.subarray(0, -1) ?? new Uint8Array(), digest, pub ?? new Uint8Array(), { prehash: false, format: 'der' })).toBe(true);
      } else {
        const [sig] = input.witness;
        expect(sig).toHaveLength(64); // SIGHASH_DEFAULT
        const digest = parsed.hashForWitnessV1(i, scripts, values, bitcoin.Transaction.SIGHASH_DEFAULT);
        expect(schnorr.verify(sig ?? new Uint8Array(), digest, u?.script.subarray(2) ?? new Uint8Array())).toBe(true);
      }
    });
    const inputsTotal = 150_000n + 90_000n;
    expect(inputsTotal - parsed.outs.reduce((s, o) => s + BigInt(o.value), 0n)).toBe(built.fee);
  });

  it('a signed PSBT that pays another amount or drops the change is refused', () => {
    const built = buildWithdrawalPsbt(request);
    const tampered = Transaction.fromPSBT(built.psbt);
    tampered.updateOutput(0, { amount: request.amount + 1_000n });
    const signedTampered = sign(tampered.toPSBT(0));
    expect(() => finaliseSignedPsbt(signedTampered, { network: 'regtest', built, destination: request.destination, amount: request.amount, changeAddress: request.changeAddress })).toThrow(
      expect.objectContaining({ code: 'SIGNED_TX_MISMATCH' }),
    );
  });
});
