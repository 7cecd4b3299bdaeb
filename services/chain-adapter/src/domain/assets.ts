// Asset profiles (C-5.5.3-a): an asset is handled only with a complete profile — chain id,
// genesis hash, confirmation depth, fee caps. Validated once at start.
import { ChainAdapterError } from './errors.js';
import type { FeeCaps } from './fees.js';
import { validateDepthTiers, type DepthTier } from './finality.js';

export interface EvmAssetProfile {
  /** e.g. "ETH". Native coin only (token transfers: not yet). */
  readonly asset: string;
  /** Our chain name, e.g. "ethereum-local"; must equal policy.decided's chain. */
  readonly chain: string;
  readonly chainId: bigint;
  /** Expected block-0 hash (fork / wrong-network guard, C-5.5.4.3-b). */
  readonly genesisHash: string;
  /** Blocks (incl. the one carrying the tx) for FINAL (C-5.5.4-a). */
  readonly confirmations: number;
  /** Larger transfers need more (C-8.3.3-b): tiers ascending in amount and depth (domain/finality.ts). */
  readonly depthTiers?: readonly DepthTier[];
  readonly fees: FeeCaps;
  /** Gas for a plain value transfer. */
  readonly gasLimit: bigint;
}

export function validateProfile(p: EvmAssetProfile): EvmAssetProfile {
  if (!/^[A-Z0-9]{2,12}$/.test(p.asset)) throw new ChainAdapterError('UNKNOWN_ASSET', `asset symbol ${JSON.stringify(p.asset)} is not valid`);
  if (p.chainId <= 0n) throw new ChainAdapterError('CHAIN_ID_MISMATCH', `asset ${p.asset}: a chain id is required (EIP-155 replay protection)`);
  if (!/^0x[0-9a-f]{64}$/.test(p.genesisHash)) throw new ChainAdapterError('GENESIS_MISMATCH', `asset ${p.asset}: genesis hash must be 0x + 64 lower-case hex digits`);
  if (!Number.isInteger(p.confirmations) || p.confirmations < 1 || p.confirmations > 10_000) throw new ChainAdapterError('INVALID_STATE', `asset ${p.asset}: confirmations must be 1..10000`);
  const tiers = validateDepthTiers(p.confirmations, p.depthTiers ?? []);
  if (tiers) throw new ChainAdapterError('INVALID_STATE', `asset ${p.asset}: ${tiers}`);
  if (p.fees.maxPriorityFeePerGas > p.fees.maxFeePerGas || p.fees.maxFeePerGas <= 0n) throw new ChainAdapterError('INVALID_STATE', `asset ${p.asset}: fee caps are inconsistent`);
  if (p.gasLimit < 21_000n) throw new ChainAdapterError('INVALID_STATE', `asset ${p.asset}: gas limit below 21000`);
  return Object.freeze({ ...p, fees: Object.freeze({ ...p.fees }), depthTiers: Object.freeze((p.depthTiers ?? []).map((t) => Object.freeze({ ...t }))) });
}

/** A Bitcoin asset (UTXO model, single-key P2WPKH wallets): application/bitcoin-withdrawals.ts. */
export interface BitcoinAssetProfile {
  /** e.g. "BTC". */
  readonly asset: string;
  /** Our chain name, e.g. "bitcoin-regtest"; must equal policy.decided's chain and the signer's key chain. */
  readonly chain: string;
  readonly network: 'mainnet' | 'testnet' | 'regtest';
  /** Fee-rate input (sat/vB) until a node estimator exists (estimatesmartfee: out of scope). */
  readonly feeRateSatPerVb: bigint;
  /** Absolute fee ceiling per transaction (sat); tx.prepared fee_cap. Above it the withdrawal waits. */
  readonly maxFeeSat: bigint;
  readonly confirmations: number;
}

export function validateBitcoinProfile(p: BitcoinAssetProfile): BitcoinAssetProfile {
  if (!/^[A-Z0-9]{2,12}$/.test(p.asset)) throw new ChainAdapterError('UNKNOWN_ASSET', `asset symbol ${JSON.stringify(p.asset)} is not valid`);
  if (!/^[a-z0-9-]{1,64}$/.test(p.chain)) throw new ChainAdapterError('INVALID_STATE', `asset ${p.asset}: chain name ${JSON.stringify(p.chain)} is not valid`);
  if (p.network !== 'mainnet' && p.network !== 'testnet' && p.network !== 'regtest') throw new ChainAdapterError('INVALID_STATE', `asset ${p.asset}: unknown network`);
  if (p.feeRateSatPerVb < 1n || p.feeRateSatPerVb > 10_000n) throw new ChainAdapterError('INVALID_STATE', `asset ${p.asset}: fee rate must be 1..10000 sat/vB`);
  if (p.maxFeeSat < 1n) throw new ChainAdapterError('INVALID_STATE', `asset ${p.asset}: a fee cap is required`);
  if (!Number.isInteger(p.confirmations) || p.confirmations < 1 || p.confirmations > 10_000) throw new ChainAdapterError('INVALID_STATE', `asset ${p.asset}: confirmations must be 1..10000`);
  return Object.freeze({ ...p });
}
