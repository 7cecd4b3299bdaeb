// `custody maintenance list|schedule|cancel` — intake's IntakeAdminService maintenance notices
// (docs/intake.md "Admin API"). Every call, reads too, is authenticated twice by intake: the
// operator's pinned client certificate (mTLS: --cert/--key/--ca) and an Ed25519 signature over
// intake's canonical request encoding with the operator's key (--operator, --key-id,
// --key-file). The gRPC client and intake's signing entry are loaded only when needed.
import { timestampFromDate, timestampToDate, type ScheduleMaintenanceRequest } from '@custody/contracts';
import { integerOption, requiredOption, stringOption } from '../args.js';
import { loadKeyFile } from '../approvals/commands.js';
import { publicKeyHex, requireIdentifier } from '../approvals/signing.js';
import { formatTarget, parseServerAddress, transportOf, type ServerAddress, type Transport } from '../approvals/transport.js';
import { CliError, ExitCode, UsageError, type CommandContext, type CommandGroup, type CommandSpec, type OptionSpec, type ParsedValues } from '../types.js';
import type { MaintenanceAdminApi } from './client.js';
import { effectOf, formatNoticeTable, noticeToJson, scopeOf, windowToJson } from './format.js';
import { signAdminCall, type AdminOperator } from './signing.js';

const CONNECTION_OPTIONS: Readonly<Record<string, OptionSpec>> = {
  server: { type: 'string', placeholder: 'host:port', description: 'intake IntakeAdminService (default $CUSTODY_INTAKE_ADMIN_SERVER; required)' },
  cert: { type: 'string', placeholder: 'file', description: 'mTLS: your operator client certificate (PEM; its SHA-256 is pinned in intake\'s operators file)' },
  key: { type: 'string', placeholder: 'file', description: 'mTLS: the client certificate\'s private key (PEM)' },
  ca: { type: 'string', placeholder: 'file', description: 'mTLS: the CA certificate that signed the server\'s certificate (PEM)' },
  'insecure-loopback': { type: 'boolean', description: 'plaintext gRPC, 127.0.0.1 only (intake\'s admin API still requires a client certificate)' },
  timeout: { type: 'string', placeholder: 'seconds', description: 'deadline of each call (default 10)' },
  operator: { type: 'string', placeholder: 'id', description: 'your operator id (intake\'s operators file); every call is signed, reads too' },
  'key-id': { type: 'string', placeholder: 'id', description: 'the id of your operator signing key' },
  'key-file': { type: 'string', placeholder: 'file', description: 'your Ed25519 private key: PKCS#8 PEM, or a 32-byte seed as hex or base64 (never printed)' },
};

/** A connected, signing client; `operator` is who signs. */
export type ConnectMaintenance = (address: ServerAddress, transport: Transport, timeoutMs: number, operator: AdminOperator) => Promise<MaintenanceAdminApi>;

const grpcConnect: ConnectMaintenance = async (address, transport, timeoutMs, operator) => {
  const [{ connectIntakeAdmin }, intake] = await Promise.all([
    import('./client.js'),
    // intake's own canonical encoding, bodies and header names, from its exported package entry.
    // eslint-disable-next-line @nx/enforce-module-boundaries
    import('@custody/intake'),
  ]);
  const signing = { encodeSigningInput: intake.encodeSigningInput, headers: intake.AuthHeaders, servicePath: intake.ADMIN_SERVICE_PATH };
  return connectIntakeAdmin(address, transport, timeoutMs, intake.adminBodies, (rpc, body) => signAdminCall(signing, rpc, body, operator, Date.now()));
};

function serverOf(ctx: CommandContext): { address: ServerAddress; transport: Transport; timeoutMs: number } {
  const text = stringOption(ctx.values, 'server') ?? ctx.io.env['CUSTODY_INTAKE_ADMIN_SERVER'];
  if (!text) throw new UsageError('--server (or $CUSTODY_INTAKE_ADMIN_SERVER) is required: intake\'s admin API address');
  const address = parseServerAddress(text);
  return { address, transport: transportOf(ctx.values, address), timeoutMs: integerOption(ctx.values, 'timeout', 1, 300, 10) * 1000 };
}

function operatorOf(ctx: CommandContext): AdminOperator {
  const operatorId = requireIdentifier('--operator', requiredOption(ctx.values, 'operator'));
  const keyId = requireIdentifier('--key-id', requiredOption(ctx.values, 'key-id'));
  return { operatorId, keyId, key: loadKeyFile(requiredOption(ctx.values, 'key-file'), ctx.io.err) };
}

const ISO_TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(?::\d{2}(?:\.\d{1,9})?)?(?:Z|[+-]\d{2}:\d{2})$/;

/** An ISO 8601 time WITH a zone (Z or ±hh:mm): a maintenance notice never depends on the operator's local zone. */
export function parseTime(name: string, text: string): Date {
  const d = new Date(text);
  if (!ISO_TIME.test(text) || Number.isNaN(d.getTime())) throw new UsageError(`--${name} must be an ISO 8601 time with a zone, e.g. 2026-12-01T02:00:00Z, got "${text}"`);
  return d;
}

/** "90m", "2h", "1d" → milliseconds (1 minute to 30 days). */
export function parseDuration(text: string): number {
  const m = /^(\d{1,5})([mhd])$/.exec(text);
  const ms = m ? Number(m[1]) * { m: 60_000, h: 3_600_000, d: 86_400_000 }[m[2] as 'm' | 'h' | 'd'] : NaN;
  if (!(ms >= 60_000 && ms <= 30 * 86_400_000)) throw new UsageError(`--duration must be minutes, hours or days, e.g. 90m, 2h, 1d (at most 30d), got "${text}"`);
  return ms;
}

const strings = (values: ParsedValues, name: string): string[] => {
  const v = values[name];
  return Array.isArray(v) ? v.filter((x): x is string => typeof x === 'string') : [];
};

/** The ScheduleMaintenance request from the options (validated as far as the CLI can; intake validates again). */
export function scheduleRequestOf(values: ParsedValues): ScheduleMaintenanceRequest {
  const startsAt = parseTime('starts-at', requiredOption(values, 'starts-at'));
  const endsText = stringOption(values, 'ends-at');
  const durationText = stringOption(values, 'duration');
  if ((endsText === undefined) === (durationText === undefined)) throw new UsageError('give --ends-at or --duration (one of them)');
  const endsAt = endsText !== undefined ? parseTime('ends-at', endsText) : new Date(startsAt.getTime() + parseDuration(durationText ?? ''));
  if (endsAt <= startsAt) throw new UsageError('--ends-at must be after --starts-at');
  const withdrawalsSuspended = values['suspend-withdrawals'] === true;
  const depositsDelayed = values['delay-deposits'] === true;
  if (!withdrawalsSuspended && !depositsDelayed) throw new UsageError('a window must --suspend-withdrawals and/or --delay-deposits');
  const description = requiredOption(values, 'description').trim();
  if (description.length === 0 || description.length > 2000) throw new UsageError('--description must be 1 to 2000 characters (integrators read it)');
  const assets = strings(values, 'asset');
  const chains = strings(values, 'chain');
  if (values['everything'] === true ? assets.length + chains.length > 0 : assets.length + chains.length === 0) {
    throw new UsageError('give the scope: --asset and/or --chain (repeatable), or --everything for all assets and chains');
  }
  return { chains, assets, startsAt: timestampFromDate(startsAt), endsAt: timestampFromDate(endsAt), withdrawalsSuspended, depositsDelayed, description };
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

async function confirm(ctx: CommandContext, what: string, word: string): Promise<void> {
  if (ctx.values['yes'] === true) return;
  if (!ctx.io.interactive) throw new UsageError('--yes is required when stdin is not a terminal');
  ctx.io.err(what);
  const answer = (await ctx.io.ask(`Type "${word}" to sign and send: `)).trim();
  if (answer !== word) throw new CliError(ExitCode.FAILED, 'not confirmed: nothing was sent', 'NOT_CONFIRMED');
}

async function withApi<T>(ctx: CommandContext, connect: ConnectMaintenance, op: AdminOperator, c: ReturnType<typeof serverOf>, fn: (api: MaintenanceAdminApi) => Promise<T>): Promise<T> {
  const api = await connect(c.address, c.transport, c.timeoutMs, op);
  try {
    return await fn(api);
  } finally {
    api.close();
  }
}

const list = (connect: ConnectMaintenance): CommandSpec => ({
  name: 'list',
  summary: 'the maintenance notices: by default the windows not ended and not cancelled, earliest first',
  options: {
    ...CONNECTION_OPTIONS,
    'include-ended': { type: 'boolean', description: 'also windows that have ended' },
    'include-cancelled': { type: 'boolean', description: 'also cancelled windows (with who cancelled them)' },
    all: { type: 'boolean', short: 'a', description: 'both of the above' },
    limit: { type: 'string', placeholder: 'n', description: 'at most n notices, the latest-starting kept (1-1000, default 100)' },
  },
  run: async (ctx) => {
    const all = ctx.values['all'] === true;
    const req = {
      includeEnded: all || ctx.values['include-ended'] === true,
      includeCancelled: all || ctx.values['include-cancelled'] === true,
      limit: integerOption(ctx.values, 'limit', 1, 1000, 100),
    };
    const c = serverOf(ctx);
    const op = operatorOf(ctx);
    const res = await withApi(ctx, connect, op, c, (api) => api.list(req));
    const notices = res.notices.map(noticeToJson);
    ctx.io.out(ctx.json ? JSON.stringify({ ok: true, notices, truncated: res.truncated }) : formatNoticeTable(notices, res.truncated));
    return ExitCode.OK;
  },
});

const schedule = (connect: ConnectMaintenance): CommandSpec => ({
  name: 'schedule',
  summary: 'announce a maintenance window (at least intake\'s minimum notice ahead); integrators see it in GetServiceStatus',
  options: {
    ...CONNECTION_OPTIONS,
    'starts-at': { type: 'string', placeholder: 'time', description: 'start, ISO 8601 with a zone (e.g. 2026-12-01T02:00:00Z)' },
    'ends-at': { type: 'string', placeholder: 'time', description: 'end, ISO 8601 with a zone' },
    duration: { type: 'string', placeholder: '90m|2h|1d', description: 'instead of --ends-at: the length of the window' },
    asset: { type: 'string', multiple: true, placeholder: 'id', description: 'an asset the window covers (e.g. ETH)' },
    chain: { type: 'string', multiple: true, placeholder: 'name', description: 'a chain the window covers (every asset on it)' },
    everything: { type: 'boolean', description: 'the window covers every asset and chain' },
    'suspend-withdrawals': { type: 'boolean', description: 'new withdrawals of the covered assets are refused during the window' },
    'delay-deposits': { type: 'boolean', description: 'deposits of the covered assets are delayed during the window' },
    description: { type: 'string', placeholder: 'text', description: 'what integrators are told (1-2000 characters)' },
    yes: { type: 'boolean', short: 'y', description: 'do not ask for confirmation (required when stdin is not a terminal)' },
  },
  details: [
    'Example:',
    '  custody maintenance schedule --asset ETH --starts-at 2026-12-01T02:00:00Z --duration 2h \\',
    '      --suspend-withdrawals --description "Ethereum node upgrade" --operator alice --key-id alice-k1 \\',
    '      --key-file ~/.custody/alice.pem --cert op.crt --key op.key --ca ca.crt --server intake-admin:50052',
    'intake refuses a window inside its minimum notice (MAINTENANCE_NOTICE_TOO_SHORT, exit 1); the operator',
    'recorded as announced_by is the one who signed, never an option.',
  ].join('\n'),
  run: async (ctx) => {
    const req = scheduleRequestOf(ctx.values);
    const c = serverOf(ctx);
    const op = operatorOf(ctx);
    const shown = windowToJson({ maintenanceId: '', ...req });
    await confirm(
      ctx,
      `You are about to ANNOUNCE maintenance on ${formatTarget(c.address)} as ${op.operatorId} (key ${op.keyId}, public key ${publicKeyHex(op.key)}): ${shown.startsAt} → ${shown.endsAt}, ${scopeOf(shown)}, ${effectOf(shown)}: "${req.description}".`,
      'schedule',
    );
    const res = await withApi(ctx, connect, op, c, (api) => api.schedule(req));
    const w = windowToJson(res.window, { state: 'upcoming', announcedBy: op.operatorId });
    if (ctx.json) ctx.io.out(JSON.stringify({ ok: true, notice: w }));
    else ctx.io.out(`scheduled ${w.maintenanceId}: ${w.startsAt} → ${w.endsAt}, ${scopeOf(w)}, ${effectOf(w)} (announced by ${op.operatorId})`);
    return ExitCode.OK;
  },
});

const cancel = (connect: ConnectMaintenance): CommandSpec => ({
  name: 'cancel',
  summary: 'cancel a window that has not ended (a running one too: cancelling only gives service back)',
  positionals: ['<maintenance-id>'],
  options: {
    ...CONNECTION_OPTIONS,
    reason: { type: 'string', placeholder: 'text', description: 'recorded with the cancellation (at most 500 characters)' },
    yes: { type: 'boolean', short: 'y', description: 'do not ask for confirmation (required when stdin is not a terminal)' },
  },
  details: 'Refusals (exit 1): MAINTENANCE_NOT_FOUND, MAINTENANCE_ALREADY_CANCELLED, MAINTENANCE_ENDED, AUDIT_UNAVAILABLE, …',
  run: async (ctx) => {
    const id = ctx.positionals[0] ?? '';
    if (!UUID.test(id)) throw new UsageError('<maintenance-id> must be the id printed by `custody maintenance schedule` / `list` (a UUID)');
    const reason = stringOption(ctx.values, 'reason') ?? '';
    if (reason.length > 500) throw new UsageError('--reason must be at most 500 characters');
    const c = serverOf(ctx);
    const op = operatorOf(ctx);
    await confirm(ctx, `You are about to CANCEL maintenance ${id} on ${formatTarget(c.address)} as ${op.operatorId} (key ${op.keyId}).`, 'cancel');
    const res = await withApi(ctx, connect, op, c, (api) => api.cancel({ maintenanceId: id, reason }));
    const cancelledAt = res.cancelledAt ? timestampToDate(res.cancelledAt).toISOString() : null;
    if (ctx.json) ctx.io.out(JSON.stringify({ ok: true, maintenanceId: res.maintenanceId, cancelledAt, cancelledBy: op.operatorId }));
    else ctx.io.out(`cancelled ${res.maintenanceId} at ${cancelledAt ?? '?'} (by ${op.operatorId})`);
    return ExitCode.OK;
  },
});

export function maintenanceGroupWith(connect: ConnectMaintenance = grpcConnect): CommandGroup {
  return {
    name: 'maintenance',
    summary: 'maintenance notices (intake IntakeAdminService): list, schedule, cancel',
    commands: [list(connect), schedule(connect), cancel(connect)],
  };
}

export const maintenanceGroup: CommandGroup = maintenanceGroupWith();
