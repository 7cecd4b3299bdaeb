// @custody/audit — the single entry point: start the audit log on a bus.
export { composeAudit as startAudit, prefixedTopics, AUDIT_MIGRATIONS, AUDIT_ENTITIES, type AuditDeps, type AuditHandle } from './audit.module.js';
export { runAudited, type AuditGate } from './application/gate.js';
export { createOperatorActionGate, type OperatorActionGate, type OperatorActionGateOptions } from './client/operator-action-gate.js';
export type { AuditReceipt } from './application/audit-log.js';
export type { CheckpointSigner } from './application/ports.js';
export type { OperatorAction } from './domain/operator-action.js';
export { AuditUnavailableError } from './domain/errors.js';
export { LocalEd25519Signer } from './adapters/keys/ed25519-signer.js';
export { encodeRecord, encodeCheckpoint, recordHash, GENESIS_HASH } from './domain/canonical.js';
export type { VerificationReport, ChainBreak, BreakKind } from './domain/verify.js';
export { AUDIT_CONSUMER_GROUPS } from './consumer-groups.js';
