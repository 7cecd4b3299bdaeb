// @custody/ledger — the single entry point: start the double-entry ledger on a bus.
export { composeLedger as startLedger, prefixedTopics, LEDGER_MIGRATIONS, LEDGER_ENTITIES, DEFAULT_FEE_ASSETS, type LedgerDeps, type LedgerHandle } from './ledger.module.js';
export type { PostingOutcome } from './application/postings.js';
export { customerAccount, custodianAccount, feeAccount } from './domain/postings.js';
