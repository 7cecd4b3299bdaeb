import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from '@jest/globals';
import { ed25519 } from '@noble/curves/ed25519.js';
import type { PendingApproval } from '@custody/contracts';
import { approvalSigningBytes, approvalSubjectBytes, verifyEd25519Strict } from '@custody/decision-token';
import { pendingOf, subject } from '../../test/fixtures.js';
import { runCli } from '../cli.js';
import { ExitCode, type Io } from '../types.js';
import type { ApprovalApi } from './client.js';
import { approvalsGroupWith, type ConnectApprovals } from './commands.js';
import type { SignedVote } from './signing.js';

function fakeIo(o: { interactive?: boolean; answer?: string; env?: NodeJS.ProcessEnv } = {}): Io & { stdout: string[]; stderr: string[]; asked: string[] } {
  const stdout: string[] = [];
  const stderr: string[] = [];
  const asked: string[] = [];
  return {
    stdout,
    stderr,
    asked,
    out: (t) => stdout.push(t),
    err: (t) => stderr.push(t),
    env: o.env ?? {},
    interactive: o.interactive ?? false,
    ask: (q) => {
      asked.push(q);
      return Promise.resolve(o.answer ?? '');
    },
  };
}

const dir = mkdtempSync(join(tmpdir(), 'custody-cli-spec-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const seed = randomBytes(32);
const keyFile = join(dir, 'op.seed');
writeFileSync(keyFile, seed.toString('hex'), { mode: 0o600 });
const publicKey = ed25519.getPublicKey(new Uint8Array(seed));

interface Fake {
  readonly connect: ConnectApprovals;
  readonly sent: { verdict: string; vote: SignedVote; requestId: string; reason?: string }[];
  readonly targets: string[];
  closed: number;
}

function fakeServer(pending: PendingApproval[]): Fake {
  const fake: Fake = {
    sent: [],
    targets: [],
    closed: 0,
    connect: (address, transport, timeoutMs) => {
      fake.targets.push(`${address.host}:${address.port} ${transport.kind} ${timeoutMs}`);
      const api: ApprovalApi = {
        listAll: () => Promise.resolve(pending),
        find: (id) => Promise.resolve(pending.find((p) => p.decisionId === id)),
        approve: (vote, requestId) => {
          fake.sent.push({ verdict: 'approve', vote, requestId });
          return Promise.resolve({ approval: { ...pendingOf(), approvals: [{ operatorId: vote.operatorId, role: vote.role, approvedAt: { seconds: '1748858400', nanos: 0 } }] }, quorumReached: false });
        },
        reject: (vote, reason, requestId) => {
          fake.sent.push({ verdict: 'reject', vote, requestId, reason });
          return Promise.resolve();
        },
        close: () => {
          fake.closed++;
        },
      };
      return Promise.resolve(api);
    },
  };
  return fake;
}

const loop = ['--insecure-loopback'];
const voteArgs = (verdict: string, id = subject.decisionId) => ['approvals', verdict, id, ...loop, '--operator', 'op-alice', '--role', 'compliance', '--key-id', 'op-alice-k1', '--key-file', keyFile];

describe('custody approvals commands (fake ApprovalService)', () => {
  it('list: default server 127.0.0.1:50052 (or $CUSTODY_APPROVAL_SERVER), 10 s deadline; JSON and table', async () => {
    const fake = fakeServer([pendingOf()]);
    const io = fakeIo();
    expect(await runCli(['approvals', 'list', ...loop, '--json'], io, [approvalsGroupWith(fake.connect)])).toBe(ExitCode.OK);
    expect(fake.targets).toEqual(['127.0.0.1:50052 insecure-loopback 10000']);
    expect(JSON.parse(io.stdout[0] ?? '')).toMatchObject({ ok: true, approvals: [{ decisionId: subject.decisionId, amount: '150000000', approvePayloadMatches: true }] });
    expect(fake.closed).toBe(1);
    const table = fakeIo({ env: { CUSTODY_APPROVAL_SERVER: '127.0.0.1:6000' } });
    expect(await runCli(['approvals', 'list', ...loop, '--timeout', '3'], table, [approvalsGroupWith(fake.connect)])).toBe(ExitCode.OK);
    expect(fake.targets[1]).toBe('127.0.0.1:6000 insecure-loopback 3000');
    expect(table.stdout[0]).toContain('1 pending');
  });

  it('approve --yes: signs exactly the listed decision as the operator and role given; prints the result and the request id', async () => {
    const fake = fakeServer([pendingOf()]);
    const io = fakeIo();
    expect(await runCli([...voteArgs('approve'), '--yes', '--json'], io, [approvalsGroupWith(fake.connect)])).toBe(ExitCode.OK);
    expect(fake.sent).toHaveLength(1);
    const { vote, requestId } = fake.sent[0] ?? { vote: undefined, requestId: '' };
    expect(vote).toMatchObject({ decisionId: subject.decisionId, operatorId: 'op-alice', role: 'compliance', keyId: 'op-alice-k1' });
    expect(verifyEd25519Strict(new Uint8Array(vote?.signature ?? []), approvalSigningBytes(subject, 'op-alice', 'compliance', 'approve'), publicKey)).toBe(true);
    expect(JSON.parse(io.stdout[0] ?? '')).toMatchObject({ ok: true, verdict: 'approve', requestId, quorumReached: false, approval: { approvals: [{ operatorId: 'op-alice' }] } });
    expect(io.stdout.join() + io.stderr.join()).not.toContain(seed.toString('hex'));
  });

  it('interactive: shows what is signed and sends only after the verdict is typed', async () => {
    const yes = fakeServer([pendingOf()]);
    const io = fakeIo({ interactive: true, answer: 'approve\n' });
    expect(await runCli(voteArgs('approve'), io, [approvalsGroupWith(yes.connect)])).toBe(ExitCode.OK);
    expect(io.asked).toEqual(['Type "approve" to sign and send: ']);
    expect(io.stderr.join('\n')).toContain('You are about to APPROVE this withdrawal as op-alice (compliance), key op-alice-k1');
    expect(io.stderr.join('\n')).toContain(`public key ${Buffer.from(publicKey).toString('hex')}`);
    expect(yes.sent).toHaveLength(1);
    const no = fakeServer([pendingOf()]);
    const declined = fakeIo({ interactive: true, answer: 'y' });
    expect(await runCli(voteArgs('approve'), declined, [approvalsGroupWith(no.connect)])).toBe(ExitCode.FAILED);
    expect(declined.stderr.at(-1)).toBe('custody: not confirmed: nothing was signed or sent');
    expect(no.sent).toEqual([]);
  });

  it('refuses to sign when the listed fields and approve_payload differ; unknown decision → 1; nothing sent', async () => {
    const tampered = fakeServer([pendingOf({ ...subject, destinationAddress: 'bc1qattacker' }, approvalSubjectBytes(subject))]);
    const io = fakeIo();
    expect(await runCli([...voteArgs('approve'), '--yes', '--json'], io, [approvalsGroupWith(tampered.connect)])).toBe(ExitCode.FAILED);
    expect(JSON.parse(io.stdout[0] ?? '')).toMatchObject({ reason: 'APPROVE_PAYLOAD_MISMATCH' });
    const missing = fakeServer([]);
    const none = fakeIo();
    expect(await runCli([...voteArgs('approve'), '--yes', '--json'], none, [approvalsGroupWith(missing.connect)])).toBe(ExitCode.FAILED);
    expect(JSON.parse(none.stdout[0] ?? '')).toMatchObject({ reason: 'DECISION_NOT_PENDING' });
    expect([...tampered.sent, ...missing.sent]).toEqual([]);
  });

  it('reject needs --reason (≤ 500 characters) and sends it with a reject signature', async () => {
    const fake = fakeServer([pendingOf()]);
    expect(await runCli([...voteArgs('reject'), '--yes'], fakeIo(), [approvalsGroupWith(fake.connect)])).toBe(ExitCode.USAGE);
    expect(await runCli([...voteArgs('reject'), '--yes', '--reason', 'x'.repeat(501)], fakeIo(), [approvalsGroupWith(fake.connect)])).toBe(ExitCode.USAGE);
    const io = fakeIo();
    expect(await runCli([...voteArgs('reject'), '--yes', '--reason', 'not confirmed by phone'], io, [approvalsGroupWith(fake.connect)])).toBe(ExitCode.OK);
    expect(fake.sent.map((s) => [s.verdict, s.reason])).toEqual([['reject', 'not confirmed by phone']]);
    expect(verifyEd25519Strict(new Uint8Array(fake.sent[0]?.vote.signature ?? []), approvalSigningBytes(subject, 'op-alice', 'compliance', 'reject'), publicKey)).toBe(true);
    expect(io.stdout[0]).toContain('rejected');
  });

  it('a key file other users can read is used with a warning on stderr', async () => {
    const open = join(dir, 'open.seed');
    writeFileSync(open, seed.toString('hex'), { mode: 0o644 });
    const fake = fakeServer([pendingOf()]);
    const io = fakeIo();
    expect(await runCli([...voteArgs('approve').map((a) => (a === keyFile ? open : a)), '--yes'], io, [approvalsGroupWith(fake.connect)])).toBe(ExitCode.OK);
    expect(io.stderr[0]).toBe(`custody: warning: ${open} is readable by other users (chmod 600 it)`);
    expect(fake.sent).toHaveLength(1);
  });

  it('usage errors before connecting: missing vote options, bad ids, unreadable key file, no --yes without a terminal', async () => {
    const fake = fakeServer([pendingOf()]);
    const cases: [string[], string][] = [
      [['approvals', 'approve', subject.decisionId, ...loop, '--yes'], '--operator is required'],
      [[...voteArgs('approve', 'bad id'), '--yes'], '<decision-id> must be 1-256 printable ASCII characters'],
      [[...voteArgs('approve').map((a) => (a === keyFile ? join(dir, 'absent') : a)), '--yes'], 'cannot read --key-file'],
      [voteArgs('approve'), '--yes is required when stdin is not a terminal'],
      [['approvals', 'list', '--insecure-loopback', '--timeout', '0'], '--timeout must be an integer from 1 to 300'],
      [['approvals', 'show', ...loop], 'expected <decision-id>'],
    ];
    for (const [argv, message] of cases) {
      const io = fakeIo();
      expect(await runCli(argv, io, [approvalsGroupWith(fake.connect)])).toBe(ExitCode.USAGE);
      expect(io.stderr.join('\n')).toContain(message);
    }
    expect(fake.targets).toEqual([]);
  });
});
