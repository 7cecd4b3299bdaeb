import { createHash, randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from '@jest/globals';
import { ed25519 } from '@noble/curves/ed25519.js';
import { p256 } from '@noble/curves/nist.js';
import type { PendingApproval } from '@custody/contracts';
import { approvalSigningBytes } from '@custody/decision-token';
import { pendingOf, subject } from '../../test/fixtures.js';
import { runCli } from '../cli.js';
import { ExitCode, type Io } from '../types.js';
import type { ApprovalApi } from './client.js';
import { approvalsGroupWith, type ConnectApprovals } from './commands.js';
import type { SignedVote } from './signing.js';

const io = (): Io & { stdout: string[]; stderr: string[] } => {
  const stdout: string[] = [];
  const stderr: string[] = [];
  return { stdout, stderr, out: (t) => stdout.push(t), err: (t) => stderr.push(t), env: {}, interactive: false, ask: () => Promise.resolve('') };
};

const dir = mkdtempSync(join(tmpdir(), 'custody-cli-authn-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const keyFile = join(dir, 'op.seed');
writeFileSync(keyFile, randomBytes(32).toString('hex'), { mode: 0o600 });

function fakeServer(pending: PendingApproval[]): { connect: ConnectApprovals; sent: SignedVote[] } {
  const sent: SignedVote[] = [];
  const api: ApprovalApi = {
    listAll: () => Promise.resolve(pending),
    find: (id) => Promise.resolve(pending.find((p) => p.decisionId === id)),
    approve: (vote) => {
      sent.push(vote);
      return Promise.resolve({ approval: pendingOf(), quorumReached: false });
    },
    reject: (vote) => {
      sent.push(vote);
      return Promise.resolve();
    },
    close: () => undefined,
  };
  return { connect: () => Promise.resolve(api), sent };
}

const RP = 'console.custody.test';
const ORIGIN = `https://${RP}`;
const sha256 = (b: Uint8Array | string): Buffer => createHash('sha256').update(b).digest();

async function enrol(keyType: string): Promise<{ file: string; device: { id: string; keyType: string; publicKey: string; kind: string } }> {
  const file = join(dir, `authn-${keyType}-${randomBytes(4).toString('hex')}.json`);
  const out = io();
  expect(await runCli(['approvals', 'enrol-authenticator', '--out', file, '--rp-id', RP, '--origin', ORIGIN, '--key-type', keyType, '--json'], out, [approvalsGroupWith(fakeServer([]).connect)])).toBe(ExitCode.OK);
  expect(statSync(file).mode & 0o777).toBe(0o600);
  expect(readFileSync(file, 'utf8')).not.toContain(JSON.parse(out.stdout[0] ?? '{}').device.publicKey);
  return { file, device: (JSON.parse(out.stdout[0] ?? '{}') as { device: { id: string; keyType: string; publicKey: string; kind: string } }).device };
}

describe('C-8.2.2.5-e custody approvals with a software FIDO2 authenticator', () => {
  it('enrol-authenticator writes a 0600 file once and prints the software device entry to register', async () => {
    const { file, device } = await enrol('es256');
    expect(device).toMatchObject({ keyType: 'es256', kind: 'software' });
    expect(device.publicKey).toMatch(/^04[0-9a-f]{128}$/);
    const again = io();
    expect(await runCli(['approvals', 'enrol-authenticator', '--out', file, '--rp-id', RP, '--origin', ORIGIN], again, [approvalsGroupWith(fakeServer([]).connect)])).toBe(ExitCode.USAGE);
  });

  it.each(['es256', 'ed25519'])('approve/reject --authenticator-file (%s): a WebAuthn assertion of exactly this vote, counter advanced on disk', async (keyType) => {
    const { file, device } = await enrol(keyType);
    const server = fakeServer([pendingOf()]);
    const base = ['--insecure-loopback', '--operator', 'op-alice', '--role', 'compliance', '--key-id', 'op-alice-k1', '--key-file', keyFile, '--authenticator-file', file, '--yes'];
    expect(await runCli(['approvals', 'approve', subject.decisionId, ...base], io(), [approvalsGroupWith(server.connect)])).toBe(ExitCode.OK);
    expect(await runCli(['approvals', 'reject', subject.decisionId, ...base, '--reason', 'no'], io(), [approvalsGroupWith(server.connect)])).toBe(ExitCode.OK);
    const [approve, reject] = server.sent;
    for (const [vote, verdict, count] of [[approve, 'approve', 1], [reject, 'reject', 2]] as const) {
      const a = vote?.deviceAssertion;
      if (!a) throw new Error('no device assertion sent');
      expect(a.credentialId).toBe(device.id);
      const client = JSON.parse(a.clientDataJson.toString('utf8')) as { type: string; challenge: string; origin: string };
      expect(client).toMatchObject({ type: 'webauthn.get', origin: ORIGIN, challenge: sha256(approvalSigningBytes(subject, 'op-alice', 'compliance', verdict)).toString('base64url') });
      expect(a.authenticatorData.subarray(0, 32).equals(sha256(RP))).toBe(true);
      expect(a.authenticatorData[32]).toBe(0x05); // UP | UV
      expect(a.authenticatorData.readUInt32BE(33)).toBe(count);
      // Verified with @noble/curves, independently of the node:crypto signer.
      const signed = Buffer.concat([a.authenticatorData, sha256(a.clientDataJson)]);
      const pk = Buffer.from(device.publicKey, 'hex');
      const ok = keyType === 'es256' ? p256.verify(a.signature, signed, pk, { format: 'der', lowS: false }) : ed25519.verify(a.signature, signed, pk);
      expect(ok).toBe(true);
    }
    expect((JSON.parse(readFileSync(file, 'utf8')) as { signCount: number }).signCount).toBe(2);
  });

  it('without --authenticator-file no assertion is sent; a broken file is a usage error and nothing is sent', async () => {
    const server = fakeServer([pendingOf()]);
    const base = ['approvals', 'approve', subject.decisionId, '--insecure-loopback', '--operator', 'op-alice', '--role', 'compliance', '--key-id', 'op-alice-k1', '--key-file', keyFile, '--yes'];
    expect(await runCli(base, io(), [approvalsGroupWith(server.connect)])).toBe(ExitCode.OK);
    expect(server.sent[0]?.deviceAssertion).toBeUndefined();
    const bad = join(dir, 'bad.json');
    writeFileSync(bad, '{"credentialId":"x"}', { mode: 0o600 });
    const out = io();
    expect(await runCli([...base, '--authenticator-file', bad], out, [approvalsGroupWith(server.connect)])).toBe(ExitCode.USAGE);
    expect(server.sent).toHaveLength(1);
  });
});
