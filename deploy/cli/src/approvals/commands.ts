// `custody approvals list|show|approve|reject` — policy's ApprovalService
// (docs/policies.md "Approvals"). The gRPC client is loaded only when a command runs.
import { readFileSync, statSync } from 'node:fs';
import { randomUUID, type KeyObject } from 'node:crypto';
import type { ApprovalVerdict } from '@custody/decision-token';
import { integerOption, requiredOption, stringOption } from '../args.js';
import { CliError, ExitCode, UsageError, type CommandContext, type CommandGroup, type CommandSpec, type OptionSpec } from '../types.js';
import { formatPendingDetail, formatPendingTable, pendingToJson } from './format.js';
import { parseOperatorKey, publicKeyHex, requireIdentifier, signVote } from './signing.js';
import { createAuthenticatorFile, useAuthenticatorFile } from './authenticator.js';
import { formatTarget, parseServerAddress, transportOf, type ServerAddress, type Transport } from './transport.js';
import type { ApprovalApi } from './client.js';

/** The embedded default's ApprovalService (npm start). */
export const DEFAULT_APPROVAL_SERVER = '127.0.0.1:50052';

const CONNECTION_OPTIONS: Readonly<Record<string, OptionSpec>> = {
  server: { type: 'string', placeholder: 'host:port', description: `policy ApprovalService (default $CUSTODY_APPROVAL_SERVER or ${DEFAULT_APPROVAL_SERVER})` },
  cert: { type: 'string', placeholder: 'file', description: 'mTLS: the operator client certificate (PEM)' },
  key: { type: 'string', placeholder: 'file', description: 'mTLS: the client certificate\'s private key (PEM)' },
  ca: { type: 'string', placeholder: 'file', description: 'mTLS: the CA certificate that signed the server\'s certificate (PEM)' },
  'insecure-loopback': { type: 'boolean', description: 'plaintext gRPC, allowed for a server on 127.0.0.1 only (the embedded default)' },
  timeout: { type: 'string', placeholder: 'seconds', description: 'deadline of each call (default 10)' },
};

const VOTE_OPTIONS: Readonly<Record<string, OptionSpec>> = {
  operator: { type: 'string', placeholder: 'id', description: 'your operator id (as registered with the policy service)' },
  role: { type: 'string', placeholder: 'role', description: 'the role you vote in (e.g. compliance, treasury)' },
  'key-id': { type: 'string', placeholder: 'id', description: 'the id of your registered key' },
  'key-file': { type: 'string', placeholder: 'file', description: 'your Ed25519 private key: PKCS#8 PEM, or a 32-byte seed as hex or base64 (never printed)' },
  'authenticator-file': { type: 'string', placeholder: 'file', description: 'software FIDO2 authenticator (dev/demo: `approvals enrol-authenticator`); its assertion binds the vote to your registered device' },
  yes: { type: 'boolean', short: 'y', description: 'do not ask for confirmation (required when stdin is not a terminal)' },
};

interface Connection {
  readonly address: ServerAddress;
  readonly transport: Transport;
  readonly timeoutMs: number;
}

function connectionOf(ctx: CommandContext): Connection {
  const address = parseServerAddress(stringOption(ctx.values, 'server') ?? (ctx.io.env['CUSTODY_APPROVAL_SERVER'] || DEFAULT_APPROVAL_SERVER));
  return { address, transport: transportOf(ctx.values, address), timeoutMs: integerOption(ctx.values, 'timeout', 1, 300, 10) * 1000 };
}

/** Opens the ApprovalService client (the grpc-js one by default, loaded on first use). */
export type ConnectApprovals = (address: ServerAddress, transport: Transport, timeoutMs: number) => Promise<ApprovalApi>;

const grpcConnect: ConnectApprovals = async (address, transport, timeoutMs) => (await import('./client.js')).connectApprovals(address, transport, timeoutMs);

async function withApi<T>(connect: ConnectApprovals, c: Connection, fn: (api: ApprovalApi) => Promise<T>): Promise<T> {
  const api = await connect(c.address, c.transport, c.timeoutMs);
  try {
    return await fn(api);
  } finally {
    api.close();
  }
}

function decisionIdOf(ctx: CommandContext): string {
  return requireIdentifier('<decision-id>', ctx.positionals[0] ?? '');
}

const notPending = (id: string) => new CliError(ExitCode.FAILED, `no pending approval with decision id ${id} (decided, expired or unknown)`, 'DECISION_NOT_PENDING');

/** Reads the operator key file; a file others can read is used, with a warning. */
export function loadKeyFile(path: string, warn: (text: string) => void): KeyObject {
  let contents: string;
  try {
    if ((statSync(path).mode & 0o077) !== 0) warn(`custody: warning: ${path} is readable by other users (chmod 600 it)`);
    contents = readFileSync(path, 'utf8');
  } catch (err) {
    throw new UsageError(`cannot read --key-file ${path}: ${(err as NodeJS.ErrnoException).code ?? 'error'}`);
  }
  return parseOperatorKey(contents);
}

const list = (connect: ConnectApprovals): CommandSpec => ({
  name: 'list',
  summary: 'list the withdrawals waiting for operator approval',
  options: CONNECTION_OPTIONS,
  run: async (ctx) => {
    const c = connectionOf(ctx);
    const pending = await withApi(connect, c, (api) => api.listAll());
    ctx.io.out(ctx.json ? JSON.stringify({ ok: true, approvals: pending.map(pendingToJson) }) : formatPendingTable(pending));
    return ExitCode.OK;
  },
});

const show = (connect: ConnectApprovals): CommandSpec => ({
  name: 'show',
  summary: 'show one pending approval: everything you sign, and whether the signed payload matches it',
  positionals: ['<decision-id>'],
  options: CONNECTION_OPTIONS,
  run: async (ctx) => {
    const id = decisionIdOf(ctx);
    const c = connectionOf(ctx);
    const p = await withApi(connect, c, (api) => api.find(id));
    if (!p) throw notPending(id);
    ctx.io.out(ctx.json ? JSON.stringify({ ok: true, approval: pendingToJson(p) }) : formatPendingDetail(p));
    return ExitCode.OK;
  },
});

function voteCommand(verdict: ApprovalVerdict, connect: ConnectApprovals): CommandSpec {
  const options: Record<string, OptionSpec> = { ...CONNECTION_OPTIONS, ...VOTE_OPTIONS };
  if (verdict === 'reject') options['reason'] = { type: 'string', placeholder: 'text', description: 'why (at most 500 characters; recorded with the decision)' };
  return {
    name: verdict,
    summary:
      verdict === 'approve'
        ? 'sign and cast your approval; the policy re-evaluates the withdrawal when the quorum may be met'
        : 'sign and cast your rejection: the withdrawal is denied (approval_rejected)',
    positionals: ['<decision-id>'],
    options,
    details: [
      'The CLI lists the decision, rebuilds the signed bytes from the listed fields, refuses to sign if they',
      'differ from the server\'s approve_payload, shows what you sign and asks for confirmation (unless --yes).',
      `Example: custody approvals ${verdict} <decision-id> --operator op-alice --role compliance \\`,
      '           --key-id op-alice-k1 --key-file ~/.custody/op-alice.pem --cert op.crt --key op.key --ca ca.crt',
    ].join('\n'),
    run: async (ctx) => {
      const id = decisionIdOf(ctx);
      const operatorId = requireIdentifier('--operator', requiredOption(ctx.values, 'operator'));
      const role = requireIdentifier('--role', requiredOption(ctx.values, 'role'));
      const keyId = requireIdentifier('--key-id', requiredOption(ctx.values, 'key-id'));
      const keyFile = requiredOption(ctx.values, 'key-file');
      const reason = verdict === 'reject' ? requiredOption(ctx.values, 'reason') : '';
      if (reason.length > 500) throw new UsageError('--reason must be at most 500 characters');
      const confirmed = ctx.values['yes'] === true;
      if (!confirmed && !ctx.io.interactive) throw new UsageError('--yes is required when stdin is not a terminal');
      const c = connectionOf(ctx);
      const key = loadKeyFile(keyFile, ctx.io.err);
      const authenticatorFile = stringOption(ctx.values, 'authenticator-file');
      return withApi(connect, c, async (api) => {
        const p = await api.find(id);
        if (!p) throw notPending(id);
        const authenticator = authenticatorFile ? await useAuthenticatorFile(authenticatorFile, ctx.io.err) : undefined;
        const vote = signVote(p, { operatorId, role, keyId, verdict }, key, authenticator);
        if (!confirmed) {
          const device = authenticator ? `, authenticator ${authenticator.credentialId}` : '';
          ctx.io.err(`${formatPendingDetail(p)}\n\nYou are about to ${verdict.toUpperCase()} this withdrawal as ${operatorId} (${role}), key ${keyId} (public key ${publicKeyHex(key)})${device} on ${formatTarget(c.address)}.`);
          const answer = (await ctx.io.ask(`Type "${verdict}" to sign and send: `)).trim();
          if (answer !== verdict) throw new CliError(ExitCode.FAILED, 'not confirmed: nothing was signed or sent', 'NOT_CONFIRMED');
        }
        const requestId = randomUUID();
        if (verdict === 'approve') {
          const res = await api.approve(vote, requestId);
          const after = res.approval ? pendingToJson(res.approval) : undefined;
          if (ctx.json) ctx.io.out(JSON.stringify({ ok: true, verdict, decisionId: id, operatorId, role, requestId, quorumReached: res.quorumReached, approval: after ?? null }));
          else
            ctx.io.out(
              `approved ${id} as ${operatorId} (${role}): ${after ? `${after.approvals.length}/${after.quorum} votes` : 'recorded'}; ${
                res.quorumReached ? 'quorum reached, the decision was re-evaluated with the votes' : 'quorum not reached yet'
              } (request ${requestId})`,
            );
        } else {
          await api.reject(vote, reason, requestId);
          ctx.io.out(ctx.json ? JSON.stringify({ ok: true, verdict, decisionId: id, operatorId, role, requestId }) : `rejected ${id} as ${operatorId} (${role}): the withdrawal is denied (approval_rejected)`);
        }
        return ExitCode.OK;
      });
    },
  };
}

const enrolAuthenticator: CommandSpec = {
  name: 'enrol-authenticator',
  summary: 'create a software FIDO2 authenticator file (dev/demo) and print the device entry to register for your operator',
  options: {
    out: { type: 'string', placeholder: 'file', description: 'where to write the authenticator (created with mode 0600; never overwritten)' },
    'rp-id': { type: 'string', placeholder: 'domain', description: 'the operator console\'s relying-party id (approvalDevices.rpId of the operators file)' },
    origin: { type: 'string', placeholder: 'url', description: 'the console origin (one of approvalDevices.origins)' },
    'key-type': { type: 'string', placeholder: 'es256|ed25519', description: 'signature algorithm (default es256)' },
  },
  details: 'Production operators register hardware security keys or managed-device platform authenticators instead; software devices are accepted only where approvalDevices.allowedKinds lists "software".',
  run: async (ctx) => {
    const out = requiredOption(ctx.values, 'out');
    const rpId = requiredOption(ctx.values, 'rp-id');
    const origin = requiredOption(ctx.values, 'origin');
    const keyType = stringOption(ctx.values, 'key-type') ?? 'es256';
    if (keyType !== 'es256' && keyType !== 'ed25519') throw new UsageError('--key-type must be es256 or ed25519');
    let made: { device: Record<string, string> };
    try {
      made = await createAuthenticatorFile(out, { rpId, origin, keyType, now: new Date() });
    } catch (err) {
      throw new UsageError(`cannot create --out ${out}: ${(err as NodeJS.ErrnoException).code ?? 'error'}`);
    }
    ctx.io.out(ctx.json ? JSON.stringify({ ok: true, device: made.device }) : `wrote ${out}; register this device for your operator (operators file, "devices"):\n${JSON.stringify(made.device, null, 2)}`);
    return Promise.resolve(ExitCode.OK);
  },
};

export function approvalsGroupWith(connect: ConnectApprovals = grpcConnect): CommandGroup {
  return {
    name: 'approvals',
    summary: 'withdrawals held for operator approval (policy ApprovalService): list, show, approve, reject, enrol-authenticator',
    commands: [list(connect), show(connect), voteCommand('approve', connect), voteCommand('reject', connect), enrolAuthenticator],
  };
}

export const approvalsGroup: CommandGroup = approvalsGroupWith();
