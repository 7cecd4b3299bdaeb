// The screening decision: sanctions and internal lists, list freshness, analytics
// provider, customer (KYC) status, travel rule and behavioural rules -> one verdict, a
// score and every reason that contributed. Fail closed: whatever cannot be established
// (stale or missing list, provider down, unknown customer) yields at least REVIEW, never
// CLEAR.
import { evaluateRules, type BehaviourFacts, type RuleSet } from './rules.js';
import { assessTravelRule, type TravelRuleConfig, type TravelRuleData } from './travel-rule.js';
import { maxVerdict, type Finding, type Reason, type Verdict } from './verdict.js';

export type KycStatus = 'verified' | 'pending' | 'rejected';

export interface CustomerProfile {
  readonly customerAccount: string;
  readonly kycStatus: KycStatus;
  readonly jurisdiction: string;
  readonly openedAt: Date;
}

export interface SanctionsHit {
  readonly source: string;
  readonly currency: string;
  readonly partyName: string;
  readonly partyRef: string;
}

export type ListState =
  | { readonly status: 'fresh'; readonly version: string; readonly checkedAt: Date }
  | { readonly status: 'stale'; readonly version: string; readonly checkedAt: Date; readonly maxAgeSeconds: number }
  | { readonly status: 'missing' };

export type ProviderResult =
  | { readonly status: 'ok'; readonly provider: string; readonly score: number; readonly riskLabel: string; readonly categories: readonly string[] }
  | { readonly status: 'unavailable'; readonly provider: string; readonly detail: string }
  | { readonly status: 'skipped' };

export interface ProviderThresholds {
  readonly reviewAtScore: number;
  readonly blockAtScore: number;
}

export interface ScreeningInput {
  readonly kind: 'withdrawal' | 'deposit';
  readonly at: Date;
  readonly asset: string;
  readonly amount: bigint;
  /** false when the counterparty address is invalid for its chain. */
  readonly counterpartyValid: boolean;
  readonly counterpartyInvalidDetail?: string;
  readonly customer: CustomerProfile | undefined;
  readonly list: ListState;
  readonly sanctionsHits: readonly SanctionsHit[];
  readonly internalBlock?: { readonly reason: string; readonly expiresAt?: Date | undefined } | undefined;
  readonly allowListed: boolean;
  readonly provider: ProviderResult;
  readonly providerThresholds: ProviderThresholds;
  readonly behaviour: BehaviourFacts;
  readonly ruleSet: RuleSet;
  readonly travelRule: TravelRuleConfig;
  readonly travelRuleData?: TravelRuleData | undefined;
}

export interface ScreeningResult {
  readonly verdict: Verdict;
  readonly score: number;
  readonly reasons: readonly Reason[];
  readonly travelRuleRequired: boolean;
}

export function screen(input: ScreeningInput): ScreeningResult {
  const findings: Finding[] = [];

  if (!input.counterpartyValid) {
    findings.push({ code: 'invalid_address', detail: input.counterpartyInvalidDetail ?? 'counterparty address is not valid for its chain', action: input.kind === 'withdrawal' ? 'BLOCK' : 'REVIEW', score: 100 });
  }

  for (const hit of input.sanctionsHits) {
    findings.push({ code: 'sanctioned_address', detail: `listed on ${hit.source} (Digital Currency Address - ${hit.currency}) for ${hit.partyName} [${hit.partyRef}]`, action: 'BLOCK', score: 100 });
  }
  if (input.internalBlock) {
    const until = input.internalBlock.expiresAt ? ` until ${input.internalBlock.expiresAt.toISOString()}` : '';
    findings.push({ code: 'internal_blocklist', detail: `internal block list${until}: ${input.internalBlock.reason}`, action: 'BLOCK', score: 100 });
  }

  switch (input.list.status) {
    case 'missing':
      findings.push({ code: 'list_missing', detail: 'no sanctions list has been imported', action: 'REVIEW', score: 0 });
      break;
    case 'stale':
      findings.push({ code: 'list_stale', detail: `sanctions list ${input.list.version} last confirmed ${input.list.checkedAt.toISOString()}, older than ${input.list.maxAgeSeconds}s`, action: 'REVIEW', score: 0 });
      break;
    case 'fresh':
      break;
  }

  const p = input.provider;
  if (p.status === 'unavailable') {
    findings.push({ code: 'provider_unavailable', detail: `${p.provider}: ${p.detail}`, action: 'REVIEW', score: 0 });
  } else if (p.status === 'ok') {
    const cats = p.categories.length > 0 ? ` (${p.categories.join(', ')})` : '';
    if (p.score >= input.providerThresholds.blockAtScore) {
      findings.push({ code: 'provider_severe_risk', detail: `${p.provider} rates the address ${p.riskLabel}, score ${p.score}${cats}`, action: 'BLOCK', score: p.score });
    } else if (p.score >= input.providerThresholds.reviewAtScore && !input.allowListed) {
      findings.push({ code: 'provider_high_risk', detail: `${p.provider} rates the address ${p.riskLabel}, score ${p.score}${cats}`, action: 'REVIEW', score: p.score });
    }
  }

  let travelRuleRequired = false;
  if (input.kind === 'withdrawal') {
    const c = input.customer;
    if (!c) {
      findings.push({ code: 'customer_unknown', detail: 'no customer profile (KYC) on record', action: 'REVIEW', score: 0 });
    } else if (c.kycStatus !== 'verified') {
      findings.push({ code: 'kyc_not_verified', detail: `customer KYC status is ${c.kycStatus}; withdrawals need verified identity`, action: 'BLOCK', score: 0 });
    }
    const tr = assessTravelRule(input.travelRule, c?.jurisdiction, input.asset, input.amount, input.travelRuleData ?? { originatorName: '', originatorAccount: '', beneficiaryName: '', beneficiaryAccount: '' });
    travelRuleRequired = tr.required;
    if (tr.finding) findings.push(tr.finding);
  }

  findings.push(...evaluateRules(input.ruleSet, { kind: input.kind, at: input.at, asset: input.asset, amount: input.amount, allowListed: input.allowListed }, input.behaviour));

  return decide(findings, input.ruleSet, travelRuleRequired);
}

export function decide(findings: readonly Finding[], ruleSet: Pick<RuleSet, 'reviewAtScore' | 'blockAtScore'>, travelRuleRequired: boolean): ScreeningResult {
  let byFindings: Verdict = 'CLEAR';
  let total = 0;
  for (const f of findings) {
    byFindings = maxVerdict(byFindings, f.action);
    total += f.score;
  }
  const score = Math.min(100, total);
  const byScore: Verdict = score >= ruleSet.blockAtScore ? 'BLOCK' : score >= ruleSet.reviewAtScore ? 'REVIEW' : 'CLEAR';
  const verdict = maxVerdict(byFindings, byScore);
  const reasons: Reason[] = findings.map(({ code, detail }) => ({ code, detail }));
  if (verdict !== byFindings) reasons.push({ code: 'score_threshold', detail: `total score ${score} reached the ${verdict} threshold` });
  return Object.freeze({ verdict, score, reasons: Object.freeze(reasons), travelRuleRequired });
}
