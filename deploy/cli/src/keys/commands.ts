// `custody keys list|suspend|resume|sign-transition` — the signer's KeyAdminService
// (docs/signer.md "Key admin API"). Transitions carry operator approvals: Ed25519 signatures
// over the signer's keyTransitionSigningBytes (@custody/signer). One invocation signs as ONE
// operator; a quorum (resume needs 2 by default) gathers the others' `sign-transition`
// documents in --approvals-file. gRPC client and signer entry are loaded only when needed.
import { randomUUID } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { AdminApproval, AdminRequest } from '@custody/contracts';
import { integerOption, requiredOption, stringOption } from '../args.js';
import { loadKeyFile } from '../approvals/commands.js';
import { publicKeyHex, requireIdentifier } from '../approvals/signing.js';
import { formatTarget, parseServerAddress, transportOf, type ServerAddress, type Transport } from '../approvals/transport.js';
import { CliError, ExitCode, UsageError, type CommandContext, type CommandGroup, type CommandSpec, type OptionSpec } from '../types.js';
// The composition layer may use a service's exported API (as deploy/embedded does); the whole-graph
// rule is checked by scripts/workspace/boundaries.spec.ts.
// eslint-disable-next-line @nx/enforce-module-boundaries
import type { backupRequest, generationRequest, openShare, restoreRequest } from '@custody/signer';
import type { GenerateParams, KeyAdminApi } from './client.js';
import { formatKeyTable, keyToJson } from './format.js';
import { checkGathered, expiryOf, parseApprovalsFile, requireRequestId, requireTransition, signTransition, type ApprovalDoc, type CliTransition, type SignedTransition, type SigningBytes, type TransitionRequest } from './transition.js';

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

/** The signer's own builders of what operators sign for generate / backup / restore, and its share opening. */
export interface SignerRequests {
  readonly generationRequest: typeof generationRequest;
  readonly backupRequest: typeof backupRequest;
  readonly restoreRequest: typeof restoreRequest;
  readonly openShare: typeof openShare;
}
export type LoadSignerRequests = () => Promise<SignerRequests>;
const signerRequests: LoadSignerRequests = async () => {
  // eslint-disable-next-line @nx/enforce-module-boundaries
  const s = await import('@custody/signer');
  return { generationRequest: s.generationRequest, backupRequest: s.backupRequest, restoreRequest: s.restoreRequest, openShare: s.openShare };
};
const refuse = (): never => {
  throw new Error('not used for suspend/resume');
};
const NO_REQUESTS: SignerRequests = { generationRequest: refuse, backupRequest: refuse, restoreRequest: refuse, openShare: refuse };

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

function requestOf(ctx: CommandContext, signedKeyId: string, transition: SignedTransition): TransitionRequest {
  const requestId = requireRequestId(stringOption(ctx.values, 'request-id') ?? randomUUID());
  return { requestId, keyId: signedKeyId, transition, expiresAt: expiryOf(Math.floor(Date.now() / 1000), stringOption(ctx.values, 'expires-at'), stringOption(ctx.values, 'expires-in')) };
}

function readApprovals(path: string): ApprovalDoc[] {
  return parseApprovalsFile(readText('--approvals-file', path));
}

function readText(option: string, path: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch (err) {
    throw new UsageError(`cannot read ${option} ${path}: ${(err as NodeJS.ErrnoException).code ?? 'error'}`);
  }
}

const wire = (d: ApprovalDoc): AdminApproval => AdminApproval.fromPartial({ operatorId: d.operatorId, role: d.role, keyId: d.operatorKeyId, signature: Buffer.from(d.signature, 'hex') });

interface SignedQuorum {
  readonly request: TransitionRequest;
  /** The wire request: the inventory key id, the quorum's approvals (theirs + mine), the reason. */
  readonly admin: AdminRequest;
  readonly operators: readonly string[];
}

/**
 * One operator's part of a quorum request: the others' approvals from --approvals-file (their
 * request id and expiry; the CLI refuses approvals of anything else than `signedKeyId` and
 * `transition`), mine added, confirmation (typed verb, or --yes). Nothing is sent here.
 */
async function signQuorum(ctx: CommandContext, o: { keyId: string; signedKeyId: string; transition: SignedTransition; what: string; target: string }, bytes: SigningBytes): Promise<SignedQuorum> {
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
    request = { requestId: first.requestId, keyId: o.signedKeyId, transition: o.transition, expiresAt: first.expiresAt };
    if (request.expiresAt <= Math.floor(Date.now() / 1000)) throw new CliError(ExitCode.FAILED, 'the gathered approvals have expired: start a new request', 'REQUEST_EXPIRED');
    checkGathered(gathered, request, me.operatorId);
  } else request = requestOf(ctx, o.signedKeyId, o.transition);
  const key = loadKeyFile(me.keyFile, ctx.io.err);
  const mine = signTransition(bytes, request, me, key);
  if (!confirmed) {
    ctx.io.err(
      `You are about to ${o.what} on ${o.target} as ${me.operatorId} (${me.role}), operator key ${me.operatorKeyId} (public key ${publicKeyHex(key)}), with ${gathered.length} other approval(s): ${gathered.map((g) => g.operatorId).join(', ') || 'none'}.`,
    );
    const answer = (await ctx.io.ask(`Type "${o.transition}" to sign and send: `)).trim();
    if (answer !== o.transition) throw new CliError(ExitCode.FAILED, 'not confirmed: nothing was sent', 'NOT_CONFIRMED');
  }
  return {
    request,
    admin: AdminRequest.fromPartial({ requestId: request.requestId, keyId: o.keyId, expiresAt: String(request.expiresAt), approvals: [...gathered, mine].map(wire), reason }),
    operators: [...gathered.map((g) => g.operatorId), me.operatorId],
  };
}

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

const QUORUM_DETAILS = (transition: SignedTransition, extra = ''): string =>
  [
    'You sign the request as ONE operator. For a quorum, the other operators first run',
    `  custody keys sign-transition <key-id> --transition ${transition}${extra} --request-id R --expires-at T --operator … --key-file …`,
    'and you pass their output (one JSON document per line) with --approvals-file: the request id and expiry',
    'are taken from it. Without the quorum the signer answers QUORUM_NOT_MET (exit 1) and nothing changes.',
  ].join('\n');

function transitionCommand(transition: CliTransition, connect: ConnectKeyAdmin, loadBytes: LoadSigningBytes): CommandSpec {
  return {
    name: transition,
    summary:
      transition === 'suspend'
        ? 'suspend a key at once (signing stops); one operator\'s approval suffices by default'
        : 'resume a suspended key (back to inactive); needs the quorum (2 operators by default): gather the others with --approvals-file',
    positionals: ['<key-id>'],
    options: TRANSITION_OPTIONS,
    details: QUORUM_DETAILS(transition),
    run: async (ctx) => {
      const keyId = requireIdentifier('<key-id>', ctx.positionals[0] ?? '');
      const c = serverOf(ctx);
      const q = await signQuorum(ctx, { keyId, signedKeyId: keyId, transition, what: `${transition.toUpperCase()} key ${keyId}`, target: formatTarget(c.address) }, await loadBytes());
      const api = await connect(c.address, c.transport, c.timeoutMs);
      try {
        const info = await api.transition(transition, q.admin);
        const k = info ? keyToJson(info) : null;
        if (ctx.json) ctx.io.out(JSON.stringify({ ok: true, transition, keyId, requestId: q.request.requestId, operators: q.operators, key: k }));
        else ctx.io.out(`${transition === 'suspend' ? 'suspended' : 'resumed'} ${keyId}: state ${k?.state ?? 'unknown'} (approved by ${q.operators.join(', ')}; request ${q.request.requestId})`);
        return ExitCode.OK;
      } finally {
        api.close();
      }
    },
  };
}

const CEREMONY_OPTIONS: Readonly<Record<string, OptionSpec>> = {
  wallet: { type: 'string', placeholder: 'id', description: 'generate: the wallet the key belongs to' },
  chain: { type: 'string', placeholder: 'name', description: 'generate: the chain (e.g. ethereum, bitcoin)' },
  algorithm: { type: 'string', placeholder: 'secp256k1|ed25519', description: 'generate: the key algorithm' },
  tier: { type: 'string', placeholder: 'hot|warm|cold', description: 'generate: the wallet tier' },
  custody: { type: 'string', placeholder: 'local-sealed|pkcs11|vault', description: 'generate: where the key is generated and kept' },
};
const BACKUP_OPTIONS: Readonly<Record<string, OptionSpec>> = {
  threshold: { type: 'string', placeholder: 'm', description: 'backup: shares needed to restore (2 or more, at most the custodians)' },
  custodian: { type: 'string', multiple: true, placeholder: 'id=hex', description: 'backup: a custodian and the 64-hex X25519 public key its share is encrypted to' },
};
const RESTORE_OPTIONS: Readonly<Record<string, OptionSpec>> = {
  manifest: { type: 'string', placeholder: 'file', description: 'restore: the backup\'s manifest.json (written by `custody keys backup`)' },
};

const oneOf = (name: string, value: string, allowed: readonly string[]): string => {
  if (!allowed.includes(value)) throw new UsageError(`--${name} must be one of ${allowed.join(', ')}`);
  return value;
};

function generateParamsOf(ctx: CommandContext): GenerateParams {
  return {
    walletId: requireIdentifier('--wallet', requiredOption(ctx.values, 'wallet')),
    chain: requireIdentifier('--chain', requiredOption(ctx.values, 'chain')),
    algorithm: oneOf('algorithm', requiredOption(ctx.values, 'algorithm'), ['secp256k1', 'ed25519']),
    tier: oneOf('tier', requiredOption(ctx.values, 'tier'), ['hot', 'warm', 'cold']),
    custody: oneOf('custody', requiredOption(ctx.values, 'custody'), ['local-sealed', 'pkcs11', 'vault']),
  };
}

function custodiansOf(ctx: CommandContext): { threshold: number; custodians: { custodianId: string; publicKey: Uint8Array }[] } {
  const raw = (ctx.values['custodian'] as string[] | undefined) ?? [];
  const custodians = raw.map((text) => {
    const m = /^([A-Za-z0-9._@-]{1,128})=([0-9a-fA-F]{64})$/.exec(text);
    if (!m) throw new UsageError(`--custodian must be <id>=<64 hex X25519 public key>, got "${text.slice(0, 40)}"`);
    return { custodianId: m[1] ?? '', publicKey: new Uint8Array(Buffer.from(m[2] ?? '', 'hex')) };
  });
  if (custodians.length < 2) throw new UsageError('a backup needs at least 2 --custodian');
  if (new Set(custodians.map((c) => c.custodianId)).size !== custodians.length) throw new UsageError('a custodian appears twice');
  const threshold = integerOption(ctx.values, 'threshold', 2, custodians.length, 0);
  if (threshold === 0) throw new UsageError('--threshold is required (2 to the number of custodians)');
  return { threshold, custodians };
}

function readManifest(path: string): BackupManifestJson {
  let doc: unknown;
  try {
    doc = JSON.parse(readText('--manifest', path));
  } catch (err) {
    if (err instanceof UsageError) throw err;
    throw new UsageError(`--manifest ${path} is not JSON`);
  }
  const m = doc as Record<string, unknown>;
  if (m['format'] !== MANIFEST_FORMAT || typeof m['backupId'] !== 'string' || typeof m['keyId'] !== 'string' || typeof m['fingerprint'] !== 'string' || !Number.isInteger(m['threshold']) || !Number.isInteger(m['total']) || !Array.isArray(m['custodians'])) {
    throw new UsageError(`--manifest ${path} is not a ${MANIFEST_FORMAT} document`);
  }
  return doc as BackupManifestJson;
}

/** The key id as the signer has its operators sign it, for every transition. */
function signedKeyIdOf(ctx: CommandContext, keyId: string, transition: SignedTransition, requests: SignerRequests): string {
  switch (transition) {
    case 'suspend':
    case 'resume':
      return keyId;
    case 'generate':
      return requests.generationRequest({ requestId: '', keyId, expiresAt: 0, ...(generateParamsOf(ctx) as GenerateParams & { algorithm: 'secp256k1' | 'ed25519'; tier: 'hot' | 'warm' | 'cold'; custody: 'local-sealed' | 'pkcs11' | 'vault' }) }).keyId;
    case 'backup':
      return requests.backupRequest({ requestId: '', keyId, expiresAt: 0, ...custodiansOf(ctx) }).keyId;
    case 'restore': {
      const m = readManifest(requiredOption(ctx.values, 'manifest'));
      if (m.keyId !== keyId) throw new UsageError(`--manifest is a backup of ${m.keyId}, not ${keyId}`);
      return requests.restoreRequest({ requestId: '', keyId, expiresAt: 0, manifest: manifestOf(m) }).keyId;
    }
  }
}

const ceremony = (connect: ConnectKeyAdmin, loadBytes: LoadSigningBytes, loadRequests: LoadSignerRequests): CommandSpec => ({
  name: 'ceremony',
  summary: 'the key generation ceremony: the signer generates the key inside the named custody (→ inactive); needs the quorum (2 by default)',
  positionals: ['<key-id>'],
  options: { ...TRANSITION_OPTIONS, ...CEREMONY_OPTIONS },
  details: `${QUORUM_DETAILS('generate', ' --wallet W --chain C --algorithm A --tier T --custody K')}\nEvery parameter is signed: the others must sign the same wallet, chain, algorithm, tier and custody.\nThe new key is INACTIVE; activation is its own quorum step. Refusals: QUORUM_NOT_MET, KEY_EXISTS, …`,
  run: async (ctx) => {
    const keyId = requireIdentifier('<key-id>', ctx.positionals[0] ?? '');
    const params = generateParamsOf(ctx);
    const c = serverOf(ctx);
    const signedKeyId = signedKeyIdOf(ctx, keyId, 'generate', await loadRequests());
    const q = await signQuorum(ctx, { keyId, signedKeyId, transition: 'generate', what: `GENERATE key ${keyId} (${params.algorithm}, ${params.tier}, ${params.custody}, wallet ${params.walletId} on ${params.chain})`, target: formatTarget(c.address) }, await loadBytes());
    const api = await connect(c.address, c.transport, c.timeoutMs);
    try {
      const info = await api.generate(q.admin, params);
      const k = info ? keyToJson(info) : null;
      if (ctx.json) ctx.io.out(JSON.stringify({ ok: true, transition: 'generate', keyId, requestId: q.request.requestId, operators: q.operators, key: k }));
      else ctx.io.out(`generated ${keyId}: ${k?.algorithm ?? params.algorithm} ${k?.address ? `address ${k.address}, ` : ''}public key ${k?.publicKey ?? '?'}, state ${k?.state ?? 'unknown'} (approved by ${q.operators.join(', ')}; request ${q.request.requestId})`);
      return ExitCode.OK;
    } finally {
      api.close();
    }
  },
});

const MANIFEST_FORMAT = 'custody.key-backup-manifest.v1';
const SHARE_FORMAT = 'custody.key-backup-share.v1';
const OPENED_FORMAT = 'custody.key-backup-opened-share.v1';

interface BackupManifestJson {
  readonly format: typeof MANIFEST_FORMAT;
  readonly backupId: string;
  readonly keyId: string;
  readonly threshold: number;
  readonly total: number;
  readonly custodians: readonly string[];
  readonly fingerprint: string;
  readonly publicKey: string;
}

const manifestOf = (m: BackupManifestJson) => ({ backupId: m.backupId, threshold: m.threshold, total: m.total, custodians: [...m.custodians], fingerprint: m.fingerprint });

function writeNew(path: string, text: string): void {
  try {
    writeFileSync(path, text, { mode: 0o600, flag: 'wx' });
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw new CliError(code === 'EEXIST' ? ExitCode.USAGE : ExitCode.FAILED, `cannot write ${path}: ${code ?? 'error'}${code === 'EEXIST' ? ' (never overwritten)' : ''}`, code === 'EEXIST' ? 'USAGE' : 'WRITE_FAILED');
  }
}

const backup = (connect: ConnectKeyAdmin, loadBytes: LoadSigningBytes, loadRequests: LoadSignerRequests): CommandSpec => ({
  name: 'backup',
  summary: 'split a key into M-of-N Shamir shares, each encrypted to one custodian (X25519); writes the manifest and one share file per custodian',
  positionals: ['<key-id>'],
  options: { ...TRANSITION_OPTIONS, ...BACKUP_OPTIONS, 'out-dir': { type: 'string', placeholder: 'dir', description: 'where manifest.json and share-<custodian>.json are written (created; files are never overwritten)' } },
  details: `${QUORUM_DETAILS('backup', ' --threshold M --custodian id=hex …')}\nThe threshold and every custodian key are signed. Shares are encrypted to their custodian: only they can open one\n(\`custody keys open-share\`). The backup id is the request id. Quorum: at least 2, whatever the configuration.`,
  run: async (ctx) => {
    const keyId = requireIdentifier('<key-id>', ctx.positionals[0] ?? '');
    const outDir = requiredOption(ctx.values, 'out-dir');
    const { threshold, custodians } = custodiansOf(ctx);
    const c = serverOf(ctx);
    const signedKeyId = signedKeyIdOf(ctx, keyId, 'backup', await loadRequests());
    const q = await signQuorum(ctx, { keyId, signedKeyId, transition: 'backup', what: `BACK UP key ${keyId} as ${threshold}-of-${custodians.length} shares to ${custodians.map((x) => x.custodianId).join(', ')}`, target: formatTarget(c.address) }, await loadBytes());
    mkdirSync(outDir, { recursive: true, mode: 0o700 });
    const api = await connect(c.address, c.transport, c.timeoutMs);
    let res: Awaited<ReturnType<KeyAdminApi['backup']>>;
    try {
      res = await api.backup(q.admin, threshold, custodians.map((x) => ({ custodianId: x.custodianId, publicKey: Buffer.from(x.publicKey) })));
    } finally {
      api.close();
    }
    const m = res.manifest;
    if (!m || res.shares.length !== custodians.length) throw new CliError(ExitCode.FAILED, `the signer answered ${res.shares.length} shares for ${custodians.length} custodians`, 'MALFORMED_ANSWER');
    const manifest: BackupManifestJson = { format: MANIFEST_FORMAT, backupId: m.backupId, keyId, threshold: m.threshold, total: m.total, custodians: [...m.custodians], fingerprint: m.fingerprint, publicKey: res.key ? Buffer.from(res.key.publicKey).toString('hex') : '' };
    const files = [join(outDir, 'manifest.json')];
    writeNew(files[0] ?? '', `${JSON.stringify(manifest, null, 2)}\n`);
    for (const s of res.shares) {
      const file = join(outDir, `share-${s.custodianId}.json`);
      const doc = { format: SHARE_FORMAT, backupId: s.backupId, keyId, custodianId: s.custodianId, index: s.index, threshold: s.threshold, total: s.total, ephemeralPublicKey: Buffer.from(s.ephemeralPublicKey).toString('hex'), nonce: Buffer.from(s.nonce).toString('hex'), ciphertext: Buffer.from(s.ciphertext).toString('hex') };
      writeNew(file, `${JSON.stringify(doc, null, 2)}\n`);
      files.push(file);
    }
    if (ctx.json) ctx.io.out(JSON.stringify({ ok: true, transition: 'backup', keyId, requestId: q.request.requestId, operators: q.operators, manifest, files }));
    else ctx.io.out([`backed up ${keyId}: backup ${manifest.backupId}, ${manifest.threshold}-of-${manifest.total}, fingerprint ${manifest.fingerprint} (approved by ${q.operators.join(', ')})`, ...files.map((f) => `  wrote ${f}`)].join('\n'));
    return ExitCode.OK;
  },
});

function readJsonDoc(option: string, path: string, format: string): Record<string, unknown> {
  let doc: unknown;
  try {
    doc = JSON.parse(readText(option, path));
  } catch (err) {
    if (err instanceof UsageError) throw err;
    throw new UsageError(`${option} ${path} is not JSON`);
  }
  if (typeof doc !== 'object' || doc === null || (doc as Record<string, unknown>)['format'] !== format) throw new UsageError(`${option} ${path} is not a ${format} document`);
  return doc as Record<string, unknown>;
}

const hexField = (doc: Record<string, unknown>, name: string): Uint8Array => {
  const v = doc[name];
  if (typeof v !== 'string' || !/^([0-9a-f]{2})*$/.test(v)) throw new UsageError(`the share's ${name} is not hex`);
  return new Uint8Array(Buffer.from(v, 'hex'));
};

/** A custodian's X25519 secret key: 32 bytes as 64 hex digits or base64 (never printed). */
export function parseX25519Secret(text: string): Uint8Array {
  const t = text.trim();
  const bytes = /^[0-9a-fA-F]{64}$/.test(t) ? Buffer.from(t, 'hex') : /^[A-Za-z0-9+/]{43}=$/.test(t) ? Buffer.from(t, 'base64') : undefined;
  if (!bytes || bytes.length !== 32) throw new UsageError('--custodian-key-file must hold a 32-byte X25519 secret key as 64 hex digits or base64');
  return new Uint8Array(bytes);
}

const openShareCommand = (loadRequests: LoadSignerRequests): CommandSpec => ({
  name: 'open-share',
  summary: 'a custodian opens (decrypts) their backup share offline with their X25519 secret key, into a file for `custody keys restore`',
  options: {
    'share-file': { type: 'string', placeholder: 'file', description: 'the custodian\'s share-<custodian>.json (from `custody keys backup`)' },
    'custodian-key-file': { type: 'string', placeholder: 'file', description: 'the custodian\'s X25519 secret key (64 hex or base64; never printed)' },
    out: { type: 'string', placeholder: 'file', description: 'where the opened share is written (mode 600, never overwritten); it is secret: hand it only to the restoring operator' },
  },
  details: 'Nothing is sent anywhere. The opened share is a plaintext Shamir share: it never goes to stdout.',
  run: async (ctx) => {
    const share = readJsonDoc('--share-file', requiredOption(ctx.values, 'share-file'), SHARE_FORMAT);
    const secret = parseX25519Secret(readText('--custodian-key-file', requiredOption(ctx.values, 'custodian-key-file')));
    const out = requiredOption(ctx.values, 'out');
    const { openShare } = await loadRequests();
    let opened: Uint8Array;
    try {
      opened = openShare(
        {
          backupId: String(share['backupId']),
          custodianId: String(share['custodianId']),
          index: Number(share['index']),
          threshold: Number(share['threshold']),
          total: Number(share['total']),
          ephemeralPublicKey: hexField(share, 'ephemeralPublicKey'),
          nonce: hexField(share, 'nonce'),
          ciphertext: hexField(share, 'ciphertext'),
        },
        secret,
      );
    } catch (err) {
      if (err instanceof UsageError) throw err;
      throw new CliError(ExitCode.FAILED, 'the share does not open with this key (another custodian\'s key, or the share was altered)', 'SHARE_NOT_OPENED');
    } finally {
      secret.fill(0);
    }
    writeNew(out, `${JSON.stringify({ format: OPENED_FORMAT, backupId: share['backupId'], keyId: share['keyId'], custodianId: share['custodianId'], index: share['index'], share: Buffer.from(opened).toString('hex') })}\n`);
    opened.fill(0);
    if (ctx.json) ctx.io.out(JSON.stringify({ ok: true, backupId: share['backupId'], custodianId: share['custodianId'], index: share['index'], file: out }));
    else ctx.io.out(`opened share ${String(share['index'])} of backup ${String(share['backupId'])} for ${String(share['custodianId'])}: wrote ${out}`);
    return ExitCode.OK;
  },
});

const restore = (connect: ConnectKeyAdmin, loadBytes: LoadSigningBytes, loadRequests: LoadSignerRequests): CommandSpec => ({
  name: 'restore',
  summary: 'rebuild a key from at least M opened shares; the signer checks it is the inventory\'s key and re-seals it; needs the quorum (2)',
  positionals: ['<key-id>'],
  options: { ...TRANSITION_OPTIONS, ...RESTORE_OPTIONS, 'opened-share': { type: 'string', multiple: true, placeholder: 'file', description: 'a share opened by its custodian (`custody keys open-share`)' } },
  details: `${QUORUM_DETAILS('restore', ' --manifest manifest.json')}\nThe backup id, threshold and fingerprint are signed. Refusals: QUORUM_NOT_MET, BACKUP_INVALID (wrong shares), …`,
  run: async (ctx) => {
    const keyId = requireIdentifier('<key-id>', ctx.positionals[0] ?? '');
    const manifest = readManifest(requiredOption(ctx.values, 'manifest'));
    const files = (ctx.values['opened-share'] as string[] | undefined) ?? [];
    const shares = files.map((f) => {
      const d = readJsonDoc('--opened-share', f, OPENED_FORMAT);
      if (d['backupId'] !== manifest.backupId) throw new UsageError(`--opened-share ${f} is a share of backup ${String(d['backupId'])}, not ${manifest.backupId}`);
      return { custodianId: String(d['custodianId']), index: Number(d['index']), share: hexField(d, 'share') };
    });
    if (shares.length < manifest.threshold) throw new UsageError(`the backup needs ${manifest.threshold} opened shares, got ${shares.length}`);
    const c = serverOf(ctx);
    const signedKeyId = signedKeyIdOf(ctx, keyId, 'restore', await loadRequests());
    const q = await signQuorum(ctx, { keyId, signedKeyId, transition: 'restore', what: `RESTORE key ${keyId} from backup ${manifest.backupId} (${shares.length} shares)`, target: formatTarget(c.address) }, await loadBytes());
    const wireShares = shares.map((x) => ({ custodianId: x.custodianId, index: x.index, share: Buffer.from(x.share) }));
    const api = await connect(c.address, c.transport, c.timeoutMs);
    try {
      const info = await api.restore(q.admin, { ...manifestOf(manifest), keyId }, wireShares);
      const k = info ? keyToJson(info) : null;
      if (ctx.json) ctx.io.out(JSON.stringify({ ok: true, transition: 'restore', keyId, backupId: manifest.backupId, requestId: q.request.requestId, operators: q.operators, key: k }));
      else ctx.io.out(`restored ${keyId} from backup ${manifest.backupId}: state ${k?.state ?? 'unknown'} (approved by ${q.operators.join(', ')})`);
      return ExitCode.OK;
    } finally {
      for (const s of [...shares, ...wireShares]) s.share.fill(0);
      api.close();
    }
  },
});

const signOnly = (loadBytes: LoadSigningBytes, loadRequests: LoadSignerRequests): CommandSpec => ({
  name: 'sign-transition',
  summary: 'sign your approval of a key request offline and print it (for another operator\'s --approvals-file)',
  positionals: ['<key-id>'],
  options: { transition: { type: 'string', placeholder: 'suspend|resume|generate|backup|restore', description: 'the request you approve' }, ...SIGNER_OPTIONS, ...CEREMONY_OPTIONS, ...BACKUP_OPTIONS, ...RESTORE_OPTIONS },
  details: [
    'Prints ONE JSON approval document (custody.key-approval.v1) on stdout: the request, your operator id, role,',
    'operator key id and signature — never the key. The first operator picks the request id and expiry; the',
    'others sign with the same --request-id and --expires-at. Nothing is sent to the signer.',
    'generate needs --wallet --chain --algorithm --tier --custody; backup --threshold and every --custodian;',
    'restore --manifest: the same values the sending operator gives, or the signer does not count the approval.',
  ].join('\n'),
  run: async (ctx) => {
    const keyId = requireIdentifier('<key-id>', ctx.positionals[0] ?? '');
    const transition = requireTransition(requiredOption(ctx.values, 'transition'));
    const me = identityOf(ctx);
    const signedKeyId = signedKeyIdOf(ctx, keyId, transition, transition === 'suspend' || transition === 'resume' ? NO_REQUESTS : await loadRequests());
    const request = requestOf(ctx, signedKeyId, transition);
    const key = loadKeyFile(me.keyFile, ctx.io.err);
    ctx.io.out(JSON.stringify(signTransition(await loadBytes(), request, me, key)));
    return ExitCode.OK;
  },
});

export function keysGroupWith(connect: ConnectKeyAdmin = grpcConnect, loadBytes: LoadSigningBytes = signerSigningBytes, loadRequests: LoadSignerRequests = signerRequests): CommandGroup {
  return {
    name: 'keys',
    summary: 'the signer\'s keys (KeyAdminService): list, suspend, resume, ceremony, backup, open-share, restore, sign-transition',
    commands: [
      list(connect),
      transitionCommand('suspend', connect, loadBytes),
      transitionCommand('resume', connect, loadBytes),
      ceremony(connect, loadBytes, loadRequests),
      backup(connect, loadBytes, loadRequests),
      openShareCommand(loadRequests),
      restore(connect, loadBytes, loadRequests),
      signOnly(loadBytes, loadRequests),
    ],
  };
}

export const keysGroup: CommandGroup = keysGroupWith();
