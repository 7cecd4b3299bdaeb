// Use case: screen one withdrawal (outbound) or deposit (inbound), store the assessment,
// open a case when a person must look, and emit custody.risk.assessed.v1 — all in the
// transaction that also records the inbound event in the inbox (exactly once).
import { randomUUID } from 'node:crypto';
import { lookupKeys, normalizeAddress, type NormalizedAddress } from '../domain/address.js';
import { isDomainError } from '@custody/platform';
import { listState } from '../domain/lists.js';
import { longestWindowSeconds, type RuleSet } from '../domain/rules.js';
import { screen, type ProviderResult, type ProviderThresholds, type ScreeningResult } from '../domain/screening.js';
import type { TravelRuleConfig, TravelRuleData } from '../domain/travel-rule.js';
import { maxVerdict, type Reason } from '../domain/verdict.js';
import type { AddressRiskProvider, Assessment, Clock, EventMeta, RiskTx, RiskUnitOfWork, SubjectKind } from './ports.js';
import type { SanctionsIndex } from './sanctions-index.js';

export interface ScreeningSettings {
  readonly ruleSet: RuleSet;
  readonly travelRule: TravelRuleConfig;
  readonly providerThresholds: ProviderThresholds;
  readonly providerTimeoutMs: number;
  readonly listMaxAgeSeconds: number;
  readonly listSource: string;
  /** Inbound deposits from at most this many source addresses are screened individually. */
  readonly maxDepositSources: number;
}

export interface ScreeningDeps {
  readonly uow: RiskUnitOfWork;
  readonly sanctions: SanctionsIndex;
  readonly provider?: AddressRiskProvider | undefined;
  readonly clock: Clock;
  readonly settings: ScreeningSettings;
  readonly consumerGroup: string;
  readonly newId?: () => string;
}

export interface TransferToScreen {
  readonly kind: 'withdrawal' | 'deposit';
  /** Withdrawal id or deposit id. */
  readonly subjectId: string;
  readonly customerAccount: string;
  readonly chain: string;
  readonly asset: string;
  readonly amount: bigint;
  /** Destination (withdrawal) or source addresses (deposit). */
  readonly counterparties: readonly string[];
  readonly travelRuleData?: TravelRuleData | undefined;
  /** Inbox key: the envelope id of the event being handled. */
  readonly eventId: string;
  readonly meta: EventMeta;
}

interface Counterparty {
  readonly raw: string;
  readonly normalized?: NormalizedAddress | undefined;
  readonly invalidDetail?: string | undefined;
  readonly provider: ProviderResult;
}

export async function screenTransfer(deps: ScreeningDeps, t: TransferToScreen): Promise<Assessment | undefined> {
  const counterparties = await Promise.all(t.counterparties.slice(0, Math.max(1, deps.settings.maxDepositSources)).map((raw) => prepare(deps, t.chain, raw)));
  const outcome = await deps.uow.once(deps.consumerGroup, t.eventId, (tx) => screenInTx(deps, tx, t, counterparties));
  return outcome.status === 'handled' ? outcome.result : undefined;
}

async function prepare(deps: ScreeningDeps, chain: string, raw: string): Promise<Counterparty> {
  let normalized: NormalizedAddress;
  try {
    normalized = normalizeAddress(chain, raw);
  } catch (e) {
    if (isDomainError(e)) return { raw, invalidDetail: e.publicMessage, provider: { status: 'skipped' } };
    throw e;
  }
  return { raw, normalized, provider: await askProvider(deps.provider, deps.settings.providerTimeoutMs, chain, normalized.value) };
}

/** Provider call with a hard timeout; any failure is a value ('unavailable'), never a pass. */
export async function askProvider(provider: AddressRiskProvider | undefined, timeoutMs: number, chain: string, address: string): Promise<ProviderResult> {
  if (!provider) return { status: 'skipped' };
  const controller = new AbortController();
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<ProviderResult>((resolve) => {
    timer = setTimeout(() => {
      controller.abort();
      resolve({ status: 'unavailable', provider: provider.name, detail: `no answer within ${timeoutMs}ms` });
    }, timeoutMs);
  });
  const call = provider.assess({ chain, address }, controller.signal).then(
    (a): ProviderResult => (a.status === 'ok' ? { status: 'ok', provider: provider.name, score: a.score, riskLabel: a.riskLabel, categories: a.categories } : { status: 'unavailable', provider: provider.name, detail: a.detail }),
    (e: unknown): ProviderResult => ({ status: 'unavailable', provider: provider.name, detail: e instanceof Error ? e.message.slice(0, 200) : 'error' }),
  );
  try {
    return await Promise.race([call, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

async function screenInTx(deps: ScreeningDeps, tx: RiskTx, t: TransferToScreen, counterparties: readonly Counterparty[]): Promise<Assessment | undefined> {
  const s = deps.settings;
  if (!(await tx.claimSubject(t.kind, t.subjectId))) return undefined;
  const withdrawal = t.kind === 'withdrawal';
  if (withdrawal) {
    // Take the locks BEFORE reading the clock and the movements: lock order = time order,
    // so every screening sees every movement of the screenings serialised before it.
    // Order customer -> counterparties (sorted) everywhere: no deadlock cycles.
    await tx.lockCustomer(t.customerAccount);
    for (const key of [...new Set(counterparties.map(counterpartyKey))].sort()) await tx.lockCounterparty(key);
  }
  const now = deps.clock.now();
  const current = await tx.currentList(s.listSource);
  await deps.sanctions.ensure(current?.version);
  const list = listState(current, now, s.listMaxAgeSeconds);
  const customer = t.customerAccount ? await tx.customer(t.customerAccount) : undefined;

  const results: ScreeningResult[] = [];
  if (counterparties.length === 0) {
    results.push({ verdict: 'REVIEW', score: 0, travelRuleRequired: false, reasons: [{ code: 'counterparty_unknown', detail: `no ${t.kind === 'deposit' ? 'source' : 'destination'} address to screen` }] });
  }
  for (const cp of counterparties) {
    const key = counterpartyKey(cp);
    const keys = cp.normalized ? lookupKeys(cp.normalized, cp.raw) : [`other:${cp.raw}`];
    const internal = await tx.internalLists(keys, now);
    const since = new Date(now.getTime() - longestWindowSeconds(s.ruleSet) * 1000);
    const rows = withdrawal ? await tx.behaviour(t.customerAccount, key, since) : { customerMovements: [], counterpartyMovements: [], counterpartySeenBefore: true };
    results.push(
      screen({
        kind: t.kind,
        at: now,
        asset: t.asset,
        amount: t.amount,
        counterpartyValid: cp.normalized !== undefined,
        counterpartyInvalidDetail: cp.invalidDetail,
        customer,
        list,
        sanctionsHits: deps.sanctions.lookup(keys),
        internalBlock: internal.block,
        allowListed: internal.allow,
        provider: cp.provider,
        providerThresholds: s.providerThresholds,
        behaviour: { ...rows, accountOpenedAt: customer?.openedAt },
        ruleSet: s.ruleSet,
        travelRule: s.travelRule,
        travelRuleData: t.travelRuleData,
      }),
    );
    if (withdrawal) await tx.recordMovement({ at: now, asset: t.asset, amount: t.amount, customerAccount: t.customerAccount, counterpartyKey: key, subjectId: t.subjectId });
  }
  const combined = combine(results);
  const assessmentId = (deps.newId ?? randomUUID)();
  const needsCase = combined.verdict === 'REVIEW' || (t.kind === 'deposit' && combined.verdict === 'BLOCK');
  const caseId = needsCase ? (deps.newId ?? randomUUID)() : undefined;
  const assessment: Assessment = {
    id: assessmentId,
    subjectKind: t.kind,
    subjectId: t.subjectId,
    customerAccount: t.customerAccount,
    verdict: combined.verdict,
    score: combined.score,
    reasons: combined.reasons,
    listVersion: current?.version ?? '',
    listsUpdatedAt: current?.checkedAt,
    travelRuleRequired: combined.travelRuleRequired,
    caseId,
    assessedAt: now,
  };
  await tx.saveAssessment(assessment);
  if (caseId) {
    await tx.openCase({ id: caseId, assessmentId, subjectKind: t.kind, subjectId: t.subjectId, customerAccount: t.customerAccount, score: combined.score, reasons: combined.reasons, status: 'OPEN', openedAt: now, correlationId: t.meta.correlationId });
  }
  await tx.emitAssessed(assessment, t.meta);
  return assessment;
}

const counterpartyKey = (cp: Counterparty): string => cp.normalized?.key ?? `invalid:${cp.raw}`;

function combine(results: readonly ScreeningResult[]): ScreeningResult {
  if (results.length === 1 && results[0]) return results[0];
  let verdict: ScreeningResult['verdict'] = 'CLEAR';
  let score = 0;
  let travelRuleRequired = false;
  const reasons: Reason[] = [];
  const seen = new Set<string>();
  for (const r of results) {
    verdict = maxVerdict(verdict, r.verdict);
    score = Math.max(score, r.score);
    travelRuleRequired ||= r.travelRuleRequired;
    for (const reason of r.reasons) {
      const id = `${reason.code}\n${reason.detail}`;
      if (!seen.has(id)) {
        seen.add(id);
        reasons.push(reason);
      }
    }
  }
  return { verdict, score, reasons, travelRuleRequired };
}

export type { SubjectKind };
