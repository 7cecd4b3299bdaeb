// AuditGate: what another service's operator-facing use case calls before it performs an
// administrative action. The record is written first; if it cannot be written the action
// is refused (AuditUnavailableError) and `perform` never runs.
import type { OperatorAction } from '../domain/operator-action.js';
import type { AuditReceipt } from './audit-log.js';

export interface AuditGate {
  /** Records the action; resolves with the receipt, or throws (refuse the action). */
  record(action: OperatorAction): Promise<AuditReceipt>;
}

/** Records `action`, then performs it. Nothing is performed unless the record was written. */
export async function runAudited<T>(gate: AuditGate, action: OperatorAction, perform: (receipt: AuditReceipt) => Promise<T>): Promise<T> {
  const receipt = await gate.record(action);
  return perform(receipt);
}
