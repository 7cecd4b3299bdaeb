import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from '@jest/globals';
import { ed25519 } from '@noble/curves/ed25519.js';
import { runCli } from '../cli.js';
import { ExitCode, type CommandGroup, type Io } from '../types.js';
import { activateCommand, signBundleCommand, type PolicyBundleApi, type PolicyStaging } from './activate.js';

const dir = mkdtempSync(join(tmpdir(), 'custody-activate-spec-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const bundle = join(dir, 'b.tar.gz');
writeFileSync(bundle, 'archive bytes');
const seed = randomBytes(32);
const keyFile = join(dir, 'admin.seed');
writeFileSync(keyFile, seed.toString('hex'), { mode: 0o600 });
const api: PolicyBundleApi = { digestOf: () => 'dd'.repeat(32), activationBytes: (d, a) => new TextEncoder().encode(`${d}|${a}`) };
const SIG = `admin-1:admin-1-k1:${'ab'.repeat(64)}`;

function fakeIo(env: NodeJS.ProcessEnv = { CUSTODY_DB_URL: 'postgres://w@db/custody' }): Io & { stdout: string[]; stderr: string[] } {
  const stdout: string[] = [];
  const stderr: string[] = [];
  return { stdout, stderr, out: (t) => stdout.push(t), err: (t) => stderr.push(t), env, interactive: false, ask: () => Promise.resolve('') };
}
function staging(states: string[]): PolicyStaging & { staged: unknown[] } {
  const staged: unknown[] = [];
  return {
    staged,
    stageBundle: (o) => (staged.push(o), Promise.resolve({ id: 'req-1', digest: 'dd'.repeat(32) })),
    activationStatus: () => Promise.resolve({ state: states.shift() ?? 'requested', digest: 'dd'.repeat(32), outcome: 'admin quorum not met: 1 of 2' }),
  };
}
const group = (s: PolicyStaging): CommandGroup[] => [{ name: 'policy', summary: '', commands: [signBundleCommand(() => Promise.resolve(api)), activateCommand(() => Promise.resolve(s), () => Promise.resolve(api), 1)] }];

describe('custody policy sign-bundle / activate', () => {
  it('sign-bundle prints admin:key-id:signature over the policy service\'s activation bytes of the digest', async () => {
    const io = fakeIo();
    expect(await runCli(['policy', 'sign-bundle', '--bundle', bundle, '--admin', 'admin-1', '--key-id', 'admin-1-k1', '--key-file', keyFile], io, group(staging([])))).toBe(ExitCode.OK);
    const [admin, keyId, sig] = io.stdout.join('').split(':');
    expect([admin, keyId]).toEqual(['admin-1', 'admin-1-k1']);
    expect(ed25519.verify(Buffer.from(sig ?? '', 'hex'), api.activationBytes('dd'.repeat(32), 'admin-1'), ed25519.getPublicKey(new Uint8Array(seed)))).toBe(true);
  });
  it('activate waits for the service\'s verdict: activated → 0, refused → 1 ACTIVATION_REFUSED with its message, none in time → 1 ACTIVATION_PENDING', async () => {
    const ok = staging(['requested', 'activated']);
    const io = fakeIo();
    expect(await runCli(['policy', 'activate', '--bundle', bundle, '--signature', SIG, '--yes', '--json'], io, group(ok))).toBe(ExitCode.OK);
    expect(JSON.parse(io.stdout.join(''))).toEqual({ ok: true, requestId: 'req-1', digest: 'dd'.repeat(32), state: 'activated', outcome: 'admin quorum not met: 1 of 2' });
    expect(ok.staged[0]).toMatchObject({ url: 'postgres://w@db/custody', bundle, signatures: [SIG] });
    const refusedIo = fakeIo();
    expect(await runCli(['policy', 'activate', '--bundle', bundle, '--signature', SIG, '--yes', '--json'], refusedIo, group(staging(['refused'])))).toBe(ExitCode.FAILED);
    expect(JSON.parse(refusedIo.stdout.join(''))).toMatchObject({ ok: false, reason: 'ACTIVATION_REFUSED', message: expect.stringMatching(/admin quorum not met/) });
    const pendingIo = fakeIo();
    expect(await runCli(['policy', 'activate', '--bundle', bundle, '--signature', SIG, '--wait', '1', '--yes', '--json'], pendingIo, group(staging(Array(5000).fill('requested'))))).toBe(ExitCode.FAILED);
    expect(JSON.parse(pendingIo.stdout.join(''))).toMatchObject({ reason: 'ACTIVATION_PENDING' });
    expect(await runCli(['policy', 'activate', '--bundle', bundle, '--signature', SIG, '--wait', '0', '--yes'], fakeIo(), group(staging([])))).toBe(ExitCode.OK);
  });
  it('usage errors stage nothing: no or malformed --signature, no CUSTODY_DB_URL, no --yes off a terminal', async () => {
    const s = staging([]);
    for (const args of [[], ['--signature', 'admin-1:k:xyz'], ['--signature', SIG, '--wait', '601']]) {
      expect(await runCli(['policy', 'activate', '--bundle', bundle, ...args, '--yes'], fakeIo(), group(s))).toBe(ExitCode.USAGE);
    }
    expect(await runCli(['policy', 'activate', '--bundle', bundle, '--signature', SIG, '--yes'], fakeIo({}), group(s))).toBe(ExitCode.USAGE);
    expect(await runCli(['policy', 'activate', '--bundle', bundle, '--signature', SIG], fakeIo(), group(s))).toBe(ExitCode.USAGE);
    expect(s.staged).toEqual([]);
  });
});
