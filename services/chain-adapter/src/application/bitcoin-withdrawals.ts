// Bitcoin withdrawals (UTXO model) in the service flow: policy.decided ALLOW for a Bitcoin
// asset → coin selection from the wallet's unreserved outputs (UtxoSource), a PSBT with
// change back to the wallet's own P2WPKH address (domain/bitcoin/psbt.ts), the chosen outputs
// reserved, the withdrawal recorded and tx.prepared emitted — one transaction (inbox + outbox).
// tx.signed (the signer's FINALISED raw transaction): accepted only if it spends exactly the
// reserved outputs and pays exactly the prepared outputs → SIGNED. Broadcasting needs a node
// (BitcoinBroadcaster, not implemented): the withdrawal stays SIGNED. A signer refusal of a
// PREPARED withdrawal → FAILED, its outputs released, tx.status FAILED.
import { Address, OutScript, Transaction } from '@scure/btc-signer';
import { KeyTransition, PolicyDecision, TxPrepared, TxState, TxStatus, timestampFromDate, type KeyLifecycle, type PolicyDecided, type TxSigned, type TxSigningRefused } from '@custody/contracts';
import type { BitcoinAssetProfile } from '../domain/assets.js';
import { buildWithdrawalPsbt, networkOf, type Utxo } from '../domain/bitcoin/psbt.js';
import { ChainAdapterError } from '../domain/errors.js';
import { refusalFor } from '../domain/wallet-registry.js';
import type { Clock, UtxoSource } from './ports.js';
import type { StoreScope } from './store.js';
import { WalletRegistry } from './wallets.js';

export type BtcWithdrawalState = 'PREPARED' | 'SIGNED' | 'FAILED';

export interface BtcWithdrawalRow {
  readonly withdrawalId: string;
  readonly decisionId: string;
  readonly chain: string;
  readonly asset: string;
  readonly walletId: string;
  /** Our P2WPKH address (inputs and change). */
  readonly address: string;
  readonly destination: string;
  readonly amount: bigint;
  readonly fee: bigint;
  readonly change: bigint;
  /** The unsigned PSBT sent as tx.prepared unsigned_tx. */
  readonly psbt: Uint8Array;
  readonly signedTx: Uint8Array | null;
  readonly txid: string | null;
  readonly state: BtcWithdrawalState;
  readonly reasonCode: string;
  readonly correlationId: string;
  readonly updatedAt: Date;
}

/** The Bitcoin part of a transaction's scope (adapters/persistence/bitcoin-store.ts). */
export interface BitcoinScope extends UtxoSource {
  withdrawal(withdrawalId: string, lock?: boolean): Promise<BtcWithdrawalRow | undefined>;
  insertWithdrawal(w: BtcWithdrawalRow): Promise<boolean>;
  updateWithdrawal(withdrawalId: string, patch: { state: BtcWithdrawalState; reasonCode?: string; signedTx?: Uint8Array; txid?: string; updatedAt: Date }): Promise<void>;
}

export interface BitcoinHooks {
  onRefusedSignature?(reason: string): void;
  onReleased?(reasonCode: string, outputs: number): void;
}

const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex');

/**
 * The signer's finalised raw transaction against the prepared PSBT (the checks of
 * finaliseSignedPsbt, for a transaction the signer already finalised): same inputs in the
 * same order, the same outputs (script and amount) in the same order, a witness on every
 * input, and the announced txid. Returns the txid or the reason it is refused.
 */
export function checkSignedRaw(raw: Uint8Array, psbt: Uint8Array, announcedTxid: string): { ok: true; txid: string } | { ok: false; reason: string; detail: string } {
  let signed: Transaction;
  try {
    signed = Transaction.fromRaw(raw);
  } catch (err) {
    return { ok: false, reason: 'UNDECODABLE', detail: err instanceof Error ? err.message : 'not a raw transaction' };
  }
  const built = Transaction.fromPSBT(psbt);
  if (signed.inputsLength !== built.inputsLength) return { ok: false, reason: 'NOT_PREPARED', detail: `${signed.inputsLength} inputs, prepared ${built.inputsLength}` };
  for (let i = 0; i < built.inputsLength; i++) {
    const a = signed.getInput(i);
    const b = built.getInput(i);
    if (hex(a.txid ?? new Uint8Array()) !== hex(b.txid ?? new Uint8Array()) || a.index !== b.index) return { ok: false, reason: 'NOT_PREPARED', detail: `input ${i} is not the reserved output` };
    if (!a.finalScriptWitness || a.finalScriptWitness.length === 0) return { ok: false, reason: 'NOT_SIGNED', detail: `input ${i} has no witness` };
  }
  if (signed.outputsLength !== built.outputsLength) return { ok: false, reason: 'NOT_PREPARED', detail: `${signed.outputsLength} outputs, prepared ${built.outputsLength}` };
  for (let i = 0; i < built.outputsLength; i++) {
    const a = signed.getOutput(i);
    const b = built.getOutput(i);
    if (hex(a.script ?? new Uint8Array()) !== hex(b.script ?? new Uint8Array()) || a.amount !== b.amount) return { ok: false, reason: 'NOT_PREPARED', detail: `output ${i} is not the prepared destination/amount or our change` };
  }
  if (announcedTxid && announcedTxid.toLowerCase() !== signed.id) return { ok: false, reason: 'HASH_MISMATCH', detail: `announced ${announcedTxid}, the bytes are ${signed.id}` };
  return { ok: true, txid: signed.id };
}

export class BitcoinWithdrawalFlow {
  private readonly registry: WalletRegistry;

  constructor(private readonly d: { readonly profile: BitcoinAssetProfile; readonly clock: Clock; readonly hooks?: BitcoinHooks }) {
    this.registry = new WalletRegistry({ profile: d.profile, clock: d.clock });
  }

  get chain(): string {
    return this.d.profile.chain;
  }

  /** Is this decision ours (ALLOW, our asset and chain)? Validates what needs no database. */
  accepts(m: PolicyDecided): boolean {
    if (m.decision !== PolicyDecision.POLICY_DECISION_ALLOW) return false;
    if (m.asset !== this.d.profile.asset || m.chain !== this.d.profile.chain) return false;
    if (m.decisionToken.length === 0) throw new ChainAdapterError('INVALID_STATE', 'an ALLOW decision without a decision token cannot be prepared');
    if (!/^[1-9][0-9]{0,17}$/.test(m.amount)) throw new ChainAdapterError('INVALID_AMOUNT', 'amount must be a positive integer in satoshis');
    try {
      Address(networkOf(this.d.profile.network)).decode(m.destinationAddress);
    } catch {
      throw new ChainAdapterError('INVALID_ADDRESS', `destination is not a ${this.d.profile.network} address`);
    }
    if (m.destinationTag) throw new ChainAdapterError('INVALID_ADDRESS', 'a Bitcoin destination carries no tag');
    return true;
  }

  /** key.lifecycle of a key on our chain → the registry row (state; the address there is the signer's EVM form and is not used). */
  async applyLifecycle(event: KeyLifecycle, scope: StoreScope): Promise<'registered' | 'ignored'> {
    if (event.chain !== this.d.profile.chain || event.transition === KeyTransition.KEY_TRANSITION_UNSPECIFIED) return 'ignored';
    return (await this.registry.apply(event, scope)).outcome;
  }

  /**
   * In the inbox transaction: the wallet must be registered and allowed to send; its
   * unreserved outputs are row-locked, selected, reserved for this withdrawal, and the
   * withdrawal and tx.prepared are written — all or nothing.
   */
  async prepare(m: PolicyDecided, scope: StoreScope, btc: BitcoinScope, ctx: { correlationId: string; causationId: string }): Promise<'prepared' | 'duplicate' | 'refused'> {
    const p = this.d.profile;
    if (await btc.withdrawal(m.withdrawalId)) return 'duplicate';
    const registered = m.sourceWallet ? await scope.wallet(p.chain, m.sourceWallet, true) : undefined;
    if (!registered) throw new ChainAdapterError('WALLET_UNKNOWN', `wallet ${JSON.stringify(m.sourceWallet)} is not registered on ${p.chain}`);
    const reasonCode = refusalFor(registered);
    const now = this.d.clock.now();
    if (reasonCode) {
      await scope.emit([{ type: 'tx.status', correlationId: ctx.correlationId, causationId: ctx.causationId, message: TxStatus.fromPartial({ withdrawalId: m.withdrawalId, chain: p.chain, sourceWallet: m.sourceWallet, state: TxState.TX_STATE_FAILED, reasonCode, observedAt: timestampFromDate(now) }) }]);
      return 'refused';
    }
    const available = await btc.lockAvailable(p.chain, m.sourceWallet);
    const addresses = new Set(available.map((u) => u.address));
    // One single-key wallet: every output pays the key's P2WPKH address, which is also the change address.
    if (addresses.size > 1) throw new ChainAdapterError('INVALID_STATE', `wallet ${m.sourceWallet} has outputs on ${addresses.size} addresses; a single-key P2WPKH wallet has one`);
    const [address] = [...addresses];
    if (!address) throw new ChainAdapterError('INVALID_AMOUNT', `wallet ${m.sourceWallet} has no unreserved outputs`);
    const net = networkOf(p.network);
    const decoded = Address(net).decode(address);
    if (decoded.type !== 'wpkh') throw new ChainAdapterError('INVALID_ADDRESS', `wallet ${m.sourceWallet} address is not P2WPKH`);
    const script = OutScript.encode(decoded);
    const utxos: Utxo[] = available.map((u) => ({ txid: u.txid, vout: u.vout, amount: u.amount, script, type: 'p2wpkh' }));
    const amount = BigInt(m.amount);
    const built = buildWithdrawalPsbt({ network: p.network, utxos, destination: m.destinationAddress, amount, changeAddress: address, feeRate: p.feeRateSatPerVb, maxFee: p.maxFeeSat });
    await btc.reserve(p.chain, built.inputs.map((u) => ({ txid: u.txid, vout: u.vout })), m.withdrawalId);
    const prepared = TxPrepared.fromPartial({
      withdrawalId: m.withdrawalId,
      decisionId: m.decisionId,
      chain: p.chain,
      asset: p.asset,
      sourceWallet: m.sourceWallet,
      sourceAddress: address,
      destinationAddress: m.destinationAddress,
      destinationTag: '',
      amount: amount.toString(),
      unsignedTx: Buffer.from(built.psbt),
      feeCap: p.maxFeeSat.toString(),
      nonce: '0',
      decisionToken: m.decisionToken,
      approvals: m.approvals,
      approvalsExpireAt: m.expiresAt,
      preparedAt: timestampFromDate(now),
    });
    const inserted = await btc.insertWithdrawal({
      withdrawalId: m.withdrawalId,
      decisionId: m.decisionId,
      chain: p.chain,
      asset: p.asset,
      walletId: m.sourceWallet,
      address,
      destination: m.destinationAddress,
      amount,
      fee: built.fee,
      change: built.change,
      psbt: built.psbt,
      signedTx: null,
      txid: null,
      state: 'PREPARED',
      reasonCode: '',
      correlationId: ctx.correlationId,
      updatedAt: now,
    });
    if (!inserted) throw new ChainAdapterError('INVALID_STATE', 'withdrawal inserted concurrently');
    await scope.emit([{ type: 'tx.prepared', message: prepared, correlationId: ctx.correlationId, causationId: ctx.causationId }]);
    return 'prepared';
  }

  /** tx.signed for one of our Bitcoin withdrawals: SIGNED only for exactly what was prepared. */
  async acceptSignature(m: TxSigned, btc: BitcoinScope): Promise<{ outcome: 'accepted' | 'duplicate' | 'refused'; reason?: string }> {
    const refuse = (reason: string): { outcome: 'refused'; reason: string } => {
      this.d.hooks?.onRefusedSignature?.(reason);
      return { outcome: 'refused', reason };
    };
    const w = await btc.withdrawal(m.withdrawalId, true);
    if (!w) return refuse('UNKNOWN_WITHDRAWAL');
    if (w.state === 'FAILED') return refuse('UTXOS_RELEASED');
    const checked = checkSignedRaw(new Uint8Array(m.signedTx), w.psbt, m.txHash);
    if (!checked.ok) return refuse(checked.reason);
    // The inputs are still ours: reserved by this withdrawal (never released in between).
    const reserved = await btc.reservedBy(w.chain, w.withdrawalId);
    const spent = Transaction.fromRaw(new Uint8Array(m.signedTx));
    const keys = new Set(reserved.map((u) => `${u.txid}:${u.vout}`));
    for (let i = 0; i < spent.inputsLength; i++) {
      const input = spent.getInput(i);
      if (!keys.has(`${hex(input.txid ?? new Uint8Array())}:${input.index ?? -1}`)) return refuse('NOT_RESERVED');
    }
    if (spent.inputsLength !== keys.size) return refuse('NOT_RESERVED');
    if (w.state === 'SIGNED') return w.txid === checked.txid ? { outcome: 'duplicate' } : refuse('ALREADY_SIGNED');
    await btc.updateWithdrawal(w.withdrawalId, { state: 'SIGNED', signedTx: new Uint8Array(m.signedTx), txid: checked.txid, updatedAt: this.d.clock.now() });
    return { outcome: 'accepted' };
  }

  /**
   * custody.tx.refused.v1 for a PREPARED Bitcoin withdrawal of the same decision and wallet:
   * nothing will be signed for this PSBT → FAILED with the signer's reason, its outputs
   * released for other withdrawals, tx.status FAILED. A signature arriving later is refused
   * (UTXOS_RELEASED). Anything else changes nothing.
   */
  async handleRefusal(m: TxSigningRefused, scope: StoreScope, btc: BitcoinScope, ctx: { eventId: string }): Promise<'released' | 'ignored'> {
    if (m.chain !== this.d.profile.chain) return 'ignored';
    const w = await btc.withdrawal(m.withdrawalId, true);
    if (!w || w.state !== 'PREPARED' || w.decisionId !== m.decisionId || w.walletId !== m.sourceWallet) return 'ignored';
    const reasonCode = m.reasonCode || 'SIGNING_REFUSED';
    const now = this.d.clock.now();
    await btc.updateWithdrawal(w.withdrawalId, { state: 'FAILED', reasonCode, updatedAt: now });
    const released = await btc.release(w.chain, w.withdrawalId);
    await scope.emit([{ type: 'tx.status', correlationId: w.correlationId, causationId: ctx.eventId, message: TxStatus.fromPartial({ withdrawalId: w.withdrawalId, chain: w.chain, sourceWallet: w.walletId, sourceAddress: w.address, state: TxState.TX_STATE_FAILED, reasonCode, observedAt: timestampFromDate(now) }) }]);
    this.d.hooks?.onReleased?.(reasonCode, released);
    return 'released';
  }
}
