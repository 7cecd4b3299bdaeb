// Travel rule (FATF Recommendation 16): transfers at or above a per-jurisdiction, per-asset
// threshold need originator and beneficiary information; missing information holds the
// transfer for review. Thresholds are configuration data, in base units (no FX here).
import { z } from 'zod';
import { RiskError } from './errors.js';
import type { Finding } from './verdict.js';

const baseUnits = z.string().regex(/^(0|[1-9][0-9]{0,77})$/);
const schema = z
  .object({
    /** jurisdiction -> asset -> threshold (base units). "*" as asset applies to every other asset. */
    thresholds: z.record(z.string().min(1), z.record(z.string().min(1), baseUnits)),
    /** Used when the customer's jurisdiction has no entry (fail closed: choose it low). */
    defaultJurisdiction: z.string().min(1),
  })
  .strict()
  .refine((c) => c.defaultJurisdiction in c.thresholds, { message: 'defaultJurisdiction must have thresholds' });

export interface TravelRuleConfig {
  readonly thresholds: Readonly<Record<string, Readonly<Record<string, bigint>>>>;
  readonly defaultJurisdiction: string;
}

export function parseTravelRuleConfig(document: unknown): TravelRuleConfig {
  const r = schema.safeParse(document);
  if (!r.success) throw new RiskError('INVALID_RULES', `invalid travel-rule config: ${r.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`);
  const thresholds: Record<string, Record<string, bigint>> = {};
  for (const [j, assets] of Object.entries(r.data.thresholds)) {
    thresholds[j] = Object.freeze(Object.fromEntries(Object.entries(assets).map(([a, v]) => [a, BigInt(v)])));
  }
  return Object.freeze({ thresholds: Object.freeze(thresholds), defaultJurisdiction: r.data.defaultJurisdiction });
}

export interface TravelRuleData {
  readonly originatorName: string;
  readonly originatorAccount: string;
  readonly beneficiaryName: string;
  readonly beneficiaryAccount: string;
}

/** Threshold for (jurisdiction, asset); undefined = the rule does not apply to this asset. */
export function travelRuleThreshold(config: TravelRuleConfig, jurisdiction: string | undefined, asset: string): bigint | undefined {
  const table = (jurisdiction !== undefined ? config.thresholds[jurisdiction] : undefined) ?? config.thresholds[config.defaultJurisdiction];
  return table?.[asset] ?? table?.['*'];
}

export interface TravelRuleOutcome {
  readonly required: boolean;
  readonly finding?: Finding;
}

export function assessTravelRule(config: TravelRuleConfig, jurisdiction: string | undefined, asset: string, amount: bigint, data: TravelRuleData): TravelRuleOutcome {
  const threshold = travelRuleThreshold(config, jurisdiction, asset);
  if (threshold === undefined || amount < threshold) return { required: false };
  const missing = (['originatorName', 'originatorAccount', 'beneficiaryName', 'beneficiaryAccount'] as const).filter((k) => data[k].trim().length === 0);
  if (missing.length === 0) return { required: true };
  const where = jurisdiction ?? config.defaultJurisdiction;
  return {
    required: true,
    finding: {
      code: 'travel_rule_missing_info',
      detail: `amount ${amount} ${asset} is at/above the ${where} travel-rule threshold ${threshold}; missing ${missing.join(', ')}`,
      action: 'REVIEW',
      score: 0,
    },
  };
}
