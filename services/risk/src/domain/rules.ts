// Behavioural screening rules as DATA. A rule set is a JSON document (validated here),
// versioned, loaded from configuration; evaluating it needs no code change. Every rule
// that fires becomes a Finding (reason code = the rule's `code`).
import { z } from 'zod';
import { RiskError } from './errors.js';
import type { Finding } from './verdict.js';

const baseUnits = z.string().regex(/^(0|[1-9][0-9]{0,77})$/, 'base units as a decimal integer string');
const code = z.string().regex(/^[a-z][a-z0-9_]{1,62}$/, 'lower_snake reason code');
const seconds = z.number().int().positive().max(400 * 86_400);
const common = {
  code,
  action: z.enum(['REVIEW', 'BLOCK']),
  score: z.number().int().min(0).max(100),
  /** Transfer kinds the rule applies to; default withdrawals only. */
  appliesTo: z.array(z.enum(['withdrawal', 'deposit'])).min(1).default(['withdrawal']),
  /** An active internal allow-list entry for the counterparty suppresses this rule. */
  suppressedByAllowList: z.boolean().default(false),
};

const ruleSchema = z.discriminatedUnion('kind', [
  z.object({ ...common, kind: z.literal('velocity_sum'), scope: z.enum(['customer', 'destination']), asset: z.string().min(1), windowSeconds: seconds, maxAmount: baseUnits }).strict(),
  z.object({ ...common, kind: z.literal('velocity_count'), scope: z.enum(['customer', 'destination']), asset: z.string().min(1).optional(), windowSeconds: seconds, maxCount: z.number().int().min(0) }).strict(),
  z.object({ ...common, kind: z.literal('first_time_destination') }).strict(),
  z.object({ ...common, kind: z.literal('rapid_succession'), minIntervalSeconds: seconds }).strict(),
  z.object({ ...common, kind: z.literal('round_amount'), asset: z.string().min(1), roundUnit: baseUnits, windowSeconds: seconds, minCount: z.number().int().min(1) }).strict(),
  z.object({ ...common, kind: z.literal('below_threshold'), asset: z.string().min(1), threshold: baseUnits, marginBps: z.number().int().min(1).max(10_000), windowSeconds: seconds, minCount: z.number().int().min(1) }).strict(),
  z.object({ ...common, kind: z.literal('new_account'), maxAgeSeconds: seconds }).strict(),
]);

const ruleSetSchema = z
  .object({
    version: z.string().min(1),
    /** Total score at/above which the verdict is at least REVIEW / BLOCK. */
    reviewAtScore: z.number().int().min(1).max(100),
    blockAtScore: z.number().int().min(1).max(101),
    rules: z.array(ruleSchema),
  })
  .strict()
  .refine((s) => s.blockAtScore > s.reviewAtScore, { message: 'blockAtScore must be greater than reviewAtScore' })
  .refine((s) => new Set(s.rules.map((r) => r.code)).size === s.rules.length, { message: 'rule codes must be unique' });

export type Rule = z.infer<typeof ruleSchema>;
export type RuleSet = z.infer<typeof ruleSetSchema>;

/** Validates a rule-set document; throws RiskError('INVALID_RULES') naming every problem. */
export function parseRuleSet(document: unknown): RuleSet {
  const result = ruleSetSchema.safeParse(document);
  if (!result.success) {
    const problems = result.error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`).join('; ');
    throw new RiskError('INVALID_RULES', `invalid screening rule set: ${problems}`);
  }
  return deepFreeze(result.data);
}

function deepFreeze<T>(value: T): T {
  if (value && typeof value === 'object') {
    for (const v of Object.values(value)) deepFreeze(v);
    Object.freeze(value);
  }
  return value;
}

/** A past transfer of the customer, or to the destination (any customer). */
export interface Movement {
  readonly at: Date;
  readonly asset: string;
  readonly amount: bigint;
  readonly customerAccount: string;
  readonly counterpartyKey: string;
}

export interface BehaviourFacts {
  /** The customer's earlier movements within the longest rule window (newest first or any order). */
  readonly customerMovements: readonly Movement[];
  /** Earlier movements to this counterparty (any customer) within the longest window. */
  readonly counterpartyMovements: readonly Movement[];
  /** Has this customer ever moved funds to/from this counterparty before (no window)? */
  readonly counterpartySeenBefore: boolean;
  readonly lastCustomerMovementAt?: Date | undefined;
  readonly accountOpenedAt?: Date | undefined;
}

export interface CurrentTransfer {
  readonly kind: 'withdrawal' | 'deposit';
  readonly at: Date;
  readonly asset: string;
  readonly amount: bigint;
  readonly allowListed: boolean;
}

/** Longest window any rule needs, in seconds (what the store must load). */
export function longestWindowSeconds(ruleSet: RuleSet): number {
  let max = 0;
  for (const r of ruleSet.rules) {
    if ('windowSeconds' in r) max = Math.max(max, r.windowSeconds);
    if (r.kind === 'rapid_succession') max = Math.max(max, r.minIntervalSeconds);
  }
  return max;
}

// No upper bound: a movement recorded by an earlier (lock-ordered) screening counts even if
// its timestamp is later than this one's clock reading (clock skew between instances):
// over-counting is safe, under-counting is not.
const within = (m: Movement, now: Date, windowSeconds: number): boolean => m.at.getTime() > now.getTime() - windowSeconds * 1000;

export function evaluateRules(ruleSet: RuleSet, transfer: CurrentTransfer, facts: BehaviourFacts): Finding[] {
  const findings: Finding[] = [];
  for (const rule of ruleSet.rules) {
    if (!rule.appliesTo.includes(transfer.kind)) continue;
    if (rule.suppressedByAllowList && transfer.allowListed) continue;
    const detail = evaluateRule(rule, transfer, facts);
    if (detail !== undefined) findings.push({ code: rule.code, detail, action: rule.action, score: rule.score });
  }
  return findings;
}

function evaluateRule(rule: Rule, t: CurrentTransfer, f: BehaviourFacts): string | undefined {
  switch (rule.kind) {
    case 'velocity_sum': {
      if (t.asset !== rule.asset) return undefined;
      const pool = rule.scope === 'customer' ? f.customerMovements : f.counterpartyMovements;
      let sum = t.amount;
      for (const m of pool) if (m.asset === rule.asset && within(m, t.at, rule.windowSeconds)) sum += m.amount;
      const max = BigInt(rule.maxAmount);
      return sum > max ? `${rule.scope} ${rule.asset} sum over ${rule.windowSeconds}s is ${sum} (incl. this transfer), limit ${max}` : undefined;
    }
    case 'velocity_count': {
      if (rule.asset !== undefined && t.asset !== rule.asset) return undefined;
      const pool = rule.scope === 'customer' ? f.customerMovements : f.counterpartyMovements;
      let count = 1;
      for (const m of pool) if ((rule.asset === undefined || m.asset === rule.asset) && within(m, t.at, rule.windowSeconds)) count++;
      return count > rule.maxCount ? `${rule.scope} count over ${rule.windowSeconds}s is ${count} (incl. this transfer), limit ${rule.maxCount}` : undefined;
    }
    case 'first_time_destination':
      return f.counterpartySeenBefore ? undefined : 'first transfer of this customer with this counterparty';
    case 'rapid_succession': {
      const last = f.lastCustomerMovementAt;
      if (!last) return undefined;
      const gapMs = t.at.getTime() - last.getTime();
      return gapMs < rule.minIntervalSeconds * 1000 ? `previous transfer ${Math.max(0, Math.floor(gapMs / 1000))}s ago (minimum ${rule.minIntervalSeconds}s)` : undefined;
    }
    case 'round_amount': {
      if (t.asset !== rule.asset) return undefined;
      const unit = BigInt(rule.roundUnit);
      const isRound = (a: bigint): boolean => a > 0n && unit > 0n && a % unit === 0n;
      if (!isRound(t.amount)) return undefined;
      let count = 1;
      for (const m of f.customerMovements) if (m.asset === rule.asset && within(m, t.at, rule.windowSeconds) && isRound(m.amount)) count++;
      return count >= rule.minCount ? `${count} round-amount transfers (multiples of ${unit}) within ${rule.windowSeconds}s` : undefined;
    }
    case 'below_threshold': {
      if (t.asset !== rule.asset) return undefined;
      const threshold = BigInt(rule.threshold);
      const floor = threshold - (threshold * BigInt(rule.marginBps)) / 10_000n;
      const near = (a: bigint): boolean => a >= floor && a < threshold;
      if (!near(t.amount)) return undefined;
      let count = 1;
      for (const m of f.customerMovements) if (m.asset === rule.asset && within(m, t.at, rule.windowSeconds) && near(m.amount)) count++;
      return count >= rule.minCount ? `${count} transfers just below ${threshold} within ${rule.windowSeconds}s (structuring pattern)` : undefined;
    }
    case 'new_account': {
      if (!f.accountOpenedAt) return undefined;
      const ageMs = t.at.getTime() - f.accountOpenedAt.getTime();
      return ageMs < rule.maxAgeSeconds * 1000 ? `account opened ${Math.max(0, Math.floor(ageMs / 1000))}s ago (new-account window ${rule.maxAgeSeconds}s)` : undefined;
    }
  }
}
