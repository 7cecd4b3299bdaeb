// @custody/policy — the single entry point: start the policy service on a bus.
export { composePolicy as startPolicy, createPolicyBusMetrics, prefixedTopics, POLICY_MIGRATIONS, POLICY_ENTITIES, type PolicyDeps, type PolicyHandle } from './policy.module.js';
export type { DecisionSigner, OperatorDirectory, WithdrawalFacts, WithdrawalFactsProvider, FactsRequest } from './application/ports.js';
export { localDecisionSigner, decisionSignerFromFile, parseSeed } from './adapters/keys/local-decision-signer.js';
export { StaticFactsProvider, type StaticFactsDocument } from './adapters/facts/static-facts.js';
export {
  LedgerFactsProvider,
  LedgerHoldPendingError,
  createLedgerClient,
  grpcHoldLookup,
  redeliveryFor,
  withLedgerHolds,
  type HoldLookup,
  type LedgerFactsOptions,
} from './adapters/facts/ledger-grpc-facts.js';
export { LedgerOutflowProvider, LedgerOutflowPendingError, grpcOutflowLookup, withLedgerOutflow, type OutflowLookup, type LedgerOutflowOptions } from './adapters/facts/ledger-outflow.js';
export { approvalSigningBytes, bundleActivationBytes, APPROVAL_DOMAIN, BUNDLE_ACTIVATION_DOMAIN, type ApprovalSubject, type Operator, type AdminSignature } from './domain/approval.js';
export { verifyDecisionToken, type TokenVerification, type DecisionTokenClaims } from './domain/decision-token.js';
export { WasmPolicyEvaluator } from './adapters/opa/wasm-policy-evaluator.js';
export { readBundleArchive, parseBundleArchive } from './adapters/opa/bundle-archive.js';
export { backtest, formatBacktest, type BacktestReport } from './application/backtest.js';
export { POLICY_CONSUMER_GROUPS } from './consumer-groups.js';
export { TreasuryService, TREASURY_MONITOR_ID, type WalletBalanceSource, type WalletBalanceFact, type TreasuryTransferRecord } from './application/treasury.js';
export { TREASURY_TRANSFER_PREFIX, isTreasuryTransferId, assessHotWallet, treasurySettingsFromData } from './domain/treasury.js';
export { grpcWalletBalances } from './adapters/facts/ledger-wallet-balances.js';
export { SoftwareAuthenticator } from './adapters/operators/software-authenticator.js';
export { parseOperatorDocument } from './adapters/operators/operator-file.js';
export type { DeviceAssertion, DeviceAssertionPolicy, RegisteredDevice } from './domain/device-assertion.js';
