// Chain incidents as custody.incident.raised.v1 (source "chain-adapter"): a stable incident id
// (the same finding recorded and published once), a severity and machine-readable evidence.
// The store writes the chain_incident row and enqueues this event in the same transaction.
import { createHash } from 'node:crypto';
import { IncidentRaised, IncidentSeverity, timestampFromDate } from '@custody/contracts';
import type { IncidentRow, OutEvent } from './store.js';

export const INCIDENT_SOURCE = 'chain-adapter';

/** `chain-adapter:<chain>:<kind>:<32 hex>`; the hex is sha-256 over chain, kind, wallet, tx hash and detail. */
export function incidentIdOf(i: IncidentRow): string {
  if (i.incidentId) return i.incidentId;
  const digest = createHash('sha256').update(JSON.stringify([i.chain, i.kind, i.wallet, i.txHash, i.detail])).digest('hex');
  return `${INCIDENT_SOURCE}:${i.chain}:${i.kind}:${digest.slice(0, 32)}`;
}

/** A refused signature changed nothing on chain (WARNING); everything else needs a human now (CRITICAL). */
export function severityOf(i: IncidentRow): 'WARNING' | 'CRITICAL' {
  return i.severity ?? (i.kind === 'SIGNED_TX_MISMATCH' ? 'WARNING' : 'CRITICAL');
}

export function incidentEvent(i: IncidentRow, now: Date): OutEvent {
  const incidentId = incidentIdOf(i);
  const evidence: Record<string, string> = { ...(i.evidence ?? {}), kind: i.kind, chain: i.chain };
  if (i.wallet) evidence['wallet'] = i.wallet;
  if (i.txHash) evidence['txHash'] = i.txHash;
  return {
    type: 'incident.raised',
    correlationId: incidentId,
    message: IncidentRaised.fromPartial({
      incidentId,
      source: INCIDENT_SOURCE,
      kind: i.kind,
      severity: severityOf(i) === 'WARNING' ? IncidentSeverity.INCIDENT_SEVERITY_WARNING : IncidentSeverity.INCIDENT_SEVERITY_CRITICAL,
      chain: i.chain,
      asset: i.asset ?? '',
      wallet: i.wallet,
      detail: i.detail,
      evidenceJson: JSON.stringify(evidence),
      raisedAt: timestampFromDate(now),
    }),
  };
}
