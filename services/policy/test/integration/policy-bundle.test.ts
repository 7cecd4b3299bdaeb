/**
 * Acceptance of the policy bundle (CONVENTIONS §13): the cases in policies/acceptance/*.json
 * run through the compiled Wasm module, in-process, exactly as the service will evaluate
 * them, and through `opa eval` on the Rego source (the OPA toolchain itself, not our code).
 * Both must give the expected decision, and the same one.
 *
 * The bundle is built here with scripts/policy-test.sh's own build step and the real opa
 * binary (OPA_BIN, or .local/bin/opa from scripts/infra/opa.sh).
 */
import { execFile } from 'node:child_process';
import { accessSync, constants, readdirSync, readFileSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { readBundleArchive } from '../../src/adapters/opa/bundle-archive.js';
import { WasmPolicyEvaluator } from '../../src/adapters/opa/wasm-policy-evaluator.js';
import type { PolicyBundle } from '../../src/application/policy-evaluator.js';
import { type Decision, parseDecision } from '../../src/domain/decision.js';
import { PolicyEntrypointError, PolicyEvaluationError } from '../../src/domain/errors.js';

const run = promisify(execFile);
const root = fileURLToPath(new URL('../../../../', import.meta.url));
const opa = process.env['OPA_BIN'] ?? resolve(root, '.local/bin/opa');

interface AcceptanceCase {
  readonly file: string;
  readonly name: string;
  readonly description: string;
  readonly controls: readonly string[];
  /** Absent: the request has no input document at all. */
  readonly input?: unknown;
  readonly expected: {
    readonly outcome: Decision['outcome'];
    readonly reason_codes: readonly string[];
    readonly approvals?: { readonly quorum: number; readonly roles: readonly string[]; readonly expires_in_seconds: number };
    readonly hold_until?: string;
  };
}

const acceptanceDir = resolve(root, 'policies/acceptance');
const cases: AcceptanceCase[] = readdirSync(acceptanceDir)
  .filter((f) => f.endsWith('.json'))
  .sort()
  .map((file) => ({ file, ...(JSON.parse(readFileSync(join(acceptanceDir, file), 'utf8')) as Omit<AcceptanceCase, 'file'>) }));

let workDir: string;
let bundle: PolicyBundle;
let rebuiltDigest: string;
let scriptDigest: string;
const evaluator = new WasmPolicyEvaluator();

async function buildBundle(outDir: string): Promise<void> {
  await run('bash', [resolve(root, 'scripts/policy-test.sh'), 'build', outDir], { cwd: root, env: { ...process.env, OPA_BIN: opa } });
}

/** The same decision request through `opa eval` on the Rego source and data. */
async function opaEval(c: AcceptanceCase): Promise<unknown> {
  const args = ['eval', '--format', 'json', '-d', 'policies/custody', '-d', 'policies/data'];
  if ('input' in c) args.push('--stdin-input');
  args.push('data.custody.decision.decision');
  const child = execFile(opa, args, { cwd: root, maxBuffer: 16 * 1024 * 1024 });
  child.stdin?.end('input' in c ? JSON.stringify(c.input) : '');
  const stdout = await new Promise<string>((done, fail) => {
    let out = '';
    child.stdout?.on('data', (chunk: Buffer) => (out += chunk.toString()));
    child.on('error', fail);
    child.on('close', (code) => (code === 0 ? done(out) : fail(new Error(`opa eval exited with ${code}`))));
  });
  const parsed = JSON.parse(stdout) as { result?: Array<{ expressions: Array<{ value: unknown }> }> };
  return parsed.result?.[0]?.expressions[0]?.value;
}

beforeAll(async () => {
  try {
    accessSync(opa, constants.X_OK);
  } catch {
    throw new Error(`no opa binary at ${opa}: run \`bash scripts/infra/opa.sh\` or set OPA_BIN`);
  }
  workDir = await mkdtemp(join(tmpdir(), 'custody-policy-'));
  await buildBundle(join(workDir, 'a'));
  await buildBundle(join(workDir, 'b'));
  bundle = await readBundleArchive(join(workDir, 'a', 'bundle.tar.gz'));
  rebuiltDigest = (await readBundleArchive(join(workDir, 'b', 'bundle.tar.gz'))).digest;
  scriptDigest = (await readFile(join(workDir, 'a', 'bundle.sha256'), 'utf8')).trim();
});

afterAll(async () => {
  if (workDir) await rm(workDir, { recursive: true, force: true });
});

describe('policy bundle artifact', () => {
  it('is identified by the SHA-256 the build script prints', () => {
    expect(bundle.digest).toMatch(/^[0-9a-f]{64}$/);
    expect(bundle.digest).toBe(scriptDigest);
  });

  it('is reproducible: the same sources build the same digest', () => {
    expect(rebuiltDigest).toBe(bundle.digest);
  });

  it('carries the versioned policy data', () => {
    for (const document of ['approvals', 'freezes', 'limits', 'risk', 'roles', 'tiers', 'whitelists']) {
      expect(typeof (bundle.data[document] as { version?: unknown } | undefined)?.version).toBe('string');
    }
    expect(bundle.data).not.toHaveProperty('acceptance');
  });
});

describe('acceptance cases exist for every required scenario', () => {
  it('covers the scenarios of the policy issue', () => {
    expect(cases.map((c) => c.name)).toEqual(
      expect.arrayContaining([
        'small allow',
        'over single limit deny',
        'sanctioned deny',
        'REVIEW requires approval',
        '2-of-N tier',
        '3-of-N tier incl. cold officer',
        'above hot cap requires approvals',
        'whitelist cooling-off deny',
        'maintenance freeze deny',
        'new-account hold',
        'malformed input deny',
      ]),
    );
  });
});

describe.each(cases.map((c) => [`${c.name} [${c.controls.join(', ')}] (${c.file})`, c] as const))('%s', (_title, c) => {
  it('the compiled Wasm bundle decides as expected', async () => {
    const { decision, bundleDigest } = await evaluator.evaluate(bundle, c.input);
    expect(bundleDigest).toBe(bundle.digest);
    expect(decision.outcome).toBe(c.expected.outcome);
    expect(decision.reasons.map((r) => r.code)).toEqual(c.expected.reason_codes);
    for (const reason of decision.reasons) expect(reason.detail.length).toBeGreaterThan(0);
    if (c.expected.approvals !== undefined) {
      expect(decision.approvals).toEqual({
        quorum: c.expected.approvals.quorum,
        roles: c.expected.approvals.roles,
        expiresInSeconds: c.expected.approvals.expires_in_seconds,
      });
    }
    if (c.expected.outcome === 'hold') expect(decision).toHaveProperty('holdUntil', c.expected.hold_until);
    else expect(decision).not.toHaveProperty('holdUntil');
  });

  it('opa eval on the Rego source gives the identical decision', async () => {
    const [fromWasm, fromOpa] = await Promise.all([evaluator.evaluate(bundle, c.input), opaEval(c)]);
    expect(fromOpa).toBeDefined();
    expect(parseDecision(fromOpa)).toEqual(fromWasm.decision);
  });
});

describe('the Wasm evaluator on real OPA modules', () => {
  it('evaluates bigint amounts exactly like their decimal strings', async () => {
    const small = cases.find((c) => c.name === 'small allow');
    const input = small?.input as Record<string, unknown>;
    const withBigints = {
      ...input,
      amount: 1000000n,
      velocity: { rolling_24h_total: 3000000n },
      ledger_hold: { id: 'hold-0001', amount: 1000000n },
    };
    const [asStrings, asBigints] = await Promise.all([evaluator.evaluate(bundle, input), evaluator.evaluate(bundle, withBigints)]);
    expect(asBigints.decision).toEqual(asStrings.decision);
    expect(asBigints.decision.outcome).toBe('allow');
  });

  it('refuses a bundle without the configured entrypoint', async () => {
    const wrong = new WasmPolicyEvaluator({ entrypoint: 'custody/decision/nope' });
    const attempt = wrong.evaluate(bundle, {});
    await expect(attempt).rejects.toBeInstanceOf(PolicyEntrypointError);
    await expect(attempt).rejects.toMatchObject({ entrypoint: 'custody/decision/nope', available: expect.arrayContaining(['custody/decision/decision']) });
  });

  describe('a module whose entrypoints can be undefined or fail', () => {
    let edge: PolicyBundle;

    beforeAll(async () => {
      const dir = join(workDir, 'edge');
      await run('mkdir', ['-p', dir]);
      await writeFile(
        join(dir, 'edge.rego'),
        ['package edge', '', 'maybe := input.value', '', 'conflict := 1 if input.a', '', 'conflict := 2 if input.a', ''].join('\n'),
      );
      await run(opa, ['build', '-t', 'wasm', '-e', 'edge/maybe', '-e', 'edge/conflict', '-o', join(dir, 'bundle.tar.gz'), join(dir, 'edge.rego')]);
      edge = await readBundleArchive(join(dir, 'bundle.tar.gz'));
    });

    it('denies with policy_undefined when the entrypoint is undefined (empty result set)', async () => {
      const maybe = new WasmPolicyEvaluator({ entrypoint: 'edge/maybe' });
      const { decision } = await maybe.evaluate(edge, { other: 1 });
      expect(decision).toEqual({
        outcome: 'deny',
        reasons: [{ code: 'policy_undefined', detail: 'the policy entrypoint is undefined for this input' }],
        approvals: { quorum: 0, roles: [], expiresInSeconds: 0 },
      });
    });

    it('denies with policy_output_invalid when the entrypoint is not a decision', async () => {
      const maybe = new WasmPolicyEvaluator({ entrypoint: 'edge/maybe' });
      const { decision } = await maybe.evaluate(edge, { value: { outcome: 'allow' } });
      expect(decision.outcome).toBe('deny');
      expect(decision.reasons.map((r) => r.code)).toEqual(['policy_output_invalid']);
    });

    it('turns a runtime conflict inside the module into PolicyEvaluationError', async () => {
      const conflict = new WasmPolicyEvaluator({ entrypoint: 'edge/conflict' });
      await expect(conflict.evaluate(edge, { a: true })).rejects.toBeInstanceOf(PolicyEvaluationError);
      await expect(conflict.evaluate(edge, { a: true })).rejects.toThrow(/conflict/);
    });
  });
});
