import { describe, expect, it } from '@jest/globals';
import type { PolicyBundle } from '../../application/policy-evaluator.js';
import { PolicyBundleError, PolicyEntrypointError, PolicyEvaluationError } from '../../domain/errors.js';
import { DECISION_ENTRYPOINT, type WasmPolicy, WasmPolicyEvaluator } from './wasm-policy-evaluator.js';

const ALLOW = { outcome: 'allow', reasons: [], approvals: { quorum: 0, roles: [], expires_in_seconds: 0 } };

function bundle(digest: string): PolicyBundle {
  return { digest, wasm: new Uint8Array([0, 0x61, 0x73, 0x6d, digest.length]), data: { limits: { version: digest } } };
}

/** A strict fake of opa-wasm's LoadedPolicy: answers from a script, fails on anything unexpected. */
class FakePolicy implements WasmPolicy {
  readonly calls: Array<{ input: unknown; entrypoint: number | string | undefined }> = [];
  readonly data: unknown[] = [];

  constructor(
    readonly entrypoints: Record<string, number>,
    private readonly answer: (input: unknown) => unknown,
    private readonly rejectData = false,
  ) {}

  setData(data: object | ArrayBuffer): void {
    if (this.rejectData) throw 'opa_abort: data too large';
    this.data.push(data);
  }

  evaluate(input: unknown, entrypoint?: number | string): unknown {
    this.calls.push({ input, entrypoint });
    return this.answer(input);
  }
}

function harness(
  answer: (input: unknown) => unknown = () => [{ result: ALLOW }],
  entrypoints: Record<string, number> = { [DECISION_ENTRYPOINT]: 0, 'custody/decision/allow': 1 },
) {
  const loads: Uint8Array[] = [];
  const policies: FakePolicy[] = [];
  const evaluator = new WasmPolicyEvaluator({
    cacheSize: 2,
    load: async (wasm) => {
      loads.push(wasm);
      const policy = new FakePolicy(entrypoints, answer);
      policies.push(policy);
      return policy;
    },
  });
  return { evaluator, loads, policies };
}

function inputSeen(policy: FakePolicy | undefined, index = 0): unknown {
  const input = policy?.calls[index]?.input;
  return input instanceof ArrayBuffer ? JSON.parse(new TextDecoder().decode(input)) : input;
}

describe('WasmPolicyEvaluator: loading', () => {
  it('loads a bundle once per digest and sets its data once', async () => {
    const { evaluator, loads, policies } = harness();
    const a = bundle('a'.repeat(64));
    await evaluator.evaluate(a, {});
    await evaluator.evaluate(a, {});
    await Promise.all([evaluator.evaluate(a, {}), evaluator.evaluate(a, {})]);
    expect(loads).toHaveLength(1);
    expect(loads[0]).toBe(a.wasm);
    expect(policies[0]?.data).toEqual([a.data]);
    expect(policies[0]?.calls).toHaveLength(4);

    await evaluator.evaluate(bundle('b'.repeat(64)), {});
    expect(loads).toHaveLength(2);
  });

  it('keeps the most recently used bundles and reloads an evicted one', async () => {
    const { evaluator, loads } = harness();
    const [a, b, c] = ['a', 'b', 'c'].map((x) => bundle(x.repeat(64))) as [PolicyBundle, PolicyBundle, PolicyBundle];
    await evaluator.evaluate(a, {});
    await evaluator.evaluate(b, {});
    await evaluator.evaluate(a, {}); // a is now the most recent
    await evaluator.evaluate(c, {}); // evicts b
    expect(evaluator.loadedDigests).toEqual([a.digest, c.digest]);
    expect(loads).toHaveLength(3);
    await evaluator.evaluate(b, {});
    expect(loads).toHaveLength(4);
    expect(evaluator.loadedDigests).toEqual([c.digest, b.digest]);
  });

  it('evaluates the decision entrypoint by its id', async () => {
    const { evaluator, policies } = harness(undefined, { 'custody/decision/allow': 0, [DECISION_ENTRYPOINT]: 7 });
    await evaluator.evaluate(bundle('a'.repeat(64)), {});
    expect(policies[0]?.calls[0]?.entrypoint).toBe(7);
  });

  it('refuses a module without the entrypoint, and does not cache the failure', async () => {
    const { evaluator, loads } = harness(undefined, { 'custody/other': 0 });
    const a = bundle('a'.repeat(64));
    const attempt = evaluator.evaluate(a, {});
    await expect(attempt).rejects.toBeInstanceOf(PolicyEntrypointError);
    await expect(attempt).rejects.toMatchObject({ code: 'POLICY_ENTRYPOINT_MISSING', entrypoint: DECISION_ENTRYPOINT, available: ['custody/other'] });
    await expect(evaluator.evaluate(a, {})).rejects.toBeInstanceOf(PolicyEntrypointError);
    expect(loads).toHaveLength(2);
    expect(evaluator.loadedDigests).toEqual([]);
  });

  it('turns loader and data failures into PolicyBundleError', async () => {
    const failing = new WasmPolicyEvaluator({
      load: async () => {
        throw new Error('WebAssembly.instantiate(): expected magic word');
      },
    });
    await expect(failing.evaluate(bundle('a'.repeat(64)), {})).rejects.toMatchObject({
      code: 'POLICY_BUNDLE_INVALID',
      message: `policy bundle ${'a'.repeat(64)} does not load: WebAssembly.instantiate(): expected magic word`,
    });
    const rejectsData = new WasmPolicyEvaluator({ load: async () => new FakePolicy({ [DECISION_ENTRYPOINT]: 0 }, () => [], true) });
    const attempt = rejectsData.evaluate(bundle('b'.repeat(64)), {});
    await expect(attempt).rejects.toBeInstanceOf(PolicyBundleError);
    await expect(attempt).rejects.toThrow('rejects its data: opa_abort: data too large');
  });

  it('rejects a cache size below one', () => {
    expect(() => new WasmPolicyEvaluator({ cacheSize: 0 })).toThrow(RangeError);
  });
});

describe('WasmPolicyEvaluator: input', () => {
  it('hands the input over as JSON with bigint amounts as decimal strings', async () => {
    const { evaluator, policies } = harness();
    await evaluator.evaluate(bundle('a'.repeat(64)), { amount: 2n ** 70n, nested: [{ hold: 5n }] });
    expect(inputSeen(policies[0])).toEqual({ amount: '1180591620717411303424', nested: [{ hold: '5' }] });
  });

  it('keeps null, false and 0 as inputs and passes undefined as no input', async () => {
    const { evaluator, policies } = harness();
    const b = bundle('a'.repeat(64));
    for (const input of [null, false, 0]) await evaluator.evaluate(b, input);
    await evaluator.evaluate(b, undefined);
    expect([0, 1, 2].map((i) => inputSeen(policies[0], i))).toEqual([null, false, 0]);
    expect(policies[0]?.calls[3]?.input).toBeUndefined();
  });

  it('refuses input that is not JSON', async () => {
    const { evaluator } = harness();
    const cyclic: Record<string, unknown> = {};
    cyclic['self'] = cyclic;
    await expect(evaluator.evaluate(bundle('a'.repeat(64)), cyclic)).rejects.toBeInstanceOf(PolicyEvaluationError);
  });
});

describe('WasmPolicyEvaluator: result normalisation (fail closed)', () => {
  const digest = 'd'.repeat(64);

  it('returns the parsed decision and the deciding bundle', async () => {
    const { evaluator } = harness();
    await expect(evaluator.evaluate(bundle(digest), {})).resolves.toEqual({
      decision: { outcome: 'allow', reasons: [], approvals: { quorum: 0, roles: [], expiresInSeconds: 0 } },
      bundleDigest: digest,
    });
  });

  it.each([
    ['an empty result set', []],
    ['a result without a value', [{}]],
  ])('denies %s with policy_undefined', async (_name, resultSet) => {
    const { evaluator } = harness(() => resultSet);
    const { decision } = await evaluator.evaluate(bundle(digest), {});
    expect(decision.outcome).toBe('deny');
    expect(decision.reasons.map((r) => r.code)).toEqual(['policy_undefined']);
  });

  it('denies a value that is not a decision with policy_output_invalid', async () => {
    const { evaluator } = harness(() => [{ result: { ...ALLOW, outcome: 'approve' } }]);
    const { decision } = await evaluator.evaluate(bundle(digest), {});
    expect(decision).toMatchObject({ outcome: 'deny', reasons: [{ code: 'policy_output_invalid', detail: 'unknown outcome "approve"' }] });
  });

  it.each<[string, unknown]>([
    ['a string (opa_abort)', 'eval_conflict_error: complete rules must not produce multiple outputs'],
    ['a plain object', { message: 'not implemented: built-in function 3: time.now_ns' }],
    ['an Error', new Error('memory access out of bounds')],
    ['a number', 42],
  ])('turns %s thrown by the SDK into PolicyEvaluationError', async (_name, thrown) => {
    const { evaluator } = harness(() => {
      throw thrown;
    });
    const attempt = evaluator.evaluate(bundle(digest), {});
    await expect(attempt).rejects.toBeInstanceOf(PolicyEvaluationError);
    await expect(attempt).rejects.toMatchObject({ code: 'POLICY_EVALUATION_FAILED', cause: thrown });
  });

  it('treats a missing or multiple result set as an evaluation error', async () => {
    await expect(harness(() => undefined).evaluator.evaluate(bundle(digest), {})).rejects.toThrow('policy evaluation returned no result set');
    await expect(harness(() => [{ result: ALLOW }, { result: ALLOW }]).evaluator.evaluate(bundle(digest), {})).rejects.toThrow('returned 2 results');
  });
});
