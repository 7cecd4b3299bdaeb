/**
 * "What is signed is what was approved" for Bitcoin (C-8.2.2.5-a (2)): the twin of
 * evm-intent.ts. The signer decodes the chain-adapter's unsigned PSBT (BIP-174, v0 or v2)
 * itself and signs only if
 *   - every input is a P2WPKH output of ONE key (witnessUtxo required; a bip32Derivation,
 *     if present, names that key), not yet signed, SIGHASH_ALL only;
 *   - exactly one output pays the approved destination, with exactly the approved amount;
 *   - every other output is change to our own address: the spending wallet's own P2WPKH
 *     script, or a P2WPKH key derived from the asset's configured change xpub under the
 *     change branch (`<xpub>/1/i`, as the output's bip32Derivation declares and we re-derive);
 *   - fee = Σ inputs − Σ outputs ≤ the fee cap (min of the request's and the profile's).
 * `checkBitcoinPsbt` needs no key (runs before the single-use reservation);
 * `checkBitcoinInputsOwned` binds the inputs to the wallet's registered key (under the key
 * row lock). Signing: BIP-143 digests out, custody low-S ECDSA signatures in, verified
 * against the key, finalised to a raw segwit transaction. Taproot (P2TR key path) is NOT
 * accepted: a key-path spend needs the BIP-341-tweaked secret and the custody port has no
 * BIP-340/tweak operation. Pure; details name fields and indexes, never key material.
 */
import * as btc from '@scure/btc-signer';
import { HDKey } from '@scure/bip32';
import { secp256k1 } from '@noble/curves/secp256k1.js';
import { ripemd160 } from '@noble/hashes/legacy.js';
import { sha256 } from '@noble/hashes/sha2.js';
import { equalBytes } from './crypto/bytes.js';
import { verifyDigest, type EcdsaSignature } from './crypto/secp256k1.js';
import { refusal, type Refusal } from './refusal.js';

export type BitcoinNetworkName = 'mainnet' | 'testnet' | 'regtest';

export function bitcoinNetwork(name: BitcoinNetworkName): typeof btc.NETWORK {
  return name === 'mainnet' ? btc.NETWORK : name === 'testnet' ? btc.TEST_NETWORK : { ...btc.TEST_NETWORK, bech32: 'bcrt' };
}

export interface BitcoinIntent {
  readonly network: BitcoinNetworkName;
  /** Approved destination address (as in the decision token). */
  readonly destination: string;
  /** Approved amount in satoshis. */
  readonly amount: bigint;
  /** Fee cap in satoshis: min(asset profile cap, the request's fee cap). */
  readonly feeCap: bigint;
  /** Account-level xpub/tpub whose `/1/i` keys are our change addresses (optional). */
  readonly changeXpub?: string;
}

export interface CheckedBitcoinTx {
  /** The PSBT as received (re-parsed for signing). */
  readonly psbt: Uint8Array;
  /** HASH160 of the one key all inputs are locked to (P2WPKH program). */
  readonly inputKeyHash: Uint8Array;
  readonly inputAmounts: readonly bigint[];
  readonly fee: bigint;
  readonly destinationOutput: number;
  readonly changeOutputs: readonly number[];
}

type Checked = { ok: true; tx: CheckedBitcoinTx } | { ok: false; refusal: Refusal };

const fail = (code: Refusal['code'], detail: string): Checked => ({ ok: false, refusal: refusal(code, detail) });

export const hash160 = (bytes: Uint8Array): Uint8Array => ripemd160(sha256(bytes));

function wpkhHash(script: Uint8Array): Uint8Array | undefined {
  try {
    const decoded = btc.OutScript.decode(script);
    return decoded.type === 'wpkh' ? decoded.hash : undefined;
  } catch {
    return undefined;
  }
}

const p2wpkhScript = (keyHash: Uint8Array): Uint8Array => btc.OutScript.encode({ type: 'wpkh', hash: keyHash });

const TPUB_VERSIONS = { private: 0x04358394, public: 0x043587cf };

function changeKeyFromXpub(xpub: string, derivation: readonly (readonly [Uint8Array, { fingerprint: number; path: number[] }])[] | undefined, script: Uint8Array): boolean {
  if (!derivation || derivation.length !== 1) return false;
  const [pubkey, { path }] = derivation[0] ?? [new Uint8Array(0), { path: [] }];
  if (path.length < 2) return false;
  const branch = path[path.length - 2];
  const index = path[path.length - 1];
  if (branch !== 1 || index === undefined || index < 0 || index >= 0x80000000) return false;
  let derived: Uint8Array | null;
  try {
    const account = HDKey.fromExtendedKey(xpub, xpub.startsWith('tpub') ? TPUB_VERSIONS : undefined);
    if (account.privateKey) return false; // never an xprv
    derived = account.deriveChild(1).deriveChild(index).publicKey;
  } catch {
    return false;
  }
  if (!derived || !equalBytes(derived, pubkey)) return false;
  const hash = wpkhHash(script);
  return hash !== undefined && equalBytes(hash, hash160(derived));
}

/** Everything that needs no key: parse, inputs are one P2WPKH key, outputs = intent + own change, fee ≤ cap. */
export function checkBitcoinPsbt(psbt: Uint8Array, intent: BitcoinIntent): Checked {
  let tx: btc.Transaction;
  try {
    tx = btc.Transaction.fromPSBT(psbt);
  } catch {
    return fail('TX_MALFORMED', 'the unsigned transaction is not a valid PSBT');
  }
  if (tx.inputsLength < 1 || tx.outputsLength < 1) return fail('TX_MALFORMED', 'the PSBT needs at least one input and one output');

  let inputKeyHash: Uint8Array | undefined;
  const inputAmounts: bigint[] = [];
  for (let i = 0; i < tx.inputsLength; i++) {
    const input = tx.getInput(i);
    if (input.partialSig?.length || input.finalScriptWitness?.length || input.finalScriptSig?.length || input.tapKeySig || input.tapScriptSig?.length) {
      return fail('TX_MALFORMED', `input ${i} is already signed`);
    }
    if (input.sighashType !== undefined && input.sighashType !== btc.SigHash.ALL) return fail('TX_MALFORMED', `input ${i} asks for a sighash type other than SIGHASH_ALL`);
    const utxo = input.witnessUtxo;
    if (!utxo) return fail('TX_MALFORMED', `input ${i} has no witnessUtxo`);
    if (input.redeemScript || input.witnessScript || input.tapInternalKey || input.tapLeafScript?.length || input.tapMerkleRoot) {
      return fail('TX_INPUT_NOT_OURS', `input ${i} is not a plain P2WPKH spend`);
    }
    const hash = wpkhHash(utxo.script);
    if (!hash) return fail('TX_INPUT_NOT_OURS', `input ${i} spends a non-P2WPKH output (only P2WPKH is signed)`);
    if (inputKeyHash === undefined) inputKeyHash = hash;
    else if (!equalBytes(inputKeyHash, hash)) return fail('TX_INPUT_NOT_OURS', `input ${i} is locked to another key than input 0`);
    for (const [pubkey] of input.bip32Derivation ?? []) {
      if (!equalBytes(hash160(pubkey), hash)) return fail('TX_INPUT_NOT_OURS', `input ${i} bip32Derivation names a key that does not lock it`);
    }
    if (utxo.amount <= 0n) return fail('TX_MALFORMED', `input ${i} has no value`);
    inputAmounts.push(utxo.amount);
  }
  if (inputKeyHash === undefined) return fail('TX_MALFORMED', 'the PSBT has no inputs');

  let destinationScript: Uint8Array;
  try {
    destinationScript = btc.OutScript.encode(btc.Address(bitcoinNetwork(intent.network)).decode(intent.destination));
  } catch {
    return fail('TX_DESTINATION_MISMATCH', `the approved destination is not a ${intent.network} address`);
  }

  const ownScript = p2wpkhScript(inputKeyHash);
  const toDestination: number[] = [];
  const change: number[] = [];
  const foreign: Refusal[] = [];
  let outputsTotal = 0n;
  for (let i = 0; i < tx.outputsLength; i++) {
    const output = tx.getOutput(i);
    if (!output.script || output.amount === undefined) return fail('TX_MALFORMED', `output ${i} lacks a script or an amount`);
    outputsTotal += output.amount;
    if (equalBytes(output.script, destinationScript)) {
      toDestination.push(i);
      continue;
    }
    const ours = equalBytes(output.script, ownScript) || (intent.changeXpub !== undefined && changeKeyFromXpub(intent.changeXpub, output.bip32Derivation, output.script));
    if (!ours) foreign.push(refusal('TX_EXTRA_OUTPUT', `output ${i} pays neither the approved destination nor an address of ours`));
    else if (output.amount <= 0n) foreign.push(refusal('TX_EXTRA_OUTPUT', `change output ${i} has no value`));
    else change.push(i);
  }
  const destinationOutput = toDestination[0];
  // A missing destination is the more precise reason (the approved payee was swapped).
  if (destinationOutput === undefined) return fail('TX_DESTINATION_MISMATCH', 'no output pays the approved destination');
  const firstForeign = foreign[0];
  if (firstForeign) return { ok: false, refusal: firstForeign };
  if (toDestination.length > 1) return fail('TX_EXTRA_OUTPUT', `${toDestination.length} outputs pay the approved destination; exactly one may`);
  const paid = tx.getOutput(destinationOutput).amount;
  if (paid !== intent.amount) return fail('TX_AMOUNT_MISMATCH', `output ${destinationOutput} pays ${paid} sat, the approved amount is ${intent.amount}`);

  const inputsTotal = inputAmounts.reduce((a, b) => a + b, 0n);
  const fee = inputsTotal - outputsTotal;
  if (fee < 0n) return fail('TX_MALFORMED', 'outputs exceed inputs');
  if (fee > intent.feeCap) return fail('TX_FEE_ABOVE_CAP', `fee ${fee} sat exceeds the cap ${intent.feeCap}`);
  return { ok: true, tx: { psbt, inputKeyHash, inputAmounts, fee, destinationOutput, changeOutputs: change } };
}

/** The inputs (and with them the "own address" change) must be the wallet's registered key. */
export function checkBitcoinInputsOwned(checked: CheckedBitcoinTx, walletPublicKey: Uint8Array): Refusal | undefined {
  if (walletPublicKey.length !== 33 || !equalBytes(hash160(walletPublicKey), checked.inputKeyHash)) {
    return refusal('TX_INPUT_NOT_OURS', 'the inputs are not locked to the source wallet key');
  }
  return undefined;
}

/** BIP-143 SIGHASH_ALL digests, one per input (P2WPKH scriptCode = P2PKH of the key hash). */
export function bitcoinSigningDigests(checked: CheckedBitcoinTx): Uint8Array[] {
  const tx = btc.Transaction.fromPSBT(checked.psbt);
  const scriptCode = btc.OutScript.encode({ type: 'pkh', hash: checked.inputKeyHash });
  return checked.inputAmounts.map((amount, i) => tx.preimageWitnessV0(i, scriptCode, btc.SigHash.ALL, amount));
}

export interface SignedBitcoinTx {
  /** Finalised, broadcastable segwit transaction. */
  readonly raw: Uint8Array;
  /** txid in the usual (reversed, display) hex order. */
  readonly txid: string;
}

/**
 * Adds one low-S signature per input (each verified against the wallet key over its digest;
 * `undefined` if any does not verify), finalises and extracts the raw transaction.
 */
export function finalizeSignedBitcoin(checked: CheckedBitcoinTx, walletPublicKey: Uint8Array, signatures: readonly EcdsaSignature[]): SignedBitcoinTx | undefined {
  const digests = bitcoinSigningDigests(checked);
  if (signatures.length !== digests.length) return undefined;
  const tx = btc.Transaction.fromPSBT(checked.psbt);
  for (const [i, signature] of signatures.entries()) {
    const digest = digests[i];
    if (!digest || !verifyDigest(signature, digest, walletPublicKey)) return undefined;
    const der = new secp256k1.Signature(signature.r, signature.s).toBytes('der');
    const withType = new Uint8Array(der.length + 1);
    withType.set(der);
    withType[der.length] = btc.SigHash.ALL;
    tx.updateInput(i, { partialSig: [[walletPublicKey, withType]] }, true);
  }
  tx.finalize();
  return { raw: tx.extract(), txid: tx.id };
}
