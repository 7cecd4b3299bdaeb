/**
 * PolicyEvaluator on OPA's Wasm SDK (@open-policy-agent/opa-wasm), in-process.
 *
 * Normalises the SDK's edges (CONVENTIONS §14):
 * - a bundle is loaded (compiled, data set) once per digest and kept in a small LRU
 *   cache: the active bundle, the previous one for rollback, a candidate for what-if;
 * - the entrypoint is resolved when loading: a module without it is a
 *   PolicyEntrypointError, never a silent evaluation of entrypoint 0;
 * - input is serialised here (bigint → decimal string) and handed over as JSON bytes,
 *   so null, false and 0 stay inputs (the SDK treats a falsy object as "no input");
 * - an empty result set (the entrypoint is undefined) is a deny `policy_undefined`;
 * - whatever the SDK throws (strings, plain objects, Errors) becomes a
 *   PolicyEvaluationError with the original as cause;
 * - the value is parsed strictly (domain/decision.ts): anything unexpected is a deny.
 */
import { loadPolicy } from '@open-policy-agent/opa-wasm';
import type { PolicyBundle, PolicyEvaluation, PolicyEvaluator } from '../../application/policy-evaluator.js';
import { type Decision, denyDecision, parseDecision, SERVICE_REASON } from '../../domain/decision.js';
import { PolicyBundleError, PolicyEntrypointError, PolicyEvaluationError } from '../../domain/errors.js';

export const DECISION_ENTRYPOINT = 'custody/decision/decision';

/** The part of opa-wasm's LoadedPolicy this adapter uses. */
export interface WasmPolicy {
  readonly entrypoints: Readonly<Record<string, number>>;
  setData(data: object | ArrayBuffer): void;
  evaluate(input: unknown, entrypoint?: number | string): unknown;
}

export type WasmPolicyLoader = (wasm: Uint8Array) => Promise<WasmPolicy>;

export interface WasmPolicyEvaluatorOptions {
  readonly entrypoint?: string;
  /** How many bundles stay loaded (default 3). */
  readonly cacheSize?: number;
  /** Replaces opa-wasm's loadPolicy (tests). */
  readonly load?: WasmPolicyLoader;
}

interface LoadedBundle {
  readonly policy: WasmPolicy;
  readonly entrypointId: number;
}

const defaultLoader: WasmPolicyLoader = async (wasm) => (await loadPolicy(wasm)) as unknown as WasmPolicy;

export class WasmPolicyEvaluator implements PolicyEvaluator {
  private readonly entrypoint: string;
  private readonly cacheSize: number;
  private readonly load: WasmPolicyLoader;
  private readonly loaded = new Map<string, Promise<LoadedBundle>>();

  constructor(options: WasmPolicyEvaluatorOptions = {}) {
    this.entrypoint = options.entrypoint ?? DECISION_ENTRYPOINT;
    this.cacheSize = options.cacheSize ?? 3;
    if (!Number.isSafeInteger(this.cacheSize) || this.cacheSize < 1) throw new RangeError('cacheSize must be a positive integer');
    this.load = options.load ?? defaultLoader;
  }

  /** Digests of the bundles currently loaded, least recently used first. */
  get loadedDigests(): readonly string[] {
    return [...this.loaded.keys()];
  }

  async evaluate(bundle: PolicyBundle, input: unknown): Promise<PolicyEvaluation> {
    const { policy, entrypointId } = await this.bundle(bundle);
    let resultSet: unknown;
    try {
      resultSet = policy.evaluate(serialiseInput(input), entrypointId);
    } catch (error) {
      throw new PolicyEvaluationError(`policy evaluation failed: ${describeThrown(error)}`, error);
    }
    return Object.freeze({ decision: decisionFrom(resultSet), bundleDigest: bundle.digest });
  }

  private bundle(bundle: PolicyBundle): Promise<LoadedBundle> {
    const cached = this.loaded.get(bundle.digest);
    if (cached !== undefined) {
      this.loaded.delete(bundle.digest);
      this.loaded.set(bundle.digest, cached);
      return cached;
    }
    const loading = this.loadBundle(bundle);
    this.loaded.set(bundle.digest, loading);
    loading.catch(() => this.loaded.delete(bundle.digest));
    while (this.loaded.size > this.cacheSize) {
      const oldest = this.loaded.keys().next().value;
      if (oldest === undefined) break;
      this.loaded.delete(oldest);
    }
    return loading;
  }

  private async loadBundle(bundle: PolicyBundle): Promise<LoadedBundle> {
    let policy: WasmPolicy;
    try {
      policy = await this.load(bundle.wasm);
    } catch (error) {
      throw new PolicyBundleError(`policy bundle ${bundle.digest} does not load: ${describeThrown(error)}`, error);
    }
    const entrypointId = policy.entrypoints[this.entrypoint];
    if (entrypointId === undefined) throw new PolicyEntrypointError(this.entrypoint, Object.keys(policy.entrypoints).sort());
    try {
      policy.setData(bundle.data);
    } catch (error) {
      throw new PolicyBundleError(`policy bundle ${bundle.digest} rejects its data: ${describeThrown(error)}`, error);
    }
    return { policy, entrypointId };
  }
}

function decisionFrom(resultSet: unknown): Decision {
  if (!Array.isArray(resultSet)) throw new PolicyEvaluationError('policy evaluation returned no result set');
  if (resultSet.length === 0) return denyDecision(SERVICE_REASON.policyUndefined, 'the policy entrypoint is undefined for this input');
  if (resultSet.length > 1) throw new PolicyEvaluationError(`policy evaluation returned ${resultSet.length} results, expected one`);
  const [only] = resultSet as [unknown];
  if (typeof only !== 'object' || only === null || !('result' in only)) {
    return denyDecision(SERVICE_REASON.policyUndefined, 'the policy entrypoint is undefined for this input');
  }
  return parseDecision((only as { result: unknown }).result);
}

function serialiseInput(input: unknown): ArrayBuffer | undefined {
  if (input === undefined) return undefined;
  let json: string | undefined;
  try {
    json = JSON.stringify(input, (_key, value: unknown) => (typeof value === 'bigint' ? value.toString(10) : value));
  } catch (error) {
    throw new PolicyEvaluationError(`policy input is not JSON: ${describeThrown(error)}`, error);
  }
  if (json === undefined) return undefined;
  const bytes = new TextEncoder().encode(json);
  return bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) as ArrayBuffer;
}

function describeThrown(error: unknown): string {
  if (error instanceof Error) return error.message;
  if (typeof error === 'string') return error;
  if (typeof error === 'object' && error !== null && 'message' in error && typeof error.message === 'string') return error.message;
  try {
    return JSON.stringify(error) ?? String(error);
  } catch {
    return String(error);
  }
}
