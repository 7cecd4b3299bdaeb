/**
 * Port: evaluates a decision request against a compiled policy bundle.
 *
 * Implemented by adapters/opa/wasm-policy-evaluator.ts (OPA Wasm, in-process). Never
 * compiles Rego at runtime: a bundle is the immutable artifact scripts/policy-test.sh
 * builds, identified by the SHA-256 of its archive.
 */
import type { Decision } from '../domain/decision.js';

export interface PolicyBundle {
  /** SHA-256 of the bundle archive, lowercase hex: the policy version. */
  readonly digest: string;
  /** The compiled module (policy.wasm). */
  readonly wasm: Uint8Array;
  /** The policy data (data.json). */
  readonly data: Readonly<Record<string, unknown>>;
}

export interface PolicyEvaluation {
  readonly decision: Decision;
  /** The bundle that decided. */
  readonly bundleDigest: string;
}

export interface PolicyEvaluator {
  /**
   * Decides `input` (the policy input document, amounts as decimal strings or bigint)
   * with `bundle`. An undefined or unreadable policy result is a deny; a bundle that
   * cannot be loaded or an evaluation that fails rejects with a PolicyError.
   */
  evaluate(bundle: PolicyBundle, input: unknown): Promise<PolicyEvaluation>;
}
