// The BUILT `custody keys` (node deploy/cli/dist/main.js, a child process) against the REAL
// signer: startSigner on real PostgreSQL (a throw-away database provisioned like production),
// keys in the local sealed store, its KeyAdminService on its own port. The test generates and
// activates one key with two operators' approvals (its own grpc-js client), then the CLI lists
// it, suspends it as ONE operator (the default quorum of suspend is 1), fails to resume it as one
// operator (QUORUM_NOT_MET, exit 1, still suspended), and resumes it with a second operator's
// `sign-transition` approval gathered in --approvals-file (back to INACTIVE, as the signer's
// lifecycle has it). A key file that is not the operator's
// registered key is refused (exit 1); a stopped signer is unreachable (exit 3).
import { randomBytes, randomUUID } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { Metadata, credentials, type ServiceError } from '@grpc/grpc-js';
import { ed25519, x25519 } from '@noble/curves/ed25519.js';
import { ActivateKeyRequest, AdminApproval, GenerateKeyRequest, KeyAdminServiceClient } from '@custody/contracts';
import { InProcessBus } from '@custody/event-bus';
import { createLogger } from '@custody/platform';
// The composition layer may start a service (as deploy/embedded does).
// eslint-disable-next-line @nx/enforce-module-boundaries
import { SIGNER_ENTITIES, SIGNER_MIGRATIONS, generationRequest, keyTransitionSigningBytes, startSigner, type KeyTransitionRequest, type Operator, type SignerHandle } from '@custody/signer';
import { createTestDatabase, rand, type TestDatabase } from '@custody/testing';
import { buildCli, cli } from './support.js';


const seeds = { carol: randomBytes(32), dave: randomBytes(32), wrong: randomBytes(32) };
const operators = new Map<string, Operator>(
  (['carol', 'dave'] as const).map((id) => [id, { operatorId: id, roles: ['key_custodian'], keys: new Map([[`${id}-k1`, ed25519.getPublicKey(new Uint8Array(seeds[id]))]]) }]),
);
const WALLET = `eth-hot-cli-${rand()}`;
const KEY = `key-${WALLET}`;

let dir: string;
let db: TestDatabase;
let bus: InProcessBus;
let signer: SignerHandle;
let signerStopped = false;
let client: KeyAdminServiceClient;
let server: string[];
const keyFiles = { carol: '', dave: '', wrong: '' };

const as = (who: 'carol' | 'dave', file = keyFiles[who]) => ['--operator', who, '--role', 'key_custodian', '--key-id', `${who}-k1`, '--key-file', file];
const nowSeconds = () => Math.floor(Date.now() / 1000);

function approvals(request: KeyTransitionRequest): AdminApproval[] {
  return (['carol', 'dave'] as const).map((id) => {
    const secret = new Uint8Array(seeds[id]);
    return AdminApproval.fromPartial({ operatorId: id, role: 'key_custodian', keyId: `${id}-k1`, signature: Buffer.from(ed25519.sign(keyTransitionSigningBytes(request, id), secret)) });
  });
}

function call(method: string, request: unknown): Promise<unknown> {
  return new Promise((res, rej) => {
    const fn = (client as unknown as Record<string, (r: unknown, md: Metadata, o: { deadline: Date }, cb: (e: ServiceError | null, r: unknown) => void) => void>)[method];
    fn?.call(client, request, new Metadata(), { deadline: new Date(Date.now() + 30_000) }, (e, r) => (e ? rej(e) : res(r)));
  });
}

const stateOf = async (): Promise<string | undefined> => {
  const r = await cli(['keys', 'list', ...server, '--wallet', WALLET, '--json']);
  return (JSON.parse(r.stdout) as { keys: { keyId: string; state: string }[] }).keys.find((k) => k.keyId === KEY)?.state;
};

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'custody-keys-cli-'));
  for (const who of ['carol', 'dave', 'wrong'] as const) {
    keyFiles[who] = join(dir, `${who}.seed`);
    await writeFile(keyFiles[who], seeds[who].toString('hex'), { mode: 0o600 });
  }
  await buildCli();
  db = await createTestDatabase({ service: 'signer', entities: SIGNER_ENTITIES, migrations: SIGNER_MIGRATIONS });
  bus = new InProcessBus();
  signer = await startSigner({
    bus,
    database: { url: db.appUrl, schema: db.schema },
    logger: createLogger({ service: 'signer-cli-test', level: 'warn' }),
    trustedPolicyKeys: new Map(),
    operators,
    assets: new Map(),
    localSealed: { masterKey: new Uint8Array(32).fill(7), kekId: 'kek-cli-it' },
    consumerGroupId: `signer-cli-${rand()}`,
    outboxPollIntervalMs: 50,
    adminGrpc: { host: '127.0.0.1', port: 0, credentials: { kind: 'insecure' } },
  });
  if (signer.adminGrpcPort === undefined) throw new Error('the KeyAdminService server did not start');
  server = ['--server', `127.0.0.1:${signer.adminGrpcPort}`, '--insecure-loopback'];
  client = new KeyAdminServiceClient(`127.0.0.1:${signer.adminGrpcPort}`, credentials.createInsecure());
  const gen = { requestId: randomUUID(), keyId: KEY, walletId: WALLET, chain: 'ethereum', algorithm: 'secp256k1' as const, tier: 'hot' as const, custody: 'local-sealed' as const, expiresAt: nowSeconds() + 300 };
  await call('generateKey', GenerateKeyRequest.fromPartial({ request: { requestId: gen.requestId, keyId: KEY, expiresAt: String(gen.expiresAt), approvals: approvals(generationRequest(gen)), reason: 'ceremony' }, walletId: WALLET, chain: gen.chain, algorithm: gen.algorithm, tier: gen.tier, custody: gen.custody }));
  const act: KeyTransitionRequest = { requestId: randomUUID(), keyId: KEY, transition: 'activate', ttlSeconds: 3600, expiresAt: nowSeconds() + 300 };
  await call('activateKey', ActivateKeyRequest.fromPartial({ request: { requestId: act.requestId, keyId: KEY, expiresAt: String(act.expiresAt), approvals: approvals(act), reason: 'go' }, ttlSeconds: 3600 }));
}, 180_000);

afterAll(async () => {
  client?.close();
  if (!signerStopped) await signer?.stop();
  await bus?.close();
  await db?.drop();
  if (dir) await rm(dir, { recursive: true, force: true });
}, 60_000);

describe('custody keys (built CLI) against the real signer KeyAdminService and PostgreSQL', () => {
  it('list: the key with its public facts and state (exit 0), no key material', async () => {
    const r = await cli(['keys', 'list', ...server, '--wallet', WALLET, '--json']);
    expect(r.code).toBe(0);
    const [k] = (JSON.parse(r.stdout) as { keys: Record<string, unknown>[] }).keys;
    expect(k).toMatchObject({ keyId: KEY, walletId: WALLET, tier: 'hot', custody: 'local-sealed', algorithm: 'secp256k1', state: 'active' });
    const text = await cli(['keys', 'list', ...server, '--wallet', WALLET]);
    expect(text.stdout).toMatch(new RegExp(`${KEY}\\s+${WALLET}\\s+hot`));
  });

  it('a key file that is not the operator\'s registered key is refused by the signer (exit 1), nothing changes', async () => {
    const r = await cli(['keys', 'suspend', KEY, ...server, ...as('carol', keyFiles.wrong), '--yes', '--json']);
    expect(r.code).toBe(1);
    expect(JSON.parse(r.stdout)).toMatchObject({ ok: false, reason: 'QUORUM_NOT_MET' });
    expect(await stateOf()).toBe('active');
  });

  it('suspend as one operator (quorum 1): exit 0, the key is suspended; the key file never printed', async () => {
    const r = await cli(['keys', 'suspend', KEY, ...server, ...as('carol'), '--reason', 'incident drill', '--yes', '--json']);
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({ ok: true, transition: 'suspend', operators: ['carol'], key: { state: 'suspended' } });
    expect(`${r.stdout}${r.stderr}`).not.toContain(seeds.carol.toString('hex'));
    expect(await stateOf()).toBe('suspended');
  });

  it('resume as ONE operator: the signer answers QUORUM_NOT_MET (exit 1), the key stays suspended', async () => {
    const r = await cli(['keys', 'resume', KEY, ...server, ...as('carol'), '--yes', '--json']);
    expect(r.code).toBe(1);
    expect(JSON.parse(r.stdout)).toMatchObject({ ok: false, reason: 'QUORUM_NOT_MET' });
    expect(await stateOf()).toBe('suspended');
  });

  it('resume with a second operator\'s sign-transition approval in --approvals-file: exit 0, the key is inactive (resuming never re-activates: a fresh quorum activation is needed)', async () => {
    const signed = await cli(['keys', 'sign-transition', KEY, '--transition', 'resume', '--expires-in', '600', ...as('dave')]);
    expect(signed.code).toBe(0);
    const file = join(dir, 'approvals.jsonl');
    await writeFile(file, signed.stdout);
    const r = await cli(['keys', 'resume', KEY, ...server, ...as('carol'), '--approvals-file', file, '--yes', '--json']);
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({ ok: true, operators: ['dave', 'carol'], key: { keyId: KEY } });
    expect(JSON.parse(r.stdout)).toMatchObject({ key: { state: 'inactive' } });
    expect(await stateOf()).toBe('inactive');
    // The same request id again is a replay: refused.
    const replay = await cli(['keys', 'resume', KEY, ...server, ...as('carol'), '--approvals-file', file, '--yes', '--json']);
    expect(replay.code).toBe(1);
  });

});

describe('C-5.4.2-a key ceremony and C-9.3.7.3-c backup shares (built CLI) against the real signer: quorum, custodian-encrypted shares, restore', () => {
  const NEW = `key-ceremony-${rand()}`;
  const NEW_WALLET = `eth-hot-ceremony-${rand()}`;
  const params = ['--wallet', NEW_WALLET, '--chain', 'ethereum', '--algorithm', 'secp256k1', '--tier', 'hot', '--custody', 'local-sealed'];
  const custodians = (['c1', 'c2', 'c3'] as const).map((id) => {
    const secret = x25519.utils.randomSecretKey();
    return { id, secret, publicKey: x25519.getPublicKey(secret) };
  });
  const custodianArgs = ['--threshold', '2', ...custodians.flatMap((c) => ['--custodian', `${c.id}=${Buffer.from(c.publicKey).toString('hex')}`])];
  const backupDir = () => join(dir, 'backup');
  const stateOfNew = async (): Promise<string | undefined> => {
    const r = await cli(['keys', 'list', ...server, '--wallet', NEW_WALLET, '--json']);
    return (JSON.parse(r.stdout) as { keys: { keyId: string; state: string }[] }).keys.find((k) => k.keyId === NEW)?.state;
  };
  const approvalOf = async (transition: string, extra: readonly string[]): Promise<string> => {
    const signed = await cli(['keys', 'sign-transition', NEW, '--transition', transition, '--expires-in', '600', ...extra, ...as('dave')]);
    expect({ code: signed.code, stdout: signed.stdout, stderr: signed.stderr }).toMatchObject({ code: 0 });
    const file = join(dir, `${transition}-${rand()}.jsonl`);
    await writeFile(file, signed.stdout);
    return file;
  };

  it('ceremony as one operator: QUORUM_NOT_MET (exit 1), no key; approvals over other parameters are refused before sending (exit 2)', async () => {
    const alone = await cli(['keys', 'ceremony', NEW, ...server, ...params, ...as('carol'), '--yes', '--json']);
    expect({ code: alone.code, stdout: alone.stdout, stderr: alone.stderr }).toMatchObject({ code: 1 });
    expect(JSON.parse(alone.stdout)).toMatchObject({ ok: false, reason: 'QUORUM_NOT_MET' });
    const otherTier = await approvalOf('generate', params.map((p) => (p === 'hot' ? 'warm' : p)));
    const mismatch = await cli(['keys', 'ceremony', NEW, ...server, ...params, ...as('carol'), '--approvals-file', otherTier, '--yes', '--json']);
    expect({ code: mismatch.code, stdout: mismatch.stdout, stderr: mismatch.stderr }).toMatchObject({ code: 2 });
    expect(await stateOfNew()).toBeUndefined();
  });

  it('ceremony with a second operator\'s approval of the same parameters: exit 0, the signer generated the key (inactive, public key and address only)', async () => {
    const file = await approvalOf('generate', params);
    const r = await cli(['keys', 'ceremony', NEW, ...server, ...params, ...as('carol'), '--approvals-file', file, '--reason', 'hot wallet rotation', '--yes', '--json']);
    expect({ code: r.code, stdout: r.stdout, stderr: r.stderr }).toMatchObject({ code: 0 });
    const doc = JSON.parse(r.stdout) as { ok: boolean; operators: string[]; key: { keyId: string; state: string; publicKey: string; address: string; algorithm: string } };
    expect(doc).toMatchObject({ ok: true, operators: ['dave', 'carol'], key: { keyId: NEW, state: 'inactive', algorithm: 'secp256k1' } });
    expect(doc.key.publicKey).toMatch(/^0[23][0-9a-f]{64}$/);
    expect(doc.key.address).toMatch(/^0x[0-9a-fA-F]{40}$/);
    expect(await stateOfNew()).toBe('inactive');
  });

  it('backup 2-of-3 with the quorum: a manifest and one share file per custodian, each opened only by its custodian\'s key', async () => {
    const alone = await cli(['keys', 'backup', NEW, ...server, ...custodianArgs, '--out-dir', join(dir, 'backup-alone'), ...as('carol'), '--yes', '--json']);
    expect({ code: alone.code, stdout: alone.stdout, stderr: alone.stderr }).toMatchObject({ code: 1 });
    expect(JSON.parse(alone.stdout)).toMatchObject({ reason: 'QUORUM_NOT_MET' });
    const file = await approvalOf('backup', custodianArgs);
    const r = await cli(['keys', 'backup', NEW, ...server, ...custodianArgs, '--out-dir', backupDir(), ...as('carol'), '--approvals-file', file, '--yes', '--json']);
    expect({ code: r.code, stdout: r.stdout, stderr: r.stderr }).toMatchObject({ code: 0 });
    const doc = JSON.parse(r.stdout) as { manifest: { backupId: string; threshold: number; total: number; custodians: string[]; fingerprint: string; keyId: string }; files: string[] };
    expect(doc.manifest).toMatchObject({ keyId: NEW, threshold: 2, total: 3, custodians: ['c1', 'c2', 'c3'] });
    expect(doc.files.map((f) => f.slice(backupDir().length + 1))).toEqual(['manifest.json', 'share-c1.json', 'share-c2.json', 'share-c3.json']);
    for (const c of custodians) await writeFile(join(dir, `${c.id}.x25519`), Buffer.from(c.secret).toString('hex'), { mode: 0o600 });
    for (const c of custodians.slice(0, 2)) {
      const opened = await cli(['keys', 'open-share', '--share-file', join(backupDir(), `share-${c.id}.json`), '--custodian-key-file', join(dir, `${c.id}.x25519`), '--out', join(dir, `opened-${c.id}.json`), '--json']);
      expect({ code: opened.code, stdout: opened.stdout, stderr: opened.stderr }).toMatchObject({ code: 0 });
      expect(opened.stdout).not.toMatch(/"share"/);
    }
    const wrong = await cli(['keys', 'open-share', '--share-file', join(backupDir(), 'share-c3.json'), '--custodian-key-file', join(dir, 'c1.x25519'), '--out', join(dir, 'opened-wrong.json'), '--json']);
    expect({ code: wrong.code, stdout: wrong.stdout, stderr: wrong.stderr }).toMatchObject({ code: 1 });
    expect(JSON.parse(wrong.stdout)).toMatchObject({ reason: 'SHARE_NOT_OPENED' });
  });

  it('restore: one share is a usage error, one operator QUORUM_NOT_MET (exit 1); 2 opened shares with the quorum: exit 0, the signer checked it is the same key', async () => {
    const manifest = join(backupDir(), 'manifest.json');
    const one = await cli(['keys', 'restore', NEW, ...server, '--manifest', manifest, '--opened-share', join(dir, 'opened-c1.json'), ...as('carol'), '--yes']);
    expect({ code: one.code, stdout: one.stdout, stderr: one.stderr }).toMatchObject({ code: 2 });
    const opened = ['--opened-share', join(dir, 'opened-c1.json'), '--opened-share', join(dir, 'opened-c2.json')];
    const single = await cli(['keys', 'restore', NEW, ...server, '--manifest', manifest, ...opened, ...as('carol'), '--yes', '--json']);
    expect({ code: single.code, stdout: single.stdout, stderr: single.stderr }).toMatchObject({ code: 1 });
    expect(JSON.parse(single.stdout)).toMatchObject({ reason: 'QUORUM_NOT_MET' });
    const file = await approvalOf('restore', ['--manifest', manifest]);
    const r = await cli(['keys', 'restore', NEW, ...server, '--manifest', manifest, '--opened-share', join(dir, 'opened-c1.json'), '--opened-share', join(dir, 'opened-c2.json'), ...as('carol'), '--approvals-file', file, '--yes', '--json']);
    expect({ code: r.code, stdout: r.stdout, stderr: r.stderr }).toMatchObject({ code: 0 });
    expect(JSON.parse(r.stdout)).toMatchObject({ ok: true, transition: 'restore', operators: ['dave', 'carol'], key: { keyId: NEW } });
  });
});

describe('custody keys: the signer stopped', () => {
  it('a stopped signer is unreachable (exit 3)', async () => {
    await signer.stop();
    signerStopped = true;
    const r = await cli(['keys', 'list', ...server, '--timeout', '5', '--json']);
    expect({ code: r.code, stdout: r.stdout, stderr: r.stderr }).toMatchObject({ code: 3 });
  });
});
