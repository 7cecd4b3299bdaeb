// Plumbing for the policy service's integration tests (copied from intake's): a throw-away
// database provisioned like production (owner runs migrations, app role serves), prefixed
// Kafka topics, the compiled bundle (and a candidate with different data), operators with
// Ed25519 keys, a clock the test can move.
import { execFile } from 'node:child_process';
import { cp, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import type { Metadata, ServiceError } from '@grpc/grpc-js';
import { ed25519 } from '@noble/curves/ed25519.js';
import { createLogger, errorReason } from '@custody/platform';
import { createTestDatabase as createServiceTestDatabase, type TestDatabase } from '@custody/testing';
import { operatorDirectory } from '../../src/adapters/operators/operator-file.js';
import { POLICY_ENTITIES, POLICY_MIGRATIONS, type OperatorDirectory } from '../../src/index.js';

const run = promisify(execFile);
export const root = fileURLToPath(new URL('../../../../', import.meta.url));

export { requireEnv, rand, waitFor, createPrefixedTopics, deletePrefixedTopics, type TestDatabase } from '@custody/testing';

export const quietLogger = () => createLogger({ service: 'policy-test', level: 'warn' });

/** CREATE DATABASE policy_test_<rand>, provision schema + roles, run the migrations as owner. */
export const createTestDatabase = (): Promise<TestDatabase> => createServiceTestDatabase({ service: 'policy', entities: POLICY_ENTITIES, migrations: POLICY_MIGRATIONS });

/** A clock the test can move. */
export class TestClock {
  constructor(public current: Date) {}
  now(): Date {
    return this.current;
  }
  advance(ms: number): void {
    this.current = new Date(this.current.getTime() + ms);
  }
}

export interface TestOperator {
  readonly id: string;
  readonly roles: readonly string[];
  readonly keyId: string;
  readonly secret: Uint8Array;
}

export function newOperator(id: string, roles: readonly string[]): TestOperator {
  return { id, roles, keyId: `${id}-k1`, secret: ed25519.utils.randomSecretKey() };
}

export function directoryOf(ops: readonly TestOperator[]): OperatorDirectory {
  return operatorDirectory(ops.map((o) => ({ operatorId: o.id, roles: o.roles, keys: new Map([[o.keyId, ed25519.getPublicKey(o.secret)]]) })));
}

export interface Bundles {
  /** policies/ as shipped. */
  readonly current: Uint8Array;
  /** Same rules, BTC institutional single_max lowered to 100000000 (1 BTC). */
  readonly candidate: Uint8Array;
  cleanup(): Promise<void>;
}

/** Builds the shipped bundle with scripts/policy-test.sh and a candidate with changed data. */
export async function buildBundles(): Promise<Bundles> {
  const opa = process.env['OPA_BIN'] ?? resolve(root, '.local/bin/opa');
  const dir = await mkdtemp(join(tmpdir(), 'policy-svc-'));
  await run('bash', [resolve(root, 'scripts/policy-test.sh'), 'build', join(dir, 'current')], { cwd: root, env: { ...process.env, OPA_BIN: opa } });
  const data = join(dir, 'data');
  await cp(resolve(root, 'policies/data'), data, { recursive: true });
  const limits = JSON.parse(await readFile(join(data, 'limits.json'), 'utf8')) as { limits: { version: string; assets: { BTC: { tiers: { institutional: { single_max: string } } } } } };
  limits.limits.version = 'candidate-test';
  limits.limits.assets.BTC.tiers.institutional.single_max = '100000000';
  await writeFile(join(data, 'limits.json'), JSON.stringify(limits, null, 2));
  // scripts/policy-test.sh writes the Wasm SDK's capabilities to .local/policy/capabilities.json.
  await run(opa, ['build', '-t', 'wasm', '-e', 'custody/decision/decision', '--capabilities', resolve(root, '.local/policy/capabilities.json'), '--ignore', '*_test.rego', '-o', join(dir, 'candidate.tar.gz'), 'policies/custody', data], { cwd: root });
  return {
    current: new Uint8Array(await readFile(join(dir, 'current', 'bundle.tar.gz'))),
    candidate: new Uint8Array(await readFile(join(dir, 'candidate.tar.gz'))),
    cleanup: () => rm(dir, { recursive: true, force: true }),
  };
}

/** Promisified unary call. */
export function call<Req, Res>(fn: (req: Req, md: Metadata, cb: (err: ServiceError | null, res: Res) => void) => unknown, req: Req, md: Metadata): Promise<Res> {
  return new Promise((res, rej) => {
    fn(req, md, (err, r) => (err ? rej(err) : res(r)));
  });
}

export async function failure(p: Promise<unknown>): Promise<{ code: number; reason: string | undefined }> {
  try {
    await p;
  } catch (e) {
    const err = e as ServiceError;
    return { code: err.code, reason: errorReason(err.metadata) };
  }
  throw new Error('expected the call to fail');
}
