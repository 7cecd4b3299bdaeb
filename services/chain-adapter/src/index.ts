// @custody/chain-adapter — the single entry point: build, broadcast and follow transactions.
export {
  composeChainAdapter as startChainAdapter,
  prefixedTopics,
  CHAIN_ADAPTER_MIGRATIONS,
  CHAIN_ADAPTER_ENTITIES,
  type ChainAdapterDeps,
  type ChainAdapterHandle,
  type BitcoinOnlyHandle,
  type BitcoinOnlyDeps,
} from './chain-adapter.module.js';
export type { BitcoinAssetProfile, EvmAssetProfile } from './domain/assets.js';
export type { DepthTier } from './domain/finality.js';
export type { BreakerPolicy } from './domain/breaker.js';
export type { ChainOperator } from './application/operator-auth.js';
export { adminSigningDigest, AdminHeaders } from './application/operator-auth.js';
export type { EvmChain } from './application/ports.js';
export { EvmJsonRpc } from './adapters/chain/evm-json-rpc.js';
export { CHAIN_ADAPTER_CONSUMER_GROUPS } from './consumer-groups.js';
