// The chain's pause breaker (domain/breaker.ts) in the store: tripping records the breaker row
// and publishes a CHAIN_PAUSED incident (custody.incident.raised.v1, outbox) in the caller's
// transaction; resuming (operator only) clears it and publishes CHAIN_RESUMED the same way.
// It never clears by itself.
import type { BreakerRow, BreakerTripKind } from '../domain/breaker.js';
import type { IncidentRow, StoreScope } from './store.js';

export interface TripInput {
  readonly chain: string;
  readonly asset: string;
  readonly kind: BreakerTripKind;
  readonly detail: string;
  readonly depthFactor: number;
  readonly evidence?: Readonly<Record<string, string>>;
  readonly now: Date;
}

/** In the caller's transaction. Returns the incident published when this call tripped it (latched: once per trip). */
export async function tripBreaker(scope: StoreScope, t: TripInput): Promise<IncidentRow | undefined> {
  if (!(await scope.tripBreaker(t.chain, t.kind, t.detail, t.depthFactor))) return undefined;
  const incident: IncidentRow = {
    chain: t.chain,
    asset: t.asset,
    kind: 'CHAIN_PAUSED',
    severity: 'CRITICAL',
    // One incident per trip: the trip time is part of its id.
    detail: `chain ${t.chain} paused at ${t.now.toISOString()} (${t.kind}): no new withdrawal is prepared and confirmation depths are ×${t.depthFactor} until an operator resumes it — ${t.detail}`,
    evidence: { ...(t.evidence ?? {}), tripKind: t.kind, depthFactor: String(t.depthFactor), trippedAt: t.now.toISOString() },
    wallet: '',
    txHash: '',
  };
  return (await scope.recordIncident(incident)) ? incident : undefined;
}

/** Operator resume, in the caller's transaction: the row after, undefined when it was not tripped. */
export async function resumeBreaker(scope: StoreScope, r: { chain: string; asset: string; operatorId: string; reason: string; now: Date }): Promise<{ breaker: BreakerRow; incident: IncidentRow | undefined } | undefined> {
  const before = await scope.breaker(r.chain, 'update');
  const breaker = await scope.resumeBreaker(r.chain, r.operatorId, r.reason);
  if (!breaker) return undefined;
  const incident: IncidentRow = {
    chain: r.chain,
    asset: r.asset,
    kind: 'CHAIN_RESUMED',
    severity: 'WARNING',
    detail: `chain ${r.chain} resumed at ${r.now.toISOString()} by operator ${r.operatorId}: ${r.reason}`,
    evidence: { operatorId: r.operatorId, reason: r.reason, tripKind: before?.tripKind ?? '', trippedAt: before?.trippedAt?.toISOString() ?? '', resumedAt: r.now.toISOString() },
    wallet: '',
    txHash: '',
  };
  return { breaker, incident: (await scope.recordIncident(incident)) ? incident : undefined };
}
