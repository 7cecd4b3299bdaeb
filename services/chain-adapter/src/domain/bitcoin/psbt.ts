// Bitcoin withdrawals (UTXO model): coin selection with change back to our own address,
// fee from a fee rate (sat/vB) input, opt-in RBF, a PSBT (BIP-174) handed to the signer, and
// finalisation of the signed PSBT with a check that it still pays exactly what was approved.
// Built on @scure/btc-signer (audited, no framework).
import { Address, NETWORK, OutScript, TEST_NETWORK, Transaction } from '@scure/btc-signer';
import { ChainAdapterError } from '../errors.js';

export type BtcNetwork = 'mainnet' | 'testnet' | 'regtest';
export type SpendType = 'p2wpkh' | 'p2tr';

export interface Utxo {
  readonly txid: string;
  readonly vout: number;
  readonly amount: bigint;
  /** The output script of the UTXO (witness_utxo.script). */
  readonly script: Uint8Array;
  readonly type: SpendType;
  /** x-only internal key for a key-path Taproot spend (32 bytes). */
  readonly tapInternalKey?: Uint8Array;
}

export interface BtcWithdrawal {
  readonly network: BtcNetwork;
  readonly utxos: readonly Utxo[];
  readonly destination: string;
  readonly amount: bigint;
  /** Our own change address (never the destination). */
  readonly changeAddress: string;
  /** sat/vB, from the fee estimator, already capped by policy. */
  readonly feeRate: bigint;
  /** Absolute fee ceiling in sat. */
  readonly maxFee: bigint;
}

export interface BuiltPsbt {
  readonly psbt: Uint8Array;
  readonly inputs: readonly Utxo[];
  readonly fee: bigint;
  readonly change: bigint;
  readonly vsize: bigint;
}

const RBF_SEQUENCE = 0xfffffffd; // BIP-125 opt-in replaceability
const DUST: Record<SpendType, bigint> = { p2wpkh: 294n, p2tr: 330n };
// Virtual sizes (vB, rounded up): overhead incl. segwit marker, inputs, outputs.
const OVERHEAD_VB = 11n;
const INPUT_VB: Record<SpendType, bigint> = { p2wpkh: 68n, p2tr: 58n };
const OUTPUT_VB: Record<SpendType, bigint> = { p2wpkh: 31n, p2tr: 43n };

export const networkOf = (n: BtcNetwork) => (n === 'mainnet' ? NETWORK : n === 'testnet' ? TEST_NETWORK : { ...TEST_NETWORK, bech32: 'bcrt' });

function outputType(address: string, network: BtcNetwork): SpendType | 'other' {
  const decoded = Address(networkOf(network)).decode(address);
  return decoded.type === 'wpkh' ? 'p2wpkh' : decoded.type === 'tr' ? 'p2tr' : 'other';
}

const outVb = (t: SpendType | 'other'): bigint => (t === 'other' ? 34n : OUTPUT_VB[t]);

/**
 * Largest-first selection until amount + fee is covered; change back to our address when it
 * is above dust, otherwise left to the fee. Refuses a fee above `maxFee`.
 */
export function selectCoins(w: BtcWithdrawal): { inputs: Utxo[]; fee: bigint; change: bigint; vsize: bigint } {
  if (w.amount <= 0n) throw new ChainAdapterError('INVALID_AMOUNT', 'amount must be positive');
  if (w.feeRate < 1n) throw new ChainAdapterError('INVALID_STATE', 'fee rate below 1 sat/vB');
  if (w.changeAddress === w.destination) throw new ChainAdapterError('INVALID_ADDRESS', 'change must go to our own address, not the destination');
  const destType = outputType(w.destination, w.network);
  const changeType = outputType(w.changeAddress, w.network);
  if (changeType === 'other') throw new ChainAdapterError('INVALID_ADDRESS', 'change address must be P2WPKH or P2TR');
  const sorted = [...w.utxos].sort((a, b) => (a.amount > b.amount ? -1 : a.amount < b.amount ? 1 : 0));
  const inputs: Utxo[] = [];
  let total = 0n;
  for (const u of sorted) {
    inputs.push(u);
    total += u.amount;
    const inVb = inputs.reduce((n, i) => n + INPUT_VB[i.type], 0n);
    const withChange = OVERHEAD_VB + inVb + outVb(destType) + OUTPUT_VB[changeType];
    const feeWithChange = withChange * w.feeRate;
    if (total >= w.amount + feeWithChange + DUST[changeType]) {
      return checkFee({ inputs, fee: feeWithChange, change: total - w.amount - feeWithChange, vsize: withChange }, w.maxFee);
    }
    const noChange = OVERHEAD_VB + inVb + outVb(destType);
    if (total >= w.amount + noChange * w.feeRate) {
      return checkFee({ inputs, fee: total - w.amount, change: 0n, vsize: noChange }, w.maxFee);
    }
  }
  throw new ChainAdapterError('INVALID_AMOUNT', `insufficient funds: ${total} sat available for ${w.amount} sat plus fees`);
}

function checkFee<T extends { fee: bigint }>(r: T, maxFee: bigint): T {
  if (r.fee > maxFee) throw new ChainAdapterError('FEE_CAP_EXCEEDED', `fee ${r.fee} sat is above the cap of ${maxFee} sat; the withdrawal waits`);
  return r;
}

/** Unsigned PSBT (v0) with witness UTXOs, RBF sequence, destination output first, then change. */
export function buildWithdrawalPsbt(w: BtcWithdrawal): BuiltPsbt {
  const sel = selectCoins(w);
  const net = networkOf(w.network);
  const tx = new Transaction();
  for (const u of sel.inputs) {
    tx.addInput({
      txid: u.txid,
      index: u.vout,
      sequence: RBF_SEQUENCE,
      witnessUtxo: { script: u.script, amount: u.amount },
      ...(u.type === 'p2tr' && u.tapInternalKey ? { tapInternalKey: u.tapInternalKey } : {}),
    });
  }
  tx.addOutputAddress(w.destination, w.amount, net);
  if (sel.change > 0n) tx.addOutputAddress(w.changeAddress, sel.change, net);
  return { psbt: tx.toPSBT(0), inputs: sel.inputs, fee: sel.fee, change: sel.change, vsize: sel.vsize };
}

/**
 * Signed PSBT from the signer → raw transaction. Refuses it unless it still pays exactly
 * `amount` to `destination` and everything else back to our change address (what is
 * broadcast is what was approved), with the same inputs as built.
 */
export function finaliseSignedPsbt(signed: Uint8Array, expected: { network: BtcNetwork; built: BuiltPsbt; destination: string; amount: bigint; changeAddress: string }): { raw: Uint8Array; txid: string } {
  const tx = Transaction.fromPSBT(signed);
  const built = Transaction.fromPSBT(expected.built.psbt);
  if (tx.inputsLength !== built.inputsLength) throw new ChainAdapterError('SIGNED_TX_MISMATCH', 'the signed PSBT spends other inputs');
  for (let i = 0; i < tx.inputsLength; i++) {
    const a = tx.getInput(i);
    const b = built.getInput(i);
    if (Buffer.compare(Buffer.from(a.txid ?? []), Buffer.from(b.txid ?? [])) !== 0 || a.index !== b.index) throw new ChainAdapterError('SIGNED_TX_MISMATCH', `input ${i} differs from the built PSBT`);
  }
  const net = networkOf(expected.network);
  const want = new Map<string, bigint>([[Buffer.from(OutScript.encode(Address(net).decode(expected.destination))).toString('hex'), expected.amount]]);
  if (expected.built.change > 0n) want.set(Buffer.from(OutScript.encode(Address(net).decode(expected.changeAddress))).toString('hex'), expected.built.change);
  if (tx.outputsLength !== want.size) throw new ChainAdapterError('SIGNED_TX_MISMATCH', 'the signed PSBT has other outputs');
  for (let i = 0; i < tx.outputsLength; i++) {
    const o = tx.getOutput(i);
    const key = Buffer.from(o.script ?? []).toString('hex');
    if (want.get(key) !== o.amount) throw new ChainAdapterError('SIGNED_TX_MISMATCH', `output ${i} is not the approved destination/amount or our change`);
  }
  tx.finalize();
  return { raw: tx.extract(), txid: tx.id };
}
