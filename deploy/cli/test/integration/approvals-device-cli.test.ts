// C-8.2.2.5-e with the BUILT `custody` CLI (child process) against the REAL policy service
// (startPolicy, real PostgreSQL, compiled bundle, gRPC on 127.0.0.1:0): the operators file
// requires device assertions; `approvals enrol-authenticator` makes each operator a software
// FIDO2 authenticator whose printed device entry is registered as-is; a vote without
// --authenticator-file, or with another operator's authenticator, is refused with the
// server's reason; with their own, two operators approve and the decision is ALLOW, the
// votes stored with the asserting device and its counter.
import { execFile } from 'node:child_process';
import { generateKeyPairSync } from 'node:crypto';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { ed25519 } from '@noble/curves/ed25519.js';
import { RiskAssessed, RiskVerdict, Topics, WithdrawalRequested, encodeEvent, timestampFromDate, topicVersion, type EventMessages, type EventType } from '@custody/contracts';
import { InProcessBus, createEnvelope, protobufEnvelopeCodec } from '@custody/event-bus';
import { createLogger } from '@custody/platform';
// The composition layer may start a service (as deploy/embedded does); the whole-graph rule is
// checked by scripts/workspace/boundaries.spec.ts.
// eslint-disable-next-line @nx/enforce-module-boundaries
import { POLICY_ENTITIES, POLICY_MIGRATIONS, localDecisionSigner, parseOperatorDocument, startPolicy, type PolicyHandle, type WithdrawalFactsProvider } from '@custody/policy';
import { createTestDatabase, rand, waitFor, type TestDatabase } from '@custody/testing';
import { cli, root, type Cli } from './support.js';

const run = promisify(execFile);

const json = <T>(r: Cli): T => JSON.parse(r.stdout) as T;

const RP = 'localhost';
const ORIGIN = 'http://localhost';
const ops = { alice: generateKeyPairSync('ed25519'), bob: generateKeyPairSync('ed25519') };
const rawPublic = (k: { publicKey: { export(o: { format: 'jwk' }): { x?: string } } }): string => Buffer.from(String(k.publicKey.export({ format: 'jwk' }).x), 'base64url').toString('hex');

let dir: string;
let db: TestDatabase;
let bus: InProcessBus;
let policy: PolicyHandle;
let server: string[];
const files = { alice: '', bob: '', aliceAuthn: '', bobAuthn: '' };

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

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'custody-cli-devices-'));
  const opa = process.env['OPA_BIN'] ?? resolve(root, '.local/bin/opa');
  const [, , database] = await Promise.all([
    run('bash', [join(root, 'scripts/build.sh'), 'deploy/cli'], { cwd: root }),
    run('bash', [join(root, 'scripts/policy-test.sh'), 'build', join(dir, 'bundle')], { cwd: root, env: { ...process.env, OPA_BIN: opa } }),
    createTestDatabase({ service: 'policy', entities: POLICY_ENTITIES, migrations: POLICY_MIGRATIONS }),
  ]);
  db = database;
  files.alice = join(dir, 'op-alice.pem');
  files.bob = join(dir, 'op-bob.pem');
  await writeFile(files.alice, ops.alice.privateKey.export({ format: 'pem', type: 'pkcs8' }).toString(), { mode: 0o600 });
  await writeFile(files.bob, ops.bob.privateKey.export({ format: 'pem', type: 'pkcs8' }).toString(), { mode: 0o600 });

  // Each operator enrols a software authenticator with the CLI; its printed entry is registered as-is.
  const devices: Record<string, unknown> = {};
  for (const [who, keyType] of [['alice', 'es256'], ['bob', 'ed25519']] as const) {
    const out = join(dir, `op-${who}.authenticator.json`);
    files[`${who}Authn`] = out;
    const r = await cli(['approvals', 'enrol-authenticator', '--out', out, '--rp-id', RP, '--origin', ORIGIN, '--key-type', keyType, '--json']);
    expect(r.code).toBe(0);
    devices[who] = json<{ device: unknown }>(r).device;
  }
  const operators = parseOperatorDocument({
    approvalDevices: { required: true, rpId: RP, origins: [ORIGIN], allowedKinds: ['software'] },
    operators: [
      { id: 'op-alice', roles: ['compliance'], keys: { 'op-alice-k1': rawPublic(ops.alice) }, devices: [devices['alice']] },
      { id: 'op-bob', roles: ['treasury'], keys: { 'op-bob-k1': rawPublic(ops.bob) }, devices: [devices['bob']] },
    ],
  });

  bus = new InProcessBus();
  policy = await startPolicy({
    bus,
    database: { url: db.appUrl, schema: db.schema },
    logger: createLogger({ service: 'cli-device-test-policy', level: 'warn' }),
    grpc: { host: '127.0.0.1', port: 0, credentials: { kind: 'insecure' } },
    bootstrapBundle: new Uint8Array(await readFile(join(dir, 'bundle', 'bundle.tar.gz'))),
    signer: localDecisionSigner('cli-test-k1', ed25519.utils.randomSecretKey()),
    operators,
    facts,
    outboxPollIntervalMs: 50,
  });
  server = ['--server', `127.0.0.1:${policy.grpcPort}`, '--insecure-loopback'];
}, 240_000);

afterAll(async () => {
  await policy?.stop();
  await bus?.close();
  await db?.drop();
  if (dir) await rm(dir, { recursive: true, force: true });
}, 60_000);

const vote = (decisionId: string, who: 'alice' | 'bob', extra: readonly string[] = []) =>
  cli(['approvals', 'approve', decisionId, ...server, '--operator', `op-${who}`, '--role', who === 'alice' ? 'compliance' : 'treasury', '--key-id', `op-${who}-k1`, '--key-file', files[who], '--yes', '--json', ...extra]);

describe('C-8.2.2.5-e custody approvals with registered authenticators (built CLI, real policy service)', () => {
  it('a vote without an assertion or with another operator\'s authenticator is refused; with their own, two operators reach ALLOW', async () => {
    const withdrawalId = `wd-${rand()}`;
    const now = new Date();
    await publish(Topics.withdrawalRequested, withdrawalId, WithdrawalRequested.fromPartial({ withdrawalId, clientId: 'client-acme', customerAccount: 'acct-inst-1', asset: 'BTC', chain: 'bitcoin-mainnet', amount: '150000000', destinationAddress: 'bc1qinstitutionalvaultxxxxxxxxxxxxxxxxxx', requestedAt: timestampFromDate(now) }));
    await publish(Topics.riskAssessed, withdrawalId, RiskAssessed.fromPartial({ assessmentId: `as-${withdrawalId}`, withdrawalId, verdict: RiskVerdict.RISK_VERDICT_CLEAR, score: 12, reasons: [], assessedAt: timestampFromDate(new Date(now.getTime() - 60_000)) }));
    let decisionId = '';
    await waitFor(
      async () => {
        const [d] = await db.admin<{ id: string; status: string }>(`SELECT id::text AS id, status FROM decision WHERE withdrawal_id = $1`, [withdrawalId]);
        decisionId = d?.status === 'require_approval' ? d.id : '';
        return decisionId !== '';
      },
      30_000,
      () => `require_approval for ${withdrawalId}`,
    );

    const bare = await vote(decisionId, 'alice');
    expect(bare.code).toBe(1);
    expect(json(bare)).toMatchObject({ ok: false, reason: 'DEVICE_ASSERTION_REQUIRED' });
    const borrowed = await vote(decisionId, 'alice', ['--authenticator-file', files.bobAuthn]);
    expect(json(borrowed)).toMatchObject({ ok: false, reason: 'DEVICE_NOT_OPERATORS' });
    expect(await db.admin(`SELECT 1 FROM approval_vote WHERE decision_id = $1`, [decisionId])).toEqual([]);

    expect(json(await vote(decisionId, 'alice', ['--authenticator-file', files.aliceAuthn]))).toMatchObject({ ok: true, quorumReached: false });
    expect(json(await vote(decisionId, 'bob', ['--authenticator-file', files.bobAuthn]))).toMatchObject({ ok: true, quorumReached: true });
    const aliceDevice = (JSON.parse(await readFile(files.aliceAuthn, 'utf8')) as { credentialId: string }).credentialId;
    const bobDevice = (JSON.parse(await readFile(files.bobAuthn, 'utf8')) as { credentialId: string; signCount: number });
    expect(bobDevice.signCount).toBe(2); // one borrowed by alice (refused), one own
    expect(await db.admin(`SELECT operator_id, device_id, sign_count::text AS sign_count FROM approval_vote WHERE decision_id = $1 ORDER BY operator_id`, [decisionId])).toEqual([
      { operator_id: 'op-alice', device_id: aliceDevice, sign_count: '1' },
      { operator_id: 'op-bob', device_id: bobDevice.credentialId, sign_count: '2' },
    ]);
    expect((await db.admin<{ status: string }>(`SELECT status FROM decision WHERE id = $1`, [decisionId]))[0]?.status).toBe('allow');
  });
});
