// EIP-1559 fee policy (C-5.5.5.2-a, 8.2.4.2): from eth_feeHistory, with per-asset ceilings.
// A fee above the ceiling is not paid silently: the caller waits (FEE_CAP_EXCEEDED).
import { ChainAdapterError } from './errors.js';

export interface FeeHistorySample {
  /** baseFeePerGas of the recent blocks plus the next one (last element). */
  readonly baseFeePerGas: readonly bigint[];
  /** Per block, the priority fee at the requested percentile. */
  readonly rewards: readonly bigint[];
}

export interface FeeCaps {
  readonly maxFeePerGas: bigint;
  readonly maxPriorityFeePerGas: bigint;
  /** Floor for the tip (nodes with empty blocks report 0). */
  readonly minPriorityFeePerGas: bigint;
}

export interface Fees {
  readonly maxFeePerGas: bigint;
  readonly maxPriorityFeePerGas: bigint;
}

function median(values: readonly bigint[]): bigint {
  if (values.length === 0) return 0n;
  const sorted = [...values].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  return sorted[Math.floor(sorted.length / 2)] ?? 0n;
}

/** tip = median reward (clamped to [min, cap]); maxFee = 2 × next base fee + tip (≤ cap). */
export function estimateFees(sample: FeeHistorySample, caps: FeeCaps): Fees {
  const nextBase = sample.baseFeePerGas[sample.baseFeePerGas.length - 1];
  if (nextBase === undefined) throw new ChainAdapterError('INVALID_STATE', 'fee history has no base fee');
  let tip = median(sample.rewards);
  if (tip < caps.minPriorityFeePerGas) tip = caps.minPriorityFeePerGas;
  if (tip > caps.maxPriorityFeePerGas) tip = caps.maxPriorityFeePerGas;
  if (nextBase + tip > caps.maxFeePerGas) {
    throw new ChainAdapterError('FEE_CAP_EXCEEDED', `the network fee (base ${nextBase} + tip ${tip} wei/gas) is above the cap of ${caps.maxFeePerGas} wei/gas; the withdrawal waits`);
  }
  let maxFee = 2n * nextBase + tip;
  if (maxFee > caps.maxFeePerGas) maxFee = caps.maxFeePerGas;
  return { maxFeePerGas: maxFee, maxPriorityFeePerGas: tip };
}

/**
 * Same-nonce replacement: nodes require both fees to rise by at least 10 %; we bump by
 * `percent` (≥ 10) and refuse to go above the caps (then an operator decides).
 */
export function bumpFees(previous: Fees, caps: FeeCaps, percent = 25n): Fees {
  if (percent < 10n) throw new ChainAdapterError('INVALID_STATE', 'a replacement needs a bump of at least 10 %');
  const up = (v: bigint): bigint => (v * (100n + percent) + 99n) / 100n + 1n;
  const tip = up(previous.maxPriorityFeePerGas);
  const maxFee = up(previous.maxFeePerGas);
  if (maxFee > caps.maxFeePerGas || tip > caps.maxPriorityFeePerGas) {
    throw new ChainAdapterError('FEE_CAP_EXCEEDED', `a fee bump to ${maxFee} wei/gas is above the cap of ${caps.maxFeePerGas}; an operator must approve a replacement or cancellation`);
  }
  return { maxFeePerGas: maxFee, maxPriorityFeePerGas: tip };
}
