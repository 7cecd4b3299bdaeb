/**
 * What-if / backtest: replays stored decision inputs against a candidate bundle and
 * reports which outcomes change and why (the reason codes on each side), before anyone
 * activates it. Inputs are replayed verbatim, including their recorded `now`, so a
 * difference comes from the bundle alone.
 */
import type { Decision } from '../domain/decision.js';
import type { PolicyInput } from '../domain/policy-input.js';
import type { PolicyBundle, PolicyEvaluator } from './policy-evaluator.js';

export interface StoredEvaluation {
  readonly id: string;
  readonly decisionId: string;
  readonly withdrawalId: string;
  readonly input: PolicyInput;
  readonly output: Decision;
  readonly bundleDigest: string;
  readonly evaluatedAt: Date;
}

export interface BacktestChange {
  readonly evaluation: StoredEvaluation;
  readonly before: { readonly outcome: string; readonly reasons: readonly string[]; readonly quorum: number };
  readonly after: { readonly outcome: string; readonly reasons: readonly string[]; readonly quorum: number };
}

export interface BacktestReport {
  readonly candidateDigest: string;
  readonly replayed: number;
  readonly unchanged: number;
  readonly changes: readonly BacktestChange[];
  /** outcome transitions, e.g. "allow -> deny": count */
  readonly transitions: Readonly<Record<string, number>>;
}

const summary = (d: Decision) => ({ outcome: d.outcome, reasons: d.reasons.map((r) => r.code).sort(), quorum: d.approvals.quorum });

/** `onProgress(done, total)` is told after every `progressEvery` replays (long backtests: `custody policy backtest`). */
export async function backtest(
  evaluator: PolicyEvaluator,
  candidate: PolicyBundle,
  evaluations: readonly StoredEvaluation[],
  onProgress?: (done: number, total: number) => void,
  progressEvery = 500,
): Promise<BacktestReport> {
  const changes: BacktestChange[] = [];
  const transitions: Record<string, number> = {};
  let done = 0;
  for (const e of evaluations) {
    if (onProgress && done > 0 && done % progressEvery === 0) onProgress(done, evaluations.length);
    done++;
    const { decision } = await evaluator.evaluate(candidate, e.input);
    const before = summary(e.output);
    const after = summary(decision);
    if (before.outcome !== after.outcome || before.reasons.join() !== after.reasons.join() || before.quorum !== after.quorum) {
      changes.push({ evaluation: e, before, after });
      const key = `${before.outcome} -> ${after.outcome}`;
      transitions[key] = (transitions[key] ?? 0) + 1;
    }
  }
  return { candidateDigest: candidate.digest, replayed: evaluations.length, unchanged: evaluations.length - changes.length, changes, transitions };
}

export function formatBacktest(r: BacktestReport): string {
  const lines = [`candidate bundle ${r.candidateDigest}`, `replayed ${r.replayed} stored evaluations: ${r.unchanged} unchanged, ${r.changes.length} changed`];
  for (const [k, n] of Object.entries(r.transitions).sort()) lines.push(`  ${k}: ${n}`);
  for (const c of r.changes) {
    lines.push(
      `- withdrawal ${c.evaluation.withdrawalId} (decision ${c.evaluation.decisionId}, evaluated ${c.evaluation.evaluatedAt.toISOString()} by ${c.evaluation.bundleDigest.slice(0, 12)}):` +
        ` ${c.before.outcome} [${c.before.reasons.join(', ')}] q=${c.before.quorum} -> ${c.after.outcome} [${c.after.reasons.join(', ')}] q=${c.after.quorum}`,
    );
  }
  return lines.join('\n');
}
