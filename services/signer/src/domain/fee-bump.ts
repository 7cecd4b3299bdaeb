/**
 * Fee-only re-signature rule for EVM fee bumps (not wired yet; see docs/signer.md).
 *
 * The chain-adapter speeds up a stuck EIP-1559 transaction by re-sending it under the SAME
 * nonce with a higher `maxFeePerGas` and/or `maxPriorityFeePerGas`. The anti-double-sign
 * store refuses a second signature for a decision, so a bump needs an explicit rule. The
 * signer may sign the replacement for a decision ONLY if, against the unsigned payload it
 * already signed for that decision:
 *
 *  1. the candidate is a canonical unsigned type-2 payload (strict decoder, re-encodes byte
 *     for byte; a signed or non-canonical encoding is refused);
 *  2. every field except the two fee fields is identical: chain id, nonce, gas limit, to,
 *     value, data, access list (so the transfer the decision approved is unchanged and the
 *     two transactions are mutually exclusive: one nonce, at most one can be mined);
 *  3. neither fee field decreases and at least one increases (an identical transaction is
 *     not a bump: the existing signature is rebroadcast instead);
 *  4. `maxPriorityFeePerGas <= maxFeePerGas` (EIP-1559 validity);
 *  5. the new worst-case fee `gasLimit × maxFeePerGas` is within the ceiling the original
 *     was held to: min(asset profile `maxFee`, the decision's / request's fee cap).
 *
 * Node replacement rules (e.g. geth's +10 % on both fields) are the chain-adapter's concern;
 * this rule only bounds what the signer will put its key to. Details name fields, never values.
 */
import { equalBytes } from './crypto/bytes.js';
import { decodeEip1559Transaction, eip1559UnsignedPayload, type Eip1559Transaction } from './crypto/evm.js';

export type FeeBumpRefusalCode = 'FEE_BUMP_MALFORMED' | 'FEE_BUMP_FIELD_CHANGED' | 'FEE_BUMP_FEE_DECREASED' | 'FEE_BUMP_NOT_HIGHER' | 'FEE_BUMP_TIP_ABOVE_MAX_FEE' | 'FEE_BUMP_ABOVE_CAP';

export type FeeBumpVerdict = { readonly ok: true; readonly tx: Eip1559Transaction } | { readonly ok: false; readonly code: FeeBumpRefusalCode; readonly detail: string };

export interface FeeBumpInput {
  /** The unsigned EIP-1559 payload the signer signed for this decision. */
  readonly signedPayload: Uint8Array;
  /** The chain-adapter's replacement (unsigned EIP-1559 payload). */
  readonly candidatePayload: Uint8Array;
  /** Total fee ceiling in wei (see `feeCeiling`). */
  readonly feeCeiling: bigint;
}

/** min(profile cap, decision/request cap): the same ceiling the first signature was held to. */
export function feeCeiling(profileMaxFee: bigint, requestFeeCap: bigint): bigint {
  return profileMaxFee < requestFeeCap ? profileMaxFee : requestFeeCap;
}

const refuse = (code: FeeBumpRefusalCode, detail: string): FeeBumpVerdict => Object.freeze({ ok: false as const, code, detail });

/** The strict decoder, unsigned only, and byte-for-byte canonical; anything else is undefined. */
function decodeUnsigned(payload: Uint8Array): Eip1559Transaction | undefined {
  try {
    const decoded = decodeEip1559Transaction(payload);
    if (decoded.signed) return undefined;
    return equalBytes(eip1559UnsignedPayload(decoded.tx), payload) ? decoded.tx : undefined;
  } catch {
    return undefined;
  }
}

function sameAccessList(a: Eip1559Transaction['accessList'], b: Eip1559Transaction['accessList']): boolean {
  return (
    a.length === b.length &&
    a.every((entry, i) => {
      const other = b[i];
      return other !== undefined && equalBytes(entry.address, other.address) && entry.storageKeys.length === other.storageKeys.length && entry.storageKeys.every((k, j) => equalBytes(k, other.storageKeys[j] ?? new Uint8Array(0)));
    })
  );
}

/** The fields that must not change, by name. */
export function changedNonFeeFields(original: Eip1559Transaction, candidate: Eip1559Transaction): string[] {
  const changed: string[] = [];
  if (original.chainId !== candidate.chainId) changed.push('chainId');
  if (original.nonce !== candidate.nonce) changed.push('nonce');
  if (original.gasLimit !== candidate.gasLimit) changed.push('gasLimit');
  if (!equalBytes(original.to, candidate.to)) changed.push('to');
  if (original.value !== candidate.value) changed.push('value');
  if (!equalBytes(original.data, candidate.data)) changed.push('data');
  if (!sameAccessList(original.accessList, candidate.accessList)) changed.push('accessList');
  return changed;
}

export function checkFeeBump(input: FeeBumpInput): FeeBumpVerdict {
  if (typeof input.feeCeiling !== 'bigint' || input.feeCeiling <= 0n) return refuse('FEE_BUMP_MALFORMED', 'feeCeiling must be a positive bigint');
  const original = decodeUnsigned(input.signedPayload);
  if (!original) return refuse('FEE_BUMP_MALFORMED', 'signedPayload is not a canonical unsigned EIP-1559 payload');
  const candidate = decodeUnsigned(input.candidatePayload);
  if (!candidate) return refuse('FEE_BUMP_MALFORMED', 'candidatePayload is not a canonical unsigned EIP-1559 payload');

  const changed = changedNonFeeFields(original, candidate);
  if (changed.length > 0) return refuse('FEE_BUMP_FIELD_CHANGED', `only maxFeePerGas and maxPriorityFeePerGas may change; changed: ${changed.join(', ')}`);

  const decreased = [
    ...(candidate.maxFeePerGas < original.maxFeePerGas ? ['maxFeePerGas'] : []),
    ...(candidate.maxPriorityFeePerGas < original.maxPriorityFeePerGas ? ['maxPriorityFeePerGas'] : []),
  ];
  if (decreased.length > 0) return refuse('FEE_BUMP_FEE_DECREASED', `a bump cannot lower ${decreased.join(', ')}`);
  if (candidate.maxFeePerGas === original.maxFeePerGas && candidate.maxPriorityFeePerGas === original.maxPriorityFeePerGas) {
    return refuse('FEE_BUMP_NOT_HIGHER', 'the candidate is the transaction already signed: rebroadcast it');
  }
  if (candidate.maxPriorityFeePerGas > candidate.maxFeePerGas) return refuse('FEE_BUMP_TIP_ABOVE_MAX_FEE', 'maxPriorityFeePerGas exceeds maxFeePerGas');
  if (candidate.gasLimit * candidate.maxFeePerGas > input.feeCeiling) return refuse('FEE_BUMP_ABOVE_CAP', 'gasLimit × maxFeePerGas exceeds the fee ceiling of the decision/profile');
  return Object.freeze({ ok: true as const, tx: candidate });
}
