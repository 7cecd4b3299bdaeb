/**
 * Bitcoin native multisig across custodies (C-9.3.7.5-a, signing part): a P2WSH M-of-N
 * script whose N keys live in different KeyCustody adapters (e.g. local sealed, HSM, Vault);
 * each custody adds its BIP-143 partial signature to the PSBT; the PSBT finalises only with
 * M valid signatures. @scure/btc-signer builds the script, computes the BIP-143 sighash and
 * finalises; the private keys never leave their custody (we pass digests in, get low-S
 * signatures back, DER-encode them).
 *
 * NOT here yet: the "what is signed is what was approved" check for Bitcoin (decode the
 * PSBT's outputs against the decision token, change only to our own addresses, fee cap) and
 * its wiring into the tx.prepared flow. This module is the custody half only.
 */
import * as btc from '@scure/btc-signer';
import { secp256k1 } from '@noble/curves/secp256k1.js';
import { equalBytes } from '../domain/crypto/bytes.js';
import { SignerError } from '../domain/errors.js';
import type { KeyCustody } from './key-custody.js';

export function p2wshMultisig(m: number, publicKeys: readonly Uint8Array[], network: typeof btc.NETWORK = btc.TEST_NETWORK) {
  if (!Number.isSafeInteger(m) || m < 1 || m > publicKeys.length || publicKeys.length > 15) throw new SignerError('INVALID_TRANSITION', 'multisig needs 1 <= M <= N <= 15');
  const payment = btc.p2wsh(btc.p2ms(m, [...publicKeys]), network);
  if (!payment.witnessScript || !payment.address) throw new SignerError('INVALID_TRANSITION', 'could not build the P2WSH script');
  return { script: payment.script, witnessScript: payment.witnessScript, address: payment.address };
}

/** Adds this custody key's SIGHASH_ALL partial signature to every P2WSH input whose script names it. */
export async function signPsbtWithCustody(psbt: Uint8Array, custody: KeyCustody, ref: string, publicKey: Uint8Array): Promise<Uint8Array> {
  const tx = btc.Transaction.fromPSBT(psbt);
  let signed = 0;
  for (let idx = 0; idx < tx.inputsLength; idx++) {
    const input = tx.getInput(idx);
    const witnessScript = input.witnessScript;
    const utxo = input.witnessUtxo;
    if (!witnessScript || !utxo) continue;
    const decoded = btc.Script.decode(witnessScript);
    if (!decoded.some((item) => item instanceof Uint8Array && equalBytes(item, publicKey))) continue;
    const digest = tx.preimageWitnessV0(idx, witnessScript, btc.SigHash.ALL, utxo.amount);
    const result = await custody.sign(ref, { algorithm: 'secp256k1', digest });
    if (result.algorithm !== 'secp256k1') throw new SignerError('KEY_ALGORITHM_MISMATCH', 'custody returned a non-ECDSA signature');
    const der = new secp256k1.Signature(result.signature.r, result.signature.s).toBytes('der');
    const withType = new Uint8Array(der.length + 1);
    withType.set(der);
    withType[der.length] = btc.SigHash.ALL;
    tx.updateInput(idx, { partialSig: [[publicKey, withType]] }, true);
    signed++;
  }
  if (signed === 0) throw new SignerError('KEY_NOT_FOUND', 'no input of this PSBT is locked to this key');
  return tx.toPSBT();
}

/** Finalises (needs M valid partial signatures per input) and returns the raw transaction. */
export function finalizePsbt(psbt: Uint8Array): Uint8Array {
  const tx = btc.Transaction.fromPSBT(psbt);
  tx.finalize();
  return tx.extract();
}
