// @custody/ledger — the single entry point: start the double-entry ledger on a bus.
export { composeLedger as startLedger, prefixedTopics, LEDGER_MIGRATIONS, LEDGER_ENTITIES, DEFAULT_FEE_ASSETS, type LedgerDeps, type LedgerHandle } from './ledger.module.js';
export type { PostingOutcome } from './application/postings.js';
export { customerAccount, custodianAccount, depositsAccount, feeAccount, walletAccount, DEPOSITS_WALLET } from './domain/postings.js';
export { GrpcChainSnapshotSource, snapshotFromResponse, type ChainQueryEndpoint } from './adapters/grpc/chain-query-client.js';
export type { ReconciliationRun, ReconciliationTarget, ChainSnapshotSource } from './application/reconciliation.js';
export { LEDGER_CONSUMER_GROUPS } from './consumer-groups.js';
