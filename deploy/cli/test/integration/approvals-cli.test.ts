// The BUILT `custody` CLI (node deploy/cli/dist/main.js, a child process) against the REAL
// policy service: startPolicy on real PostgreSQL (a throw-away database provisioned like
// production), the compiled Wasm bundle of policies/, the in-process bus (as the embedded
// default runs it). A 1.5 BTC institutional withdrawal is held for a dual approval
// (compliance + treasury); two operators approve it with the CLI, one with a PKCS#8 PEM key
// file and one with a hex seed, and the decision becomes ALLOW. A wrong key is refused with
// the server's reason (exit 1); a client certificate from another CA, plaintext, or a stopped
// server is unreachable (exit 3). Then `custody policy backtest` replays the stored decision
// inputs of the same database against a candidate bundle with a lower BTC institutional limit:
// the approved 1.5 BTC would be denied (exit 1, reasons on each side); the active bundle changes
// nothing (exit 0); an unreachable database is exit 3.
import { execFile, execFileSync } from 'node:child_process';
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { ed25519 } from '@noble/curves/ed25519.js';
import { PolicyDecision, RiskAssessed, RiskVerdict, Topics, WithdrawalRequested, decodePayload, encodeEvent, timestampFromDate, topicVersion, type EventMessages, type EventType, type PolicyDecided } from '@custody/contracts';
import { InProcessBus, createEnvelope, protobufEnvelopeCodec, type Subscription } from '@custody/event-bus';
import { createLogger } from '@custody/platform';
// The composition layer may start a service (as deploy/embedded does); the whole-graph rule is
// checked by scripts/workspace/boundaries.spec.ts.
// eslint-disable-next-line @nx/enforce-module-boundaries
import { POLICY_ENTITIES, POLICY_MIGRATIONS, localDecisionSigner, startPolicy, type Operator, type PolicyHandle, type WithdrawalFactsProvider } from '@custody/policy';
import { createTestDatabase, rand, waitFor, type TestDatabase } from '@custody/testing';
import { cli, root, type Cli } from './support.js';

const run = promisify(execFile);
const now = new Date('2025-06-02T10:00:00Z');
const DEST = 'bc1qinstitutionalvaultxxxxxxxxxxxxxxxxxx';

/** The JSON document a --json command printed on stdout. */
const json = <T>(r: Cli): T => JSON.parse(r.stdout) as T;

let dir: string;
let db: TestDatabase;
let bus: InProcessBus;
let policy: PolicyHandle;
let policyStopped = false;
let server: string[];
let observer: Subscription;
const decided: PolicyDecided[] = [];

// Operators from the shipped policies/data/roles.json (the Rego checks the roles too).
const alice = generateKeyPairSync('ed25519');
const alicePem = alice.privateKey.export({ format: 'pem', type: 'pkcs8' }).toString();
const aliceWrongPem = generateKeyPairSync('ed25519').privateKey.export({ format: 'pem', type: 'pkcs8' }).toString();
const bobSeed = randomBytes(32);
const operators: Operator[] = [
  { operatorId: 'op-alice', roles: ['compliance'], keys: new Map([['op-alice-k1', new Uint8Array(Buffer.from(String(alice.publicKey.export({ format: 'jwk' }).x), 'base64url'))]]) },
  { operatorId: 'op-bob', roles: ['treasury'], keys: new Map([['op-bob-k1', ed25519.getPublicKey(new Uint8Array(bobSeed))]]) },
];
const keyFiles = { alice: '', aliceWrong: '', bob: '' };

const facts: WithdrawalFactsProvider = {
  factsFor: (r) =>
    Promise.resolve({
      account: { id: 'acct-inst-1', tier: 'institutional', openedAt: '2023-01-01T00:00:00Z' },
      sourceWallet: { id: 'btc-hot-01', tier: 'hot' as const },
      ledgerHold: { id: `hold-${r.withdrawalId}`, amount: r.amount },
    }),
};

async function publish<K extends EventType>(type: K, key: string, message: EventMessages[K]): Promise<void> {
  const envelope = createEnvelope({ type, key, correlationId: `corr-${rand()}`, producer: 'test', schemaVersion: topicVersion(type), payload: encodeEvent(type, message) });
  await bus.publish([{ topic: type, key, value: protobufEnvelopeCodec.encode(envelope) }]);
}

/** Submits a 1.5 BTC withdrawal (dual approval) and waits for its REQUIRE_APPROVAL decision id. */
async function heldWithdrawal(): Promise<{ withdrawalId: string; decisionId: string }> {
  const withdrawalId = `wd-${rand()}`;
  await publish(
    Topics.withdrawalRequested,
    withdrawalId,
    WithdrawalRequested.fromPartial({ withdrawalId, clientId: 'client-acme', customerAccount: 'acct-inst-1', asset: 'BTC', chain: 'bitcoin-mainnet', amount: '150000000', destinationAddress: DEST, requestedAt: timestampFromDate(now) }),
  );
  await publish(
    Topics.riskAssessed,
    withdrawalId,
    RiskAssessed.fromPartial({ assessmentId: `as-${withdrawalId}`, withdrawalId, verdict: RiskVerdict.RISK_VERDICT_CLEAR, score: 12, reasons: [], assessedAt: timestampFromDate(new Date(now.getTime() - 120_000)) }),
  );
  await waitFor(() => decided.some((d) => d.withdrawalId === withdrawalId), 30_000, () => `policy.decided for ${withdrawalId}`);
  return { withdrawalId, decisionId: decided.find((d) => d.withdrawalId === withdrawalId)?.decisionId ?? '' };
}

/** A CA, the server's certificate (127.0.0.1), an operator client certificate; and a rogue CA with its own client. */
function makeCertificates(cwd: string): void {
  const ssl = (...args: string[]) => execFileSync('openssl', args, { cwd, stdio: 'pipe' });
  const key = (name: string) => ssl('genpkey', '-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:P-256', '-out', `${name}.key`);
  for (const ca of ['ca', 'rogue-ca']) {
    key(ca);
    ssl('req', '-x509', '-new', '-key', `${ca}.key`, '-out', `${ca}.crt`, '-days', '1', '-subj', `/CN=${ca}`, '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign');
  }
  const leaf = (name: string, ca: string, ext: string) => {
    key(name);
    ssl('req', '-new', '-key', `${name}.key`, '-out', `${name}.csr`, '-subj', `/CN=${name}`);
    writeFileSync(join(cwd, `${name}.ext`), ext);
    ssl('x509', '-req', '-in', `${name}.csr`, '-CA', `${ca}.crt`, '-CAkey', `${ca}.key`, '-CAcreateserial', '-out', `${name}.crt`, '-days', '1', '-extfile', `${name}.ext`);
  };
  leaf('server', 'ca', 'subjectAltName=IP:127.0.0.1\nextendedKeyUsage=serverAuth\n');
  leaf('operator', 'ca', 'extendedKeyUsage=clientAuth\n');
  leaf('rogue', 'rogue-ca', 'extendedKeyUsage=clientAuth\n');
}

const tls = (client: string) => ['--cert', join(dir, `${client}.crt`), '--key', join(dir, `${client}.key`), '--ca', join(dir, 'ca.crt')];

const statusOf = async (decisionId: string): Promise<string | undefined> => (await db.admin<{ status: string }>('SELECT status FROM decision WHERE id = $1', [decisionId]))[0]?.status;

const vote = (verdict: 'approve' | 'reject', decisionId: string, operator: string, role: string, keyFile: string, extra: readonly string[] = []) =>
  cli(['approvals', verdict, decisionId, ...server, '--operator', operator, '--role', role, '--key-id', `${operator}-k1`, '--key-file', keyFile, '--yes', '--json', ...extra]);

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'custody-cli-'));
  makeCertificates(dir);
  const opa = process.env['OPA_BIN'] ?? resolve(root, '.local/bin/opa');
  // The CLI as shipped (swc, scripts/build.sh); the bundle as scripts/policy-test.sh builds it.
  const [, , database] = await Promise.all([
    run('bash', [join(root, 'scripts/build.sh'), 'deploy/cli'], { cwd: root }),
    run('bash', [join(root, 'scripts/policy-test.sh'), 'build', join(dir, 'bundle')], { cwd: root, env: { ...process.env, OPA_BIN: opa } }),
    createTestDatabase({ service: 'policy', entities: POLICY_ENTITIES, migrations: POLICY_MIGRATIONS }),
  ]);
  db = database;
  keyFiles.alice = join(dir, 'op-alice.pem');
  keyFiles.aliceWrong = join(dir, 'op-alice-wrong.pem');
  keyFiles.bob = join(dir, 'op-bob.seed');
  await writeFile(keyFiles.alice, alicePem, { mode: 0o600 });
  await writeFile(keyFiles.aliceWrong, aliceWrongPem, { mode: 0o600 });
  await writeFile(keyFiles.bob, `${bobSeed.toString('hex')}\n`, { mode: 0o600 });

  bus = new InProcessBus();
  policy = await startPolicy({
    bus,
    database: { url: db.appUrl, schema: db.schema },
    logger: createLogger({ service: 'cli-test-policy', level: 'warn' }),
    clock: { now: () => now },
    grpc: {
      host: '127.0.0.1',
      port: 0,
      credentials: { kind: 'tls', certChain: await readFile(join(dir, 'server.crt')), privateKey: await readFile(join(dir, 'server.key')), clientCa: await readFile(join(dir, 'ca.crt')), requireClientCertificate: true },
    },
    bootstrapBundle: new Uint8Array(await readFile(join(dir, 'bundle', 'bundle.tar.gz'))),
    signer: localDecisionSigner('cli-test-k1', ed25519.utils.randomSecretKey()),
    operators: { operators: new Map(operators.map((o) => [o.operatorId, o])) },
    facts,
    outboxPollIntervalMs: 50,
  });
  server = ['--server', `127.0.0.1:${policy.grpcPort}`, ...tls('operator')];
  observer = await bus.subscribe({
    groupId: `observer-${rand()}`,
    topics: [Topics.policyDecided],
    handler: async (message) => {
      const event = decodePayload(protobufEnvelopeCodec.decode(message.value));
      if (event.type === Topics.policyDecided) decided.push(event.message);
    },
  });
}, 240_000);

afterAll(async () => {
  await observer?.stop();
  if (!policyStopped) await policy?.stop();
  await bus?.close();
  await db?.drop();
  if (dir) await rm(dir, { recursive: true, force: true });
}, 60_000);

const outputs: Cli[] = [];
const track = async (p: Promise<Cli>): Promise<Cli> => {
  const r = await p;
  outputs.push(r);
  return r;
};

describe('custody approvals (built CLI) against the real policy ApprovalService', () => {
  it('lists the held withdrawal, then two operators approve it and the decision becomes ALLOW; a wrong key is refused with the server reason', async () => {
    const { withdrawalId, decisionId } = await heldWithdrawal();
    expect(await statusOf(decisionId)).toBe('require_approval');

    const listed = await track(cli(['approvals', 'list', ...server, '--json']));
    expect(listed.code).toBe(0);
    const item = json<{ ok: boolean; approvals: { decisionId: string; withdrawalId: string; amount: string; quorum: number; roles: string[]; approvePayloadMatches: boolean }[] }>(listed).approvals.find((a) => a.decisionId === decisionId);
    expect(item).toMatchObject({ withdrawalId, amount: '150000000', quorum: 2, roles: ['compliance', 'treasury'], approvePayloadMatches: true });

    const shown = await track(cli(['approvals', 'show', decisionId, ...server]));
    expect(shown.code).toBe(0);
    expect(shown.stdout).toContain(`withdrawal       ${withdrawalId}`);
    expect(shown.stdout).toContain('matches the fields above');

    // op-alice's key id with another key: the signature does not verify.
    const wrong = await track(vote('approve', decisionId, 'op-alice', 'compliance', keyFiles.aliceWrong));
    expect(wrong.code).toBe(1);
    expect(json(wrong)).toMatchObject({ ok: false, exitCode: 1, reason: 'BAD_APPROVAL_SIGNATURE' });
    expect(wrong.stderr).toContain('BAD_APPROVAL_SIGNATURE');
    expect(await statusOf(decisionId)).toBe('require_approval');

    const first = await track(vote('approve', decisionId, 'op-alice', 'compliance', keyFiles.alice));
    expect(first.code).toBe(0);
    expect(json(first)).toMatchObject({ ok: true, verdict: 'approve', decisionId, quorumReached: false, approval: { approvals: [{ operatorId: 'op-alice', role: 'compliance' }] } });
    expect(await statusOf(decisionId)).toBe('require_approval');

    const second = await track(vote('approve', decisionId, 'op-bob', 'treasury', keyFiles.bob));
    expect(second.code).toBe(0);
    expect(json(second)).toMatchObject({ ok: true, decisionId, quorumReached: true });
    expect(await statusOf(decisionId)).toBe('allow');
    await waitFor(() => decided.filter((d) => d.decisionId === decisionId).length === 2, 20_000, () => 'the closing policy.decided');
    const closing = decided.filter((d) => d.decisionId === decisionId)[1];
    expect(closing?.decision).toBe(PolicyDecision.POLICY_DECISION_ALLOW);
    expect(closing?.decisionToken.length).toBeGreaterThan(0);

    // Decided: no longer listed, a further vote is refused.
    expect(json<{ approvals: { decisionId: string }[] }>(await track(cli(['approvals', 'list', ...server, '--json']))).approvals.map((a) => a.decisionId)).not.toContain(decisionId);
    const late = await track(vote('approve', decisionId, 'op-alice', 'compliance', keyFiles.alice));
    expect(late.code).toBe(1);
    expect(json(late)).toMatchObject({ reason: 'DECISION_NOT_PENDING' });
  });

  it('a rejection denies the withdrawal (approval_rejected)', async () => {
    const { decisionId } = await heldWithdrawal();
    const rejected = await track(vote('reject', decisionId, 'op-bob', 'treasury', keyFiles.bob, ['--reason', 'destination not confirmed by phone']));
    expect(rejected.code).toBe(0);
    expect(json(rejected)).toMatchObject({ ok: true, verdict: 'reject', decisionId });
    expect(await statusOf(decisionId)).toBe('rejected');
    await waitFor(() => decided.filter((d) => d.decisionId === decisionId).length === 2, 20_000, () => 'the closing policy.decided');
    const closing = decided.filter((d) => d.decisionId === decisionId)[1];
    expect(closing?.decision).toBe(PolicyDecision.POLICY_DECISION_DENY);
    expect(closing?.reasons.map((r) => r.code)).toEqual(['approval_rejected']);
  });

  it('refuses bad invocations before contacting anyone (exit 2), and never prints a key', async () => {
    const noTransport = await track(cli(['approvals', 'list', '--server', `127.0.0.1:${policy.grpcPort}`]));
    expect(noTransport.code).toBe(2);
    expect(noTransport.stderr).toContain('--insecure-loopback');
    const notLoopback = await track(cli(['approvals', 'list', '--server', `localhost:${policy.grpcPort}`, '--insecure-loopback']));
    expect(notLoopback.code).toBe(2);
    const noYes = await track(cli(['approvals', 'approve', 'some-decision', ...server, '--operator', 'op-alice', '--role', 'compliance', '--key-id', 'op-alice-k1', '--key-file', keyFiles.alice]));
    expect(noYes.code).toBe(2);
    expect(noYes.stderr).toContain('--yes');
    for (const r of outputs) {
      for (const secret of [alicePem.split('\n')[1] ?? '', aliceWrongPem.split('\n')[1] ?? '', bobSeed.toString('hex'), bobSeed.toString('base64')]) {
        expect(r.stdout + r.stderr).not.toContain(secret);
      }
    }
  });

  it('mTLS is enforced: a client certificate from another CA, or plaintext, does not get through (exit 3)', async () => {
    const rogue = await track(cli(['approvals', 'list', '--server', `127.0.0.1:${policy.grpcPort}`, ...tls('rogue'), '--json', '--timeout', '5']));
    expect(rogue.code).toBe(3);
    expect(json(rogue)).toMatchObject({ ok: false, exitCode: 3, reason: 'UNREACHABLE' });
    const plain = await track(cli(['approvals', 'list', '--server', `127.0.0.1:${policy.grpcPort}`, '--insecure-loopback', '--json', '--timeout', '5']));
    expect(plain.code).toBe(3);
    expect(plain.stdout).not.toContain('"approvals"');
  });

  it('server down: exit 3 (unreachable)', async () => {
    const port = policy.grpcPort;
    await policy.stop();
    policyStopped = true;
    const down = await cli(['approvals', 'list', '--server', `127.0.0.1:${port}`, ...tls('operator'), '--json', '--timeout', '5']);
    expect(down.code).toBe(3);
    expect(json(down)).toMatchObject({ ok: false, exitCode: 3, reason: 'UNREACHABLE' });
    expect(down.stderr).toContain(`cannot reach the server at 127.0.0.1:${port}`);
  });
});

describe('custody policy backtest (built CLI) against the real policy database', () => {
  let candidate: string;
  beforeAll(async () => {
    const opa = process.env['OPA_BIN'] ?? resolve(root, '.local/bin/opa');
    const data = join(dir, 'candidate-data');
    await run('cp', ['-r', resolve(root, 'policies/data'), data]);
    const limits = JSON.parse(await readFile(join(data, 'limits.json'), 'utf8')) as { limits: { version: string; assets: { BTC: { tiers: { institutional: { single_max: string } } } } } };
    limits.limits.version = 'candidate-cli-test';
    limits.limits.assets.BTC.tiers.institutional.single_max = '100000000';
    await writeFile(join(data, 'limits.json'), JSON.stringify(limits, null, 2));
    candidate = join(dir, 'candidate.tar.gz');
    // scripts/policy-test.sh build wrote the Wasm SDK's capabilities to .local/policy/capabilities.json.
    await run(opa, ['build', '-t', 'wasm', '-e', 'custody/decision/decision', '--capabilities', resolve(root, '.local/policy/capabilities.json'), '--ignore', '*_test.rego', '-o', candidate, 'policies/custody', data], { cwd: root });
  }, 120_000);
  const env = (): NodeJS.ProcessEnv => ({ ...process.env, CUSTODY_DB_URL: db.appUrl, CUSTODY_DB_SCHEMA: db.schema });

  it('a candidate with a lower BTC institutional limit: the held/approved 1.5 BTC would be denied, listed with the reasons on each side (exit 1)', async () => {
    const r = await cli(['policy', 'backtest', '--bundle', candidate, '--json'], env());
    expect({ code: r.code, stderr: r.stderr }).toMatchObject({ code: 1 });
    const doc = json<{ ok: boolean; replayed: number; changed: number; transitions: Record<string, number>; changes: { withdrawalId: string; before: { outcome: string; reasons: string[]; quorum: number }; after: { outcome: string; reasons: string[] } }[] }>(r);
    expect(doc.ok).toBe(false);
    expect(doc.replayed).toBeGreaterThan(0);
    expect(doc.transitions['require_approval -> deny']).toBeGreaterThanOrEqual(1);
    expect(doc.changes).toContainEqual(expect.objectContaining({ before: { outcome: 'require_approval', reasons: ['amount_requires_approval'], quorum: 2 }, after: expect.objectContaining({ outcome: 'deny', reasons: ['limit_single_exceeded'] }) }));
    expect(r.stderr).toMatch(/replaying up to 10000 stored decision inputs/);
    const text = await cli(['policy', 'backtest', '--bundle', candidate], env());
    expect(text.stdout).toMatch(/require_approval \[amount_requires_approval\] quorum 2 -> deny \[limit_single_exceeded\]/);
  });

  it('the active bundle itself changes nothing (exit 0); an unreachable database is exit 3; no CUSTODY_DB_URL is a usage error', async () => {
    const same = await cli(['policy', 'backtest', '--bundle', join(dir, 'bundle', 'bundle.tar.gz'), '--json'], env());
    expect({ code: same.code, stderr: same.stderr }).toMatchObject({ code: 0 });
    expect(json<{ ok: boolean; changed: number }>(same)).toMatchObject({ ok: true, changed: 0 });
    const down = await cli(['policy', 'backtest', '--bundle', candidate, '--json'], { ...process.env, CUSTODY_DB_URL: 'postgres://nobody:x@127.0.0.1:1/none' });
    expect(down.code).toBe(3);
    expect(json<{ reason: string }>(down).reason).toBe('UNREACHABLE');
    const { CUSTODY_DB_URL: _unset, ...noUrl } = process.env;
    expect((await cli(['policy', 'backtest', '--bundle', candidate], noUrl)).code).toBe(2);
  });
});
