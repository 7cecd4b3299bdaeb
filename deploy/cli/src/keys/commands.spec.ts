import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from '@jest/globals';
import { ed25519 } from '@noble/curves/ed25519.js';
import { KeyInfo, KeyState, type AdminRequest } from '@custody/contracts';
// The composition layer may use a service's exported API (as deploy/embedded does); the whole-graph
// rule is checked by scripts/workspace/boundaries.spec.ts.
// eslint-disable-next-line @nx/enforce-module-boundaries
import { backupRequest, generationRequest, keyTransitionSigningBytes, openShare, restoreRequest } from '@custody/signer';
import { runCli } from '../cli.js';
import { ExitCode, type Io } from '../types.js';
import type { KeyAdminApi } from './client.js';
import { keysGroupWith, parseX25519Secret, type ConnectKeyAdmin } from './commands.js';
import { formatKeyTable, keyToJson } from './format.js';
import { expiryOf, parseApprovalsFile, type ApprovalDoc } from './transition.js';

function fakeIo(): Io & { stdout: string[]; stderr: string[] } {
  const stdout: string[] = [];
  const stderr: string[] = [];
  return { stdout, stderr, out: (t) => stdout.push(t), err: (t) => stderr.push(t), env: {}, interactive: false, ask: () => Promise.resolve('') };
}

const dir = mkdtempSync(join(tmpdir(), 'custody-keys-spec-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const seeds = { carol: randomBytes(32), dave: randomBytes(32) };
const keyFile = (who: keyof typeof seeds): string => {
  const f = join(dir, `${who}.seed`);
  writeFileSync(f, seeds[who].toString('hex'), { mode: 0o600 });
  return f;
};

const info = KeyInfo.fromPartial({ keyId: 'key-1', walletId: 'eth-hot-1', tier: 'hot', purpose: 'signature', chain: 'ethereum', algorithm: 'secp256k1', custody: 'local-sealed', address: '0xabc', state: KeyState.KEY_STATE_SUSPENDED, effectiveState: KeyState.KEY_STATE_SUSPENDED, publicKey: Buffer.from('02'.repeat(33), 'hex'), activeUntil: '0', signaturesLeft: '-1' });

function fake(): { connect: ConnectKeyAdmin; sent: { transition: string; request: AdminRequest }[] } {
  const sent: { transition: string; request: AdminRequest }[] = [];
  const api: KeyAdminApi = {
    list: () => Promise.resolve([info]),
    transition: (transition, request) => {
      sent.push({ transition, request });
      return Promise.resolve(info);
    },
    generate: () => Promise.resolve(info),
    backup: () => Promise.reject(new Error('not used')),
    restore: () => Promise.resolve(info),
    close: () => undefined,
  };
  return { connect: () => Promise.resolve(api), sent };
}

const SERVER = ['--server', '127.0.0.1:50070', '--insecure-loopback'];
const as = (who: keyof typeof seeds) => ['--operator', who, '--role', 'key_custodian', '--key-id', `${who}-k1`, '--key-file', keyFile(who)];
const group = (f: ReturnType<typeof fake>) => [keysGroupWith(f.connect, () => Promise.resolve(keyTransitionSigningBytes))];

describe('custody keys: formatting', () => {
  it('shows public facts and states by name; no time bound → null', () => {
    const k = keyToJson(info);
    expect(k).toMatchObject({ keyId: 'key-1', state: 'suspended', effectiveState: 'suspended', activeUntil: null, signaturesLeft: null, publicKey: '02'.repeat(33) });
    expect(formatKeyTable([k])).toMatch(/KEY ID[\s\S]*key-1\s+eth-hot-1\s+hot/);
  });
  it('expiry: default 15 min, bounded to one hour ahead, never in the past', () => {
    expect(expiryOf(1000, undefined, undefined)).toBe(1900);
    expect(() => expiryOf(1000, '999', undefined)).toThrow(/past/);
    expect(() => expiryOf(1000, String(1000 + 3601), undefined)).toThrow(/one hour/);
    expect(() => expiryOf(1000, '1100', '60')).toThrow(/not both/);
  });
});

describe('custody keys: suspend/resume sign the signer\'s own key-transition bytes', () => {
  it('suspend as one operator: the approval verifies over keyTransitionSigningBytes of the sent request', async () => {
    const f = fake();
    const io = fakeIo();
    expect(await runCli(['keys', 'suspend', 'key-1', ...SERVER, ...as('carol'), '--yes', '--json'], io, group(f))).toBe(ExitCode.OK);
    const { request } = f.sent[0] ?? { request: undefined };
    expect(f.sent[0]?.transition).toBe('suspend');
    const a = request?.approvals[0];
    const bytes = keyTransitionSigningBytes({ requestId: request?.requestId ?? '', keyId: 'key-1', transition: 'suspend', expiresAt: Number(request?.expiresAt) }, 'carol');
    expect(ed25519.verify(new Uint8Array(a?.signature ?? []), bytes, ed25519.getPublicKey(new Uint8Array(seeds.carol)))).toBe(true);
    expect(io.stdout.join('')).not.toContain(seeds.carol.toString('hex'));
  });
  it('resume with --approvals-file: the gathered approval plus mine, over the same request id and expiry', async () => {
    const signIo = fakeIo();
    expect(await runCli(['keys', 'sign-transition', 'key-1', '--transition', 'resume', '--request-id', 'req-1', '--expires-in', '600', ...as('dave')], signIo, group(fake()))).toBe(ExitCode.OK);
    const doc = JSON.parse(signIo.stdout.join('')) as ApprovalDoc;
    expect(doc).toMatchObject({ format: 'custody.key-approval.v1', requestId: 'req-1', keyId: 'key-1', transition: 'resume', operatorId: 'dave' });
    const file = join(dir, 'approvals.jsonl');
    writeFileSync(file, `${JSON.stringify(doc)}\n`);
    const f = fake();
    expect(await runCli(['keys', 'resume', 'key-1', ...SERVER, ...as('carol'), '--approvals-file', file, '--yes'], fakeIo(), group(f))).toBe(ExitCode.OK);
    const request = f.sent[0]?.request;
    expect(request).toMatchObject({ requestId: 'req-1', expiresAt: String(doc.expiresAt) });
    expect(request?.approvals.map((a) => a.operatorId)).toEqual(['dave', 'carol']);
  });
  it('refuses (exit 2, nothing sent): approvals of another key, the same operator twice, a malformed file, no --yes without a terminal', async () => {
    const signIo = fakeIo();
    await runCli(['keys', 'sign-transition', 'key-2', '--transition', 'resume', ...as('dave')], signIo, group(fake()));
    const file = join(dir, 'other.jsonl');
    writeFileSync(file, signIo.stdout.join(''));
    const f = fake();
    expect(await runCli(['keys', 'resume', 'key-1', ...SERVER, ...as('carol'), '--approvals-file', file, '--yes'], fakeIo(), group(f))).toBe(ExitCode.USAGE);
    expect(await runCli(['keys', 'resume', 'key-2', ...SERVER, ...as('dave'), '--approvals-file', file, '--yes'], fakeIo(), group(f))).toBe(ExitCode.USAGE);
    writeFileSync(file, 'not json');
    expect(await runCli(['keys', 'resume', 'key-1', ...SERVER, ...as('carol'), '--approvals-file', file, '--yes'], fakeIo(), group(f))).toBe(ExitCode.USAGE);
    expect(await runCli(['keys', 'suspend', 'key-1', ...SERVER, ...as('carol')], fakeIo(), group(f))).toBe(ExitCode.USAGE);
    expect(f.sent).toEqual([]);
  });
  it('parseApprovalsFile rejects approvals of different requests', () => {
    const base = { format: 'custody.key-approval.v1', requestId: 'r', keyId: 'k', transition: 'resume', expiresAt: 5, role: 'x', operatorKeyId: 'k1', signature: 'ab'.repeat(64) };
    expect(() => parseApprovalsFile(JSON.stringify([{ ...base, operatorId: 'a' }, { ...base, operatorId: 'b', requestId: 'other' }]))).toThrow(/same request/);
  });
});

describe('custody keys ceremony / backup / restore: what is signed is the signer\'s own composite request', () => {
  const params = ['--wallet', 'eth-hot-9', '--chain', 'ethereum', '--algorithm', 'secp256k1', '--tier', 'hot', '--custody', 'local-sealed'];
  const loadRequests = () => Promise.resolve({ generationRequest, backupRequest, restoreRequest, openShare });
  const groupWith = (f: ReturnType<typeof fake>) => [keysGroupWith(f.connect, () => Promise.resolve(keyTransitionSigningBytes), loadRequests)];
  it('sign-transition --transition generate signs generationRequest (every parameter bound); ceremony sends the inventory key id and the parameters', async () => {
    const io = fakeIo();
    expect(await runCli(['keys', 'sign-transition', 'key-9', '--transition', 'generate', ...params, '--request-id', 'req-g', ...as('dave')], io, groupWith(fake()))).toBe(ExitCode.OK);
    const doc = JSON.parse(io.stdout.join('')) as ApprovalDoc;
    expect(doc.keyId).toBe('key-9|eth-hot-9|ethereum|secp256k1|hot|local-sealed');
    const signed = generationRequest({ requestId: 'req-g', keyId: 'key-9', walletId: 'eth-hot-9', chain: 'ethereum', algorithm: 'secp256k1', tier: 'hot', custody: 'local-sealed', expiresAt: doc.expiresAt });
    expect(ed25519.verify(Buffer.from(doc.signature, 'hex'), keyTransitionSigningBytes(signed, 'dave'), ed25519.getPublicKey(new Uint8Array(seeds.dave)))).toBe(true);
    const file = join(dir, 'gen.jsonl');
    writeFileSync(file, JSON.stringify(doc));
    const f = fake();
    const sent: unknown[] = [];
    const connect: ConnectKeyAdmin = async (a, t, ms) => {
      const api = await f.connect(a, t, ms);
      return { ...api, generate: (request, p) => (sent.push({ request, p }), Promise.resolve(info)) };
    };
    expect(await runCli(['keys', 'ceremony', 'key-9', ...SERVER, ...params, ...as('carol'), '--approvals-file', file, '--yes'], fakeIo(), [keysGroupWith(connect, () => Promise.resolve(keyTransitionSigningBytes), loadRequests)])).toBe(ExitCode.OK);
    expect(sent[0]).toMatchObject({ request: { requestId: 'req-g', keyId: 'key-9' }, p: { walletId: 'eth-hot-9', chain: 'ethereum', algorithm: 'secp256k1', tier: 'hot', custody: 'local-sealed' } });
    // Approvals of another tier are not this request: refused before sending.
    expect(await runCli(['keys', 'ceremony', 'key-9', ...SERVER, ...params.map((p) => (p === 'hot' ? 'cold' : p)), ...as('carol'), '--approvals-file', file, '--yes'], fakeIo(), [keysGroupWith(connect, () => Promise.resolve(keyTransitionSigningBytes), loadRequests)])).toBe(ExitCode.USAGE);
    expect(sent).toHaveLength(1);
  });
  it('backup arguments: custodians as id=64 hex, at least 2, no duplicates, threshold 2..N; bad ones are usage errors', async () => {
    const c = (id: string) => ['--custodian', `${id}=${'ab'.repeat(32)}`];
    const base = ['keys', 'sign-transition', 'key-9', '--transition', 'backup', ...as('dave')];
    expect(await runCli([...base, ...c('c1'), ...c('c2'), '--threshold', '2'], fakeIo(), groupWith(fake()))).toBe(ExitCode.OK);
    for (const bad of [[...c('c1'), '--threshold', '2'], [...c('c1'), ...c('c1'), '--threshold', '2'], [...c('c1'), ...c('c2'), '--threshold', '3'], [...c('c1'), ...c('c2')], ['--custodian', 'c1=zz', ...c('c2'), '--threshold', '2']]) {
      expect(await runCli([...base, ...bad], fakeIo(), groupWith(fake()))).toBe(ExitCode.USAGE);
    }
  });
  it('custodian X25519 secrets: 64 hex or base64 of 32 bytes, anything else refused without echoing it', () => {
    expect(parseX25519Secret('11'.repeat(32))).toHaveLength(32);
    expect(parseX25519Secret(Buffer.alloc(32, 7).toString('base64'))).toHaveLength(32);
    expect(() => parseX25519Secret('secret-words')).toThrow(/32-byte X25519/);
    try {
      parseX25519Secret('secret-words');
    } catch (e) {
      expect((e as Error).message).not.toContain('secret-words');
    }
  });
});
