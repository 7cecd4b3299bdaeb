// Use case (C-8.3.4-c): check the custodian's own deposit/hot addresses against the
// sanctions list and the analytics provider; a flagged address (listed, rated high/severe,
// or not checkable) opens a remediation case (one open case per address) and is audited.
import { randomUUID } from 'node:crypto';
import { lookupKeys, normalizeAddress } from '../domain/address.js';
import type { Reason } from '../domain/verdict.js';
import type { Clock, RiskUnitOfWork } from './ports.js';
import type { SanctionsIndex } from './sanctions-index.js';
import { askProvider, type ScreeningDeps } from './screen-transfer.js';

export interface OwnAddress {
  readonly chain: string;
  readonly address: string;
  /** e.g. "hot wallet ETH-1", "deposit address of customer c-42". */
  readonly label: string;
}

export interface OwnAddressFinding {
  readonly address: string;
  readonly reasons: readonly Reason[];
  readonly caseId?: string | undefined;
}

export async function checkOwnAddresses(
  deps: { uow: RiskUnitOfWork; sanctions: SanctionsIndex; clock: Clock; provider?: ScreeningDeps['provider']; settings: Pick<ScreeningDeps['settings'], 'providerTimeoutMs' | 'providerThresholds' | 'listSource'> },
  addresses: readonly OwnAddress[],
  by: string,
): Promise<OwnAddressFinding[]> {
  const findings: OwnAddressFinding[] = [];
  for (const own of addresses) {
    const n = normalizeAddress(own.chain, own.address);
    const reasons: Reason[] = deps.sanctions.lookup(lookupKeys(n, own.address)).map((h) => ({ code: 'own_address_sanctioned', detail: `${own.label}: listed on ${h.source} for ${h.partyName} [${h.partyRef}]` }));
    const p = await askProvider(deps.provider, deps.settings.providerTimeoutMs, own.chain, n.value);
    if (p.status === 'ok' && p.score >= deps.settings.providerThresholds.reviewAtScore) reasons.push({ code: 'own_address_high_risk', detail: `${own.label}: ${p.provider} rates it ${p.riskLabel} (${p.score})${p.categories.length ? `: ${p.categories.join(', ')}` : ''}` });
    if (p.status === 'unavailable') reasons.push({ code: 'provider_unavailable', detail: `${own.label}: ${p.provider}: ${p.detail}` });
    if (reasons.length === 0) {
      findings.push({ address: n.value, reasons });
      continue;
    }
    const caseId = await deps.uow.run(async (tx) => {
      const now = deps.clock.now();
      const subjectId = `${own.chain}:${n.value}`;
      if (await tx.openCaseExists('own_address', subjectId)) return undefined;
      const id = randomUUID();
      const score = Math.max(0, ...reasons.map((r) => (r.code === 'own_address_sanctioned' ? 100 : r.code === 'own_address_high_risk' && p.status === 'ok' ? p.score : 0)));
      const assessmentId = randomUUID();
      await tx.saveAssessment({ id: assessmentId, subjectKind: 'own_address', subjectId, customerAccount: '', verdict: 'REVIEW', score, reasons, listVersion: deps.sanctions.loadedVersion ?? '', travelRuleRequired: false, caseId: id, assessedAt: now });
      await tx.openCase({ id, assessmentId, subjectKind: 'own_address', subjectId, customerAccount: '', score, reasons, status: 'OPEN', openedAt: now, correlationId: id });
      await tx.audit({ actor: by, action: 'own_address.flagged', subject: subjectId, detail: { label: own.label, reasons, caseId: id } }, now);
      return id;
    });
    findings.push({ address: n.value, reasons, caseId });
  }
  return findings;
}
