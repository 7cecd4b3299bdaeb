// `custody keys list|suspend|resume|sign-transition` — the signer's KeyAdminService
// (docs/signer.md "Key admin API"). Transitions carry operator approvals: Ed25519 signatures
// over the signer's keyTransitionSigningBytes (@custody/signer). One invocation signs as ONE
// operator; a quorum (resume needs 2 by default) gathers the others' `sign-transition`
// documents in --approvals-file. gRPC client and signer entry are loaded only when needed.
import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { AdminApproval, AdminRequest } from '@custody/contracts';
import { integerOption, requiredOption, stringOption } from '../args.js';
import { loadKeyFile } from '../approvals/commands.js';
import { publicKeyHex, requireIdentifier } from '../approvals/signing.js';
import { formatTarget, parseServerAddress, transportOf, type ServerAddress, type Transport } from '../approvals/transport.js';
import { CliError, ExitCode, UsageError, type CommandContext, type CommandGroup, type CommandSpec, type OptionSpec } from '../types.js';
import type { KeyAdminApi } from './client.js';
import { formatKeyTable, keyToJson } from './format.js';
import { checkGathered, expiryOf, parseApprovalsFile, requireRequestId, requireTransition, signTransition, type ApprovalDoc, type CliTransition, type SigningBytes, type TransitionRequest } from './transition.js';

const CONNECTION_OPTIONS: Readonly<Record<string, OptionSpec>> = {
  server: { type: 'string', placeholder: 'host:port', description: 'signer KeyAdminService (default $CUSTODY_SIGNER_ADMIN_SERVER; required)' },
  cert: { type: 'string', placeholder: 'file', description: 'mTLS: the operator client certificate (PEM)' },
  key: { type: 'string', placeholder: 'file', description: 'mTLS: the client certificate\'s private key (PEM)' },
  ca: { type: 'string', placeholder: 'file', description: 'mTLS: the CA certificate that signed the server\'s certificate (PEM)' },
  'insecure-loopback': { type: 'boolean', description: 'plaintext gRPC, allowed for a server on 127.0.0.1 only' },
  timeout: { type: 'string', placeholder: 'seconds', description: 'deadline of each call (default 10)' },
};

const SIGNER_OPTIONS: Readonly<Record<string, OptionSpec>> = {
  operator: { type: 'string', placeholder: 'id', description: 'your operator id (as registered with the signer)' },
  role: { type: 'string', placeholder: 'role', description: 'the role you sign in (e.g. key_custodian, security_officer)' },
  'key-id': { type: 'string', placeholder: 'id', description: 'the id of your registered operator key (not the inventory key)' },
  'key-file': { type: 'string', placeholder: 'file', description: 'your Ed25519 private key: PKCS#8 PEM, or a 32-byte seed as hex or base64 (never printed)' },
  'request-id': { type: 'string', placeholder: 'id', description: 'the request id every approval signs (default: a new UUID; taken from --approvals-file when given)' },
  'expires-at': { type: 'string', placeholder: 'unix-seconds', description: 'expiry of the request (at most 1 h ahead; taken from --approvals-file when given)' },
  'expires-in': { type: 'string', placeholder: 'seconds', description: 'expiry as seconds from now (30-3600, default 900)' },
};

const TRANSITION_OPTIONS: Readonly<Record<string, OptionSpec>> = {
  ...CONNECTION_OPTIONS,
  ...SIGNER_OPTIONS,
  'approvals-file': { type: 'string', placeholder: 'file', description: 'other operators\' approvals of the same request (`custody keys sign-transition` output)' },
  reason: { type: 'string', placeholder: 'text', description: 'recorded with the transition (at most 500 characters, no secrets)' },
  yes: { type: 'boolean', short: 'y', description: 'do not ask for confirmation (required when stdin is not a terminal)' },
};

function serverOf(ctx: CommandContext): { address: ServerAddress; transport: Transport; timeoutMs: number } {
  const text = stringOption(ctx.values, 'server') ?? ctx.io.env['CUSTODY_SIGNER_ADMIN_SERVER'];
  if (!text) throw new UsageError('--server (or $CUSTODY_SIGNER_ADMIN_SERVER) is required: the signer\'s KeyAdminService address');
  const address = parseServerAddress(text);
  return { address, transport: transportOf(ctx.values, address), timeoutMs: integerOption(ctx.values, 'timeout', 1, 300, 10) * 1000 };
}

export type ConnectKeyAdmin = (address: ServerAddress, transport: Transport, timeoutMs: number) => Promise<KeyAdminApi>;
export type LoadSigningBytes = () => Promise<SigningBytes>;

const grpcConnect: ConnectKeyAdmin = async (address, transport, timeoutMs) => (await import('./client.js')).connectKeyAdmin(address, transport, timeoutMs);
/** The signer's own canonical encoding, from its exported package entry. */
// The composition layer may use a service's exported API (as deploy/embedded does); the whole-graph
// rule is checked by scripts/workspace/boundaries.spec.ts.
// eslint-disable-next-line @nx/enforce-module-boundaries
const signerSigningBytes: LoadSigningBytes = async () => (await import('@custody/signer')).keyTransitionSigningBytes;

interface SignerIdentity {
  readonly operatorId: string;
  readonly role: string;
  readonly operatorKeyId: string;
  readonly keyFile: string;
}

function identityOf(ctx: CommandContext): SignerIdentity {
  return {
    operatorId: requireIdentifier('--operator', requiredOption(ctx.values, 'operator')),
    role: requireIdentifier('--role', requiredOption(ctx.values, 'role')),
    operatorKeyId: requireIdentifier('--key-id', requiredOption(ctx.values, 'key-id')),
    keyFile: requiredOption(ctx.values, 'key-file'),
  };
}

function requestOf(ctx: CommandContext, keyId: string, transition: CliTransition): TransitionRequest {
  const requestId = requireRequestId(stringOption(ctx.values, 'request-id') ?? randomUUID());
  return { requestId, keyId, transition, expiresAt: expiryOf(Math.floor(Date.now() / 1000), stringOption(ctx.values, 'expires-at'), stringOption(ctx.values, 'expires-in')) };
}

function readApprovals(path: string): ApprovalDoc[] {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    throw new UsageError(`cannot read --approvals-file ${path}: ${(err as NodeJS.ErrnoException).code ?? 'error'}`);
  }
  return parseApprovalsFile(text);
}

const wire = (d: ApprovalDoc): AdminApproval => AdminApproval.fromPartial({ operatorId: d.operatorId, role: d.role, keyId: d.operatorKeyId, signature: Buffer.from(d.signature, 'hex') });

const list = (connect: ConnectKeyAdmin): CommandSpec => ({
  name: 'list',
  summary: 'the signer\'s key inventory: public facts and (effective) state, never key material',
  options: {
    ...CONNECTION_OPTIONS,
    wallet: { type: 'string', placeholder: 'id', description: 'only the keys of this wallet' },
    chain: { type: 'string', placeholder: 'name', description: 'only the keys of this chain' },
  },
  run: async (ctx) => {
    const c = serverOf(ctx);
    const api = await connect(c.address, c.transport, c.timeoutMs);
    try {
      const keys = (await api.list({ walletId: stringOption(ctx.values, 'wallet') ?? '', chain: stringOption(ctx.values, 'chain') ?? '' })).map(keyToJson);
      ctx.io.out(ctx.json ? JSON.stringify({ ok: true, keys }) : formatKeyTable(keys));
      return ExitCode.OK;
    } finally {
      api.close();
    }
  },
});

function transitionCommand(transition: CliTransition, connect: ConnectKeyAdmin, loadBytes: LoadSigningBytes): CommandSpec {
  return {
    name: transition,
    summary:
      transition === 'suspend'
        ? 'suspend a key at once (signing stops); one operator\'s approval suffices by default'
        : 'resume a suspended key (back to inactive); needs the quorum (2 operators by default): gather the others with --approvals-file',
    positionals: ['<key-id>'],
    options: TRANSITION_OPTIONS,
    details: [
      'You sign the request as ONE operator. For a quorum, the other operators first run',
      `  custody keys sign-transition <key-id> --transition ${transition} --request-id R --expires-at T --operator … --key-file …`,
      'and you pass their output (one JSON document per line) with --approvals-file: the request id and expiry',
      'are taken from it. Without the quorum the signer answers QUORUM_NOT_MET (exit 1) and nothing changes.',
    ].join('\n'),
    run: async (ctx) => {
      const keyId = requireIdentifier('<key-id>', ctx.positionals[0] ?? '');
      const me = identityOf(ctx);
      const reason = stringOption(ctx.values, 'reason') ?? '';
      if (reason.length > 500) throw new UsageError('--reason must be at most 500 characters');
      const confirmed = ctx.values['yes'] === true;
      if (!confirmed && !ctx.io.interactive) throw new UsageError('--yes is required when stdin is not a terminal');
      const approvalsFile = stringOption(ctx.values, 'approvals-file');
      const gathered = approvalsFile === undefined ? [] : readApprovals(approvalsFile);
      let request: TransitionRequest;
      const first = gathered[0];
      if (first) {
        const rid = stringOption(ctx.values, 'request-id');
        if ((rid !== undefined && rid !== first.requestId) || stringOption(ctx.values, 'expires-at') !== undefined || stringOption(ctx.values, 'expires-in') !== undefined) {
          throw new UsageError('with --approvals-file the request id and expiry are the file\'s: do not give other ones');
        }
        request = { requestId: first.requestId, keyId, transition, expiresAt: first.expiresAt };
        if (request.expiresAt <= Math.floor(Date.now() / 1000)) throw new CliError(ExitCode.FAILED, 'the gathered approvals have expired: start a new request', 'REQUEST_EXPIRED');
        checkGathered(gathered, request, me.operatorId);
      } else request = requestOf(ctx, keyId, transition);
      const c = serverOf(ctx);
      const key = loadKeyFile(me.keyFile, ctx.io.err);
      const mine = signTransition(await loadBytes(), request, me, key);
      if (!confirmed) {
        ctx.io.err(
          `You are about to ${transition.toUpperCase()} key ${keyId} on ${formatTarget(c.address)} as ${me.operatorId} (${me.role}), operator key ${me.operatorKeyId} (public key ${publicKeyHex(key)}), with ${gathered.length} other approval(s): ${gathered.map((g) => g.operatorId).join(', ') || 'none'}.`,
        );
        const answer = (await ctx.io.ask(`Type "${transition}" to sign and send: `)).trim();
        if (answer !== transition) throw new CliError(ExitCode.FAILED, 'not confirmed: nothing was sent', 'NOT_CONFIRMED');
      }
      const api = await connect(c.address, c.transport, c.timeoutMs);
      try {
        const info = await api.transition(
          transition,
          AdminRequest.fromPartial({ requestId: request.requestId, keyId, expiresAt: String(request.expiresAt), approvals: [...gathered, mine].map(wire), reason }),
        );
        const k = info ? keyToJson(info) : null;
        const operators = [...gathered.map((g) => g.operatorId), me.operatorId];
        if (ctx.json) ctx.io.out(JSON.stringify({ ok: true, transition, keyId, requestId: request.requestId, operators, key: k }));
        else ctx.io.out(`${transition === 'suspend' ? 'suspended' : 'resumed'} ${keyId}: state ${k?.state ?? 'unknown'} (approved by ${operators.join(', ')}; request ${request.requestId})`);
        return ExitCode.OK;
      } finally {
        api.close();
      }
    },
  };
}

const signOnly = (loadBytes: LoadSigningBytes): CommandSpec => ({
  name: 'sign-transition',
  summary: 'sign your approval of a key transition offline and print it (for another operator\'s --approvals-file)',
  positionals: ['<key-id>'],
  options: { transition: { type: 'string', placeholder: 'suspend|resume', description: 'the transition you approve' }, ...SIGNER_OPTIONS },
  details: [
    'Prints ONE JSON approval document (custody.key-approval.v1) on stdout: the request, your operator id, role,',
    'operator key id and signature — never the key. The first operator picks the request id and expiry; the',
    'others sign with the same --request-id and --expires-at. Nothing is sent to the signer.',
  ].join('\n'),
  run: async (ctx) => {
    const keyId = requireIdentifier('<key-id>', ctx.positionals[0] ?? '');
    const transition = requireTransition(requiredOption(ctx.values, 'transition'));
    const me = identityOf(ctx);
    const request = requestOf(ctx, keyId, transition);
    const key = loadKeyFile(me.keyFile, ctx.io.err);
    ctx.io.out(JSON.stringify(signTransition(await loadBytes(), request, me, key)));
    return ExitCode.OK;
  },
});

export function keysGroupWith(connect: ConnectKeyAdmin = grpcConnect, loadBytes: LoadSigningBytes = signerSigningBytes): CommandGroup {
  return {
    name: 'keys',
    summary: 'the signer\'s keys (KeyAdminService): list, suspend, resume, sign-transition',
    commands: [list(connect), transitionCommand('suspend', connect, loadBytes), transitionCommand('resume', connect, loadBytes), signOnly(loadBytes)],
  };
}

export const keysGroup: CommandGroup = keysGroupWith();
