/**
 * The Sign use case (C-8.2.2.5-a, C-5.4.2-b, C-5.4.4-a, C-5.5.4.3-b): consumes a
 * `tx.prepared` and signs ONLY if, in this order,
 *   1. the request is well formed (amount, fee cap, token bytes);
 *   2. the decision token verifies under a trusted policy-service key, is not expired, and
 *      binds exactly this withdrawal, asset, source wallet, destination and amount; the
 *      request's decision id is the token's;
 *   3. the approvals the token's quorum asks for are present: distinct registered operators,
 *      in a role the token names and they hold, whose Ed25519 signatures over the approval
 *      bytes verify, before the approval window (bound by those signatures) ends;
 *   4. the signer's own asset profile knows the asset, its chain is the request's chain;
 *   5. the unsigned transaction, decoded here with the kernel's strict decoder, pays exactly
 *      the approved amount to exactly the approved destination, on the asset's chain id
 *      (EIP-155), with no call data or access list, the declared nonce, fee within the cap;
 *      Bitcoin (profile kind "bitcoin"): the PSBT, decoded here, has one P2WPKH key on every
 *      input, exactly one output of exactly the approved amount to exactly the approved
 *      destination, only change to our own addresses otherwise, fee ≤ cap (bitcoin-intent.ts);
 *   6. the decision id was never used: its row is inserted under a UNIQUE constraint and
 *      COMMITTED before any signature exists;
 *   7. inside the signing transaction, with the key row locked: the wallet's key exists, is
 *      ACTIVE (not suspended/retired, inside its activation window and signature budget),
 *      and the amount is within its tier's cap; then the custody signs, the sender recovered
 *      from the signature must be the wallet's address, and tx.signed goes to the outbox in
 *      the same transaction that marks the decision signed. Bitcoin: the inputs must be
 *      locked to that key (P2WPKH); every input gets a BIP-143 low-S signature verified
 *      against the key, and tx.signed carries the FINALISED raw transaction (txHash = txid).
 * Otherwise it emits tx.refused with a precise reason code. Nothing here logs key material.
 *
 * Fee bump (EVM): a tx.prepared for a decision already SIGNED (by another event) passes steps
 * 1-5 like any request and is then re-signed only if, under the key and decision row locks,
 * the fee-bump rule (domain/fee-bump.ts) accepts it against the payload signed last for that
 * decision (same transfer and nonce, fees only higher, within the same ceiling) and the key
 * is still active and within caps; otherwise DECISION_ALREADY_USED as before (the detail
 * names the fee-bump reason). A refused bump never spends anything: decision_consumed false.
 */
import { hex } from '@scure/base';
import { verifyDecisionToken, type DecisionTokenClaims, type TokenRefusal } from '@custody/decision-token';
import type { TxPrepared } from '@custody/contracts';
import { decodeEip1559Transaction, eip1559SigningHash, eip1559UnsignedPayload } from '../domain/crypto/evm.js';
import { equalBytes } from '../domain/crypto/bytes.js';
import { checkEvmTransaction } from '../domain/evm-intent.js';
import { checkFeeBump, feeCeiling } from '../domain/fee-bump.js';
import { bitcoinSigningDigests, checkBitcoinInputsOwned, checkBitcoinPsbt, finalizeSignedBitcoin, type BitcoinNetworkName, type CheckedBitcoinTx } from '../domain/bitcoin-intent.js';
import type { EcdsaSignature } from '../domain/crypto/secp256k1.js';
import { autoDeactivation, effectiveState, spendSignature, type KeyRecord, type KeyTier, type KeyTransitionEvent } from '../domain/key.js';
import { countDecisionApprovals, type Operator } from '../domain/operators.js';
import { refusal, type Refusal, type RefusalCode } from '../domain/refusal.js';
import { serializeSignedEip1559 } from '../domain/crypto/evm.js';
import type { KeyCustody } from './key-custody.js';
import type { Clock, EventContext, LockedResult, OutcomeBase, RefusedOutcome, SigningStore } from './ports.js';

export interface EvmAssetProfile {
  readonly asset: string;
  readonly chain: string;
  readonly kind: 'evm';
  /** EIP-155 chain id the signer requires in every transaction of this asset. */
  readonly chainId: bigint;
  /** Maximum total fee (maxFeePerGas × gasLimit) in wei. */
  readonly maxFee: bigint;
  /** Largest amount one signature may move, per key tier (base units). */
  readonly tierCaps: Readonly<Record<KeyTier, bigint>>;
}

export interface BitcoinAssetProfile {
  readonly asset: string;
  readonly chain: string;
  readonly kind: 'bitcoin';
  /** Address encoding the destinations of this asset must use. */
  readonly network: BitcoinNetworkName;
  /** Maximum absolute fee (Σ inputs − Σ outputs) in satoshis. */
  readonly maxFee: bigint;
  readonly tierCaps: Readonly<Record<KeyTier, bigint>>;
  /** Account xpub whose `/1/i` P2WPKH keys also count as our change addresses (optional). */
  readonly changeXpub?: string;
}

export type AssetProfile = EvmAssetProfile | BitcoinAssetProfile;

export interface SignTransactionDeps {
  readonly store: SigningStore;
  readonly custody: ReadonlyMap<string, KeyCustody>;
  readonly clock: Clock;
  /** Policy service key id → 32-byte Ed25519 public key. */
  readonly trustedPolicyKeys: ReadonlyMap<string, Uint8Array>;
  readonly operators: ReadonlyMap<string, Operator>;
  readonly assets: ReadonlyMap<string, AssetProfile>;
  /** Accepted policy bundle digests; undefined = any bundle the token names. */
  readonly bundleDigests?: readonly string[];
  readonly onOutcome?: (outcome: { kind: 'signed' | 'refused' | 'duplicate'; code?: RefusalCode; algorithm?: string; chain?: string; seconds: number }) => void;
}

const TOKEN_REFUSALS: Readonly<Record<TokenRefusal, RefusalCode>> = {
  malformed: 'TOKEN_MALFORMED',
  unknown_key: 'TOKEN_UNKNOWN_KEY',
  bad_signature: 'TOKEN_BAD_SIGNATURE',
  expired: 'TOKEN_EXPIRED',
  not_yet_valid: 'TOKEN_NOT_YET_VALID',
  binding_mismatch: 'TOKEN_BINDING_MISMATCH',
};

const DECIMAL = /^(0|[1-9]\d{0,77})$/;
const PRINTABLE = /^[!-~]{1,8192}$/;

export interface EvmPlan {
  readonly kind: 'evm';
  readonly claims: DecisionTokenClaims;
  readonly profile: EvmAssetProfile;
  /** min(profile cap, request cap): the ceiling this signature (and any fee bump of it) is held to. */
  readonly feeCap: bigint;
  readonly digest: Uint8Array;
  readonly tx: ReturnType<typeof checkEvmTransaction> & { ok: true };
}

export interface BitcoinPlan {
  readonly kind: 'bitcoin';
  readonly claims: DecisionTokenClaims;
  readonly profile: BitcoinAssetProfile;
  readonly btc: CheckedBitcoinTx;
}

export type Plan = EvmPlan | BitcoinPlan;

export class SignTransaction {
  constructor(private readonly deps: SignTransactionDeps) {}

  async handle(prepared: TxPrepared, ctx: EventContext): Promise<'signed' | 'refused' | 'duplicate'> {
    const started = performance.now();
    const result = await this.#handle(prepared, ctx);
    this.deps.onOutcome?.({ kind: result.kind, ...(result.code ? { code: result.code } : {}), chain: prepared.chain, seconds: (performance.now() - started) / 1000 });
    return result.kind;
  }

  async #handle(prepared: TxPrepared, ctx: EventContext): Promise<{ kind: 'signed' | 'refused' | 'duplicate'; code?: RefusalCode }> {
    const now = this.deps.clock.now();
    const base: OutcomeBase = { decisionId: prepared.decisionId, withdrawalId: prepared.withdrawalId, chain: prepared.chain, sourceWallet: prepared.sourceWallet, at: now };
    const refuseEarly = async (r: Refusal): Promise<{ kind: 'refused' | 'duplicate'; code: RefusalCode }> => {
      const outcome: RefusedOutcome = { ...base, kind: 'refused', refusal: r, decisionConsumed: false };
      const recorded = await this.deps.store.recordRefusal(ctx, outcome);
      return { kind: recorded === 'duplicate' ? 'duplicate' : 'refused', code: r.code };
    };

    const plan = this.verify(prepared, now);
    if ('code' in plan) return refuseEarly(plan);

    // 6. single use: committed before any signature exists.
    const reservation = await this.deps.store.reserveDecision({ decisionId: plan.claims.decisionId, withdrawalId: plan.claims.withdrawalId, eventId: ctx.eventId, walletId: plan.claims.sourceWallet, at: now });
    if (reservation.status === 'taken') {
      if (reservation.byEventId !== ctx.eventId) {
        if (reservation.state === 'signed' && plan.kind === 'evm') return this.#feeBump(plan, ctx, base);
        return refuseEarly(refusal('DECISION_ALREADY_USED', `decision ${plan.claims.decisionId} was already presented for signing (${reservation.state})`));
      }
      if (reservation.state !== 'reserved') return { kind: 'duplicate' };
      // Same event, reserved but never finished (crash between the two commits): continue.
    }

    let finalKind: 'signed' | 'refused' = 'refused';
    let finalCode: RefusalCode | undefined;
    const done = await this.deps.store.signUnderLock(ctx, plan.claims.sourceWallet, plan.claims.decisionId, async (key) => {
      const r = await this.#signLocked(plan, key, base);
      finalKind = r.outcome.kind;
      finalCode = r.outcome.kind === 'refused' ? r.outcome.refusal.code : undefined;
      return r;
    });
    if (done === 'duplicate') return { kind: 'duplicate' };
    return finalCode ? { kind: finalKind, code: finalCode } : { kind: finalKind };
  }

  /** A second signature for a signed decision: only a fee bump of the payload signed last. */
  async #feeBump(plan: EvmPlan, ctx: EventContext, base: OutcomeBase): Promise<{ kind: 'signed' | 'refused' | 'duplicate'; code?: RefusalCode }> {
    let finalKind: 'signed' | 'refused' = 'refused';
    let finalCode: RefusalCode | undefined;
    const candidate = eip1559UnsignedPayload(plan.tx.tx);
    const done = await this.deps.store.bumpUnderLock(ctx, plan.claims.sourceWallet, plan.claims.decisionId, async (key, signedPayload) => {
      let r: LockedResult;
      if (!signedPayload) {
        r = { outcome: { ...base, kind: 'refused', refusal: refusal('DECISION_ALREADY_USED', `decision ${plan.claims.decisionId} was already signed and no signed payload is recorded for a fee bump`), decisionConsumed: false }, transitions: [] };
      } else {
        const verdict = checkFeeBump({ signedPayload, candidatePayload: candidate, feeCeiling: feeCeiling(plan.profile.maxFee, plan.feeCap) });
        r = verdict.ok
          ? await this.#signLocked(plan, key, base, false)
          : { outcome: { ...base, kind: 'refused', refusal: refusal('DECISION_ALREADY_USED', `decision ${plan.claims.decisionId} was already signed; not a permitted fee bump (${verdict.code}: ${verdict.detail})`), decisionConsumed: false }, transitions: [] };
      }
      finalKind = r.outcome.kind;
      finalCode = r.outcome.kind === 'refused' ? r.outcome.refusal.code : undefined;
      return r;
    });
    if (done === 'duplicate') return { kind: 'duplicate' };
    return finalCode ? { kind: finalKind, code: finalCode } : { kind: finalKind };
  }

  /** Steps 1-5: everything that needs no lock and no key (also used to re-verify cold-signed batches). */
  verify(p: TxPrepared, now: Date): Plan | Refusal {
    if (!DECIMAL.test(p.amount) || !DECIMAL.test(p.feeCap) || !DECIMAL.test(String(p.nonce))) return refusal('MALFORMED_REQUEST', 'amount, fee_cap and nonce must be decimal integers');
    const tokenText = Buffer.from(p.decisionToken).toString('latin1');
    if (!PRINTABLE.test(tokenText)) return refusal('TOKEN_MALFORMED', 'decision token is not printable ASCII');

    // 2. the decision token.
    const verified = verifyDecisionToken(tokenText, {
      trustedKeys: this.deps.trustedPolicyKeys,
      clock: { now: () => now },
      expected: {
        withdrawalId: p.withdrawalId,
        asset: p.asset,
        sourceWallet: p.sourceWallet,
        destination: p.destinationTag ? { address: p.destinationAddress, tag: p.destinationTag } : { address: p.destinationAddress },
        amount: BigInt(p.amount),
        ...(this.deps.bundleDigests ? { bundleDigests: this.deps.bundleDigests } : {}),
      },
    });
    if (!verified.ok) return refusal(TOKEN_REFUSALS[verified.reason], verified.detail);
    const claims = verified.claims;
    if (claims.decisionId !== p.decisionId) return refusal('TOKEN_BINDING_MISMATCH', 'decisionId differs from the decision token');

    // 3. approvals and quorum.
    const approvalRefusal = this.#checkApprovals(p, claims, now);
    if (approvalRefusal) return approvalRefusal;

    // 4. the signer's own view of the asset.
    const profile = this.deps.assets.get(claims.asset);
    if (!profile) return refusal('ASSET_NOT_SUPPORTED', `asset ${claims.asset} has no signing profile`);
    if (profile.chain !== p.chain) return refusal('CHAIN_MISMATCH', `asset ${claims.asset} is on ${profile.chain}, the request says ${p.chain}`);

    // 5. what is signed is what was approved.
    const feeCap = BigInt(p.feeCap) < profile.maxFee ? BigInt(p.feeCap) : profile.maxFee;
    if (profile.kind === 'bitcoin') {
      if (claims.destination.tag !== undefined && claims.destination.tag !== '') return refusal('TX_DESTINATION_MISMATCH', 'a Bitcoin destination carries no tag');
      const checkedBtc = checkBitcoinPsbt(new Uint8Array(p.unsignedTx), {
        network: profile.network,
        destination: claims.destination.address,
        amount: claims.amount,
        feeCap,
        ...(profile.changeXpub ? { changeXpub: profile.changeXpub } : {}),
      });
      if (!checkedBtc.ok) return checkedBtc.refusal;
      return { kind: 'bitcoin', claims, profile, btc: checkedBtc.tx };
    }
    const checked = checkEvmTransaction(new Uint8Array(p.unsignedTx), { chainId: profile.chainId, destination: claims.destination.address, amount: claims.amount, feeCap, nonce: BigInt(p.nonce) });
    if (!checked.ok) return checked.refusal;
    return { kind: 'evm', claims, profile, feeCap, digest: eip1559SigningHash(checked.tx), tx: checked };
  }

  #checkApprovals(p: TxPrepared, claims: DecisionTokenClaims, now: Date): Refusal | undefined {
    const quorum = claims.approvals.quorum;
    if (quorum === 0) return undefined;
    if (!p.approvalsExpireAt) return refusal('QUORUM_NOT_MET', `the decision needs ${quorum} approvals and the request carries no approval window`);
    const expiresAt = Math.floor(Number(p.approvalsExpireAt.seconds));
    if (!Number.isSafeInteger(expiresAt) || Math.floor(now.getTime() / 1000) >= expiresAt) return refusal('APPROVALS_EXPIRED', `the approval window ended at ${expiresAt}`);
    const subject = {
      decisionId: claims.decisionId,
      withdrawalId: claims.withdrawalId,
      asset: claims.asset,
      sourceWallet: claims.sourceWallet,
      destinationAddress: claims.destination.address,
      destinationTag: claims.destination.tag ?? '',
      amount: claims.amount,
      bundleDigest: claims.bundleDigest,
      quorum,
      roles: claims.approvals.roles,
      expiresAt,
    };
    const count = countDecisionApprovals(
      subject,
      p.approvals.map((a) => ({ operatorId: a.operatorId, role: a.role, keyId: a.keyId, signature: new Uint8Array(a.signature) })),
      this.deps.operators,
    );
    const forged = count.problems.find((x) => x.problem === 'BAD_SIGNATURE');
    if (forged) return refusal('APPROVAL_INVALID', `approval ${forged.index} does not verify for its operator over this decision`);
    if (count.operators.length < quorum) {
      const why = count.problems.map((x) => `#${x.index} ${x.problem}`).join(', ');
      return refusal('QUORUM_NOT_MET', `${count.operators.length} of ${quorum} required approvals count${why ? ` (${why})` : ''}`);
    }
    return undefined;
  }

  /**
   * Import of a transaction signed elsewhere (the offline/cold signer, C-9.3.7.4-a): the same
   * checks as the online path — token, approvals, decoded tx vs approval, single use — plus:
   * the signed transaction's unsigned part is byte-for-byte the exported one, and the
   * signature recovers the wallet's registered key, which is not suspended or retired.
   */
  async importSigned(prepared: TxPrepared, signedTx: Uint8Array, ctx: EventContext): Promise<'signed' | 'refused' | 'duplicate'> {
    const now = this.deps.clock.now();
    const base: OutcomeBase = { decisionId: prepared.decisionId, withdrawalId: prepared.withdrawalId, chain: prepared.chain, sourceWallet: prepared.sourceWallet, at: now };
    const refuse = async (r: Refusal): Promise<'refused' | 'duplicate'> => ((await this.deps.store.recordRefusal(ctx, { ...base, kind: 'refused', refusal: r, decisionConsumed: false })) === 'duplicate' ? 'duplicate' : 'refused');
    const plan = this.verify(prepared, now);
    if ('code' in plan) return refuse(plan);
    if (plan.kind !== 'evm') return refuse(refusal('ASSET_NOT_SUPPORTED', 'cold-signed import is implemented for EVM transactions only'));
    let decoded: ReturnType<typeof decodeEip1559Transaction>;
    try {
      decoded = decodeEip1559Transaction(signedTx);
    } catch {
      return refuse(refusal('TX_MALFORMED', 'the imported transaction does not decode'));
    }
    const signed = decoded.signed;
    if (!signed) return refuse(refusal('TX_MALFORMED', 'the imported transaction is not signed'));
    if (!equalBytes(eip1559UnsignedPayload(decoded.tx), new Uint8Array(prepared.unsignedTx))) return refuse(refusal('TX_MALFORMED', 'the signed transaction differs from the exported unsigned transaction'));
    const reservation = await this.deps.store.reserveDecision({ decisionId: plan.claims.decisionId, withdrawalId: plan.claims.withdrawalId, eventId: ctx.eventId, walletId: plan.claims.sourceWallet, at: now });
    if (reservation.status === 'taken' && reservation.byEventId !== ctx.eventId) return refuse(refusal('DECISION_ALREADY_USED', `decision ${plan.claims.decisionId} was already presented for signing (${reservation.state})`));
    if (reservation.status === 'taken' && reservation.state !== 'reserved') return 'duplicate';
    let kind: 'signed' | 'refused' = 'refused';
    const done = await this.deps.store.signUnderLock(ctx, plan.claims.sourceWallet, plan.claims.decisionId, async (key): Promise<LockedResult> => {
      // After the reservation: the decision is spent whatever the outcome.
      const refused = (r: Refusal): LockedResult => ({ outcome: { ...base, kind: 'refused', refusal: r, decisionConsumed: true }, transitions: [] });
      if (!key || key.purpose !== 'signature') return refused(refusal('WALLET_UNKNOWN', `wallet ${plan.claims.sourceWallet} has no registered signature key`));
      const state = effectiveState(key, now);
      if (state === 'suspended') return refused(refusal('KEY_SUSPENDED', `key ${key.keyId} is suspended`));
      if (state === 'retired' || state === 'destroyed') return refused(refusal('KEY_RETIRED', `key ${key.keyId} is ${state}`));
      const cap = plan.profile.tierCaps[key.tier];
      if (plan.claims.amount > cap) return refused(refusal('TIER_CAP_EXCEEDED', `amount ${plan.claims.amount} exceeds the ${key.tier} tier cap ${cap}`));
      const from = `0x${hex.encode(signed.from)}`;
      if (from !== key.address.toLowerCase()) return refused(refusal('TX_SENDER_MISMATCH', `signature recovers ${from}, not the wallet address`));
      kind = 'signed';
      return { outcome: { ...base, kind: 'signed', keyId: key.keyId, signedTx: signed.raw, txHash: `0x${hex.encode(signed.hash)}` }, transitions: [] };
    });
    return done === 'duplicate' ? 'duplicate' : kind;
  }

  /** Step 7, under the key row lock. */
  async #signLocked(plan: Plan, key: KeyRecord | undefined, base: OutcomeBase, consumed = true): Promise<LockedResult> {
    const now = base.at;
    // After the reservation: the decision is spent whatever the outcome (not for a fee bump:
    // the first signature stands).
    const refused = (r: Refusal, k?: KeyRecord, transitions: readonly KeyTransitionEvent[] = []): LockedResult => ({ outcome: { ...base, kind: 'refused', refusal: r, decisionConsumed: consumed }, ...(k ? { key: k } : {}), transitions });
    if (!key || key.purpose !== 'signature') return refused(refusal('WALLET_UNKNOWN', `wallet ${plan.claims.sourceWallet} has no registered signature key`));
    const auto = autoDeactivation(key, now);
    const state = effectiveState(key, now);
    if (state === 'suspended') return refused(refusal('KEY_SUSPENDED', `key ${key.keyId} of wallet ${key.walletId} is suspended`));
    if (state === 'retired' || state === 'destroyed') return refused(refusal('KEY_RETIRED', `key ${key.keyId} is ${state}`));
    if (state !== 'active') return refused(refusal('KEY_NOT_ACTIVE', `key ${key.keyId} is ${state}${auto ? ` (${auto.event.reason})` : ''}`), auto?.key, auto ? [auto.event] : []);
    if (key.chain !== plan.profile.chain || key.algorithm !== 'secp256k1') return refused(refusal('CHAIN_MISMATCH', `key ${key.keyId} is not a ${plan.profile.chain} secp256k1 key`));
    const cap = plan.profile.tierCaps[key.tier];
    if (plan.claims.amount > cap) return refused(refusal('TIER_CAP_EXCEEDED', `amount ${plan.claims.amount} exceeds the ${key.tier} tier cap ${cap}`));
    const custody = this.deps.custody.get(key.custody);
    if (!custody) return refused(refusal('CUSTODY_FAILED', `no ${key.custody} custody is configured`));
    if (plan.kind === 'bitcoin') return this.#signBitcoinLocked(plan, key, custody, base, refused);

    let signed;
    try {
      const result = await custody.sign(key.custodyRef, { algorithm: 'secp256k1', digest: plan.digest });
      if (result.algorithm !== 'secp256k1') throw new Error('custody returned another algorithm');
      signed = serializeSignedEip1559(plan.tx.tx, result.signature);
    } catch (error) {
      const code = (error as { code?: unknown }).code;
      return refused(refusal('CUSTODY_FAILED', `the ${key.custody} custody could not sign (${typeof code === 'string' ? code : 'error'})`));
    }
    const from = `0x${hex.encode(signed.from)}`;
    if (from !== key.address.toLowerCase()) return refused(refusal('TX_SENDER_MISMATCH', `signature recovers ${from}, not the wallet address`));

    return this.#signedResult(base, key, signed.raw, `0x${hex.encode(signed.hash)}`, eip1559UnsignedPayload(plan.tx.tx));
  }

  #signedResult(base: OutcomeBase, key: KeyRecord, signedTx: Uint8Array, txHash: string, signedPayload?: Uint8Array): LockedResult {
    const spent = spendSignature(key, base.at);
    const after = autoDeactivation(spent, base.at);
    return {
      outcome: { ...base, kind: 'signed', keyId: key.keyId, signedTx, txHash, ...(signedPayload ? { signedPayload } : {}) },
      key: after?.key ?? spent,
      transitions: after ? [after.event] : [],
    };
  }

  /** Bitcoin part of step 7: inputs are the wallet key's, one custody signature per input, each verified. */
  async #signBitcoinLocked(plan: BitcoinPlan, key: KeyRecord, custody: KeyCustody, base: OutcomeBase, refused: (r: Refusal) => LockedResult): Promise<LockedResult> {
    const notOurs = checkBitcoinInputsOwned(plan.btc, key.publicKey);
    if (notOurs) return refused(notOurs);
    const signatures: EcdsaSignature[] = [];
    try {
      for (const digest of bitcoinSigningDigests(plan.btc)) {
        const result = await custody.sign(key.custodyRef, { algorithm: 'secp256k1', digest });
        if (result.algorithm !== 'secp256k1') throw new Error('custody returned another algorithm');
        signatures.push({ r: result.signature.r, s: result.signature.s });
      }
    } catch (error) {
      const code = (error as { code?: unknown }).code;
      return refused(refusal('CUSTODY_FAILED', `the ${key.custody} custody could not sign (${typeof code === 'string' ? code : 'error'})`));
    }
    const signed = finalizeSignedBitcoin(plan.btc, key.publicKey, signatures);
    if (!signed) return refused(refusal('TX_SENDER_MISMATCH', 'a signature does not verify under the wallet key'));
    return this.#signedResult(base, key, signed.raw, signed.txid);
  }
}
