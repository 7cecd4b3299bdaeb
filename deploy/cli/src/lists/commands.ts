// `custody list import|import-ofac|status` — risk's ScreeningListService (docs/risk.md
// "Screening lists"): import an operator's block/allow list file (CSV or JSON) in batches with a
// per-line report, import an OFAC SDN file, show the list's freshness. risk authenticates the
// operator from the mTLS client certificate; the gRPC client is loaded only when needed.
import { readFileSync } from 'node:fs';
import { ImportEntryOutcome, InternalList, ListState, OfacListFormat, timestampFromDate, timestampToDate, type ImportInternalEntry, type Timestamp } from '@custody/contracts';
import { integerOption, stringOption } from '../args.js';
import { formatTarget, parseServerAddress, transportOf, type ServerAddress, type Transport } from '../approvals/transport.js';
import { CliError, ExitCode, UsageError, type CommandContext, type CommandGroup, type CommandSpec, type OptionSpec } from '../types.js';
import type { ScreeningListApi } from './client.js';
import { formatOf, parseCsv, parseJson, type FileEntry, type ListName } from './parse.js';

const CONNECTION_OPTIONS: Readonly<Record<string, OptionSpec>> = {
  server: { type: 'string', placeholder: 'host:port', description: 'risk ScreeningListService (default $CUSTODY_RISK_SERVER; required)' },
  cert: { type: 'string', placeholder: 'file', description: 'mTLS: your operator client certificate (PEM; risk takes the operator id from its subject CN)' },
  key: { type: 'string', placeholder: 'file', description: 'mTLS: the client certificate\'s private key (PEM)' },
  ca: { type: 'string', placeholder: 'file', description: 'mTLS: the CA certificate that signed the server\'s certificate (PEM)' },
  'insecure-loopback': { type: 'boolean', description: 'plaintext gRPC, allowed for a server on 127.0.0.1 only' },
  timeout: { type: 'string', placeholder: 'seconds', description: 'deadline of each call (default 30)' },
};

export type ConnectScreeningLists = (address: ServerAddress, transport: Transport, timeoutMs: number) => Promise<ScreeningListApi>;
const grpcConnect: ConnectScreeningLists = async (address, transport, timeoutMs) => (await import('./client.js')).connectScreeningLists(address, transport, timeoutMs);

function serverOf(ctx: CommandContext): { address: ServerAddress; transport: Transport; timeoutMs: number } {
  const text = stringOption(ctx.values, 'server') ?? ctx.io.env['CUSTODY_RISK_SERVER'];
  if (!text) throw new UsageError('--server (or $CUSTODY_RISK_SERVER) is required: risk\'s ScreeningListService address');
  const address = parseServerAddress(text);
  return { address, transport: transportOf(ctx.values, address), timeoutMs: integerOption(ctx.values, 'timeout', 1, 600, 30) * 1000 };
}

function readInput(path: string): Buffer {
  try {
    return readFileSync(path);
  } catch (err) {
    throw new UsageError(`cannot read ${path}: ${(err as NodeJS.ErrnoException).code ?? 'error'}`);
  }
}

async function withApi<T>(connect: ConnectScreeningLists, c: ReturnType<typeof serverOf>, fn: (api: ScreeningListApi) => Promise<T>): Promise<T> {
  const api = await connect(c.address, c.transport, c.timeoutMs);
  try {
    return await fn(api);
  } finally {
    api.close();
  }
}

export type LineOutcome = 'added' | 'already_active' | 'rejected' | 'would_add';

export interface LineResult {
  readonly line: number;
  readonly outcome: LineOutcome;
  readonly entryId: string | null;
  readonly addressKey: string | null;
  readonly reasonCode: string | null;
  readonly message: string | null;
}

const OUTCOMES: Readonly<Partial<Record<ImportEntryOutcome, LineOutcome>>> = {
  [ImportEntryOutcome.IMPORT_ENTRY_OUTCOME_ADDED]: 'added',
  [ImportEntryOutcome.IMPORT_ENTRY_OUTCOME_ALREADY_ACTIVE]: 'already_active',
  [ImportEntryOutcome.IMPORT_ENTRY_OUTCOME_REJECTED]: 'rejected',
  [ImportEntryOutcome.IMPORT_ENTRY_OUTCOME_WOULD_ADD]: 'would_add',
};

const toWire = (e: FileEntry): ImportInternalEntry => ({
  line: e.line,
  list: e.list === 'block' ? InternalList.INTERNAL_LIST_BLOCK : InternalList.INTERNAL_LIST_ALLOW,
  chain: e.chain,
  address: e.address,
  reason: e.reason,
  expiresAt: e.expiresAt ? timestampFromDate(e.expiresAt) : undefined,
});

export interface ImportSummary {
  readonly lines: number;
  readonly added: number;
  readonly alreadyActive: number;
  readonly wouldAdd: number;
  readonly rejected: number;
}

export function summarize(results: readonly LineResult[]): ImportSummary {
  const n = (o: LineOutcome) => results.filter((r) => r.outcome === o).length;
  return { lines: results.length, added: n('added'), alreadyActive: n('already_active'), wouldAdd: n('would_add'), rejected: n('rejected') };
}

export function formatImportReport(results: readonly LineResult[], dryRun: boolean): string {
  const s = summarize(results);
  const rejected = results.filter((r) => r.outcome === 'rejected').map((r) => `line ${r.line}: rejected ${r.reasonCode ?? ''}: ${r.message ?? ''}`);
  const summary = dryRun
    ? `dry run: ${s.wouldAdd} would be added, ${s.alreadyActive} already active, ${s.rejected} rejected (of ${s.lines} lines); nothing was stored`
    : `${s.added} added, ${s.alreadyActive} already active, ${s.rejected} rejected (of ${s.lines} lines)`;
  return [...rejected, summary].join('\n');
}

const importEntries = (connect: ConnectScreeningLists): CommandSpec => ({
  name: 'import',
  summary: 'import internal block/allow list entries from a CSV or JSON file, in batches, with a per-line report',
  positionals: ['<file>'],
  options: {
    ...CONNECTION_OPTIONS,
    format: { type: 'string', placeholder: 'csv|json', description: 'the file format (default: from the file name: .csv, .json, .jsonl)' },
    list: { type: 'string', placeholder: 'block|allow', description: 'the list of rows that do not name one' },
    'dry-run': { type: 'boolean', description: 'validate only: risk reports what would be added, stores nothing' },
    'batch-size': { type: 'string', placeholder: 'n', description: 'entries per call (1-1000, default 500)' },
    yes: { type: 'boolean', short: 'y', description: 'do not ask for confirmation (required when stdin is not a terminal, except --dry-run)' },
  },
  details: [
    'CSV: a header row naming the columns list, chain, address, reason, expires_at (list and expires_at optional;',
    'quoted fields as in RFC 4180; blank lines and lines starting with # skipped), e.g.',
    '  list,chain,address,reason,expires_at',
    '  block,ethereum-mainnet,0x098B716B8Aaf21512996dC57EB0615e2383E2f96,fraud report 4711,2027-06-30T00:00:00Z',
    'JSON: an array of {"list","chain","address","reason","expiresAt"} objects, or one object per line.',
    'Each line is reported: added, already active (an active entry of the same list holds the address: nothing',
    'added, so importing a file again adds nothing twice), or rejected with its reason (INVALID_ADDRESS, ...;',
    'MALFORMED_LINE when the CLI could not read the line: never sent). Exit 0 when no line was rejected, else 1.',
  ].join('\n'),
  run: async (ctx) => {
    const path = ctx.positionals[0] ?? '';
    const listOption = stringOption(ctx.values, 'list');
    if (listOption !== undefined && listOption !== 'block' && listOption !== 'allow') throw new UsageError('--list must be block or allow');
    const format = formatOf(path, stringOption(ctx.values, 'format'));
    const batchSize = integerOption(ctx.values, 'batch-size', 1, 1000, 500);
    const dryRun = ctx.values['dry-run'] === true;
    const c = serverOf(ctx);
    const text = readInput(path).toString('utf8');
    const parsed = format === 'csv' ? parseCsv(text, listOption as ListName | undefined) : parseJson(text, listOption as ListName | undefined);
    if (!dryRun && ctx.values['yes'] !== true) {
      if (!ctx.io.interactive) throw new UsageError('--yes is required when stdin is not a terminal (or --dry-run)');
      ctx.io.err(`You are about to import ${parsed.entries.length} entries from ${path} into risk on ${formatTarget(c.address)} (${parsed.rejected.length} unreadable line(s) are skipped).`);
      if ((await ctx.io.ask('Type "import" to send: ')).trim() !== 'import') throw new CliError(ExitCode.FAILED, 'not confirmed: nothing was sent', 'NOT_CONFIRMED');
    }
    const results: LineResult[] = parsed.rejected.map((r) => ({ line: r.line, outcome: 'rejected', entryId: null, addressKey: null, reasonCode: r.reasonCode, message: r.message }));
    if (parsed.entries.length > 0) {
      await withApi(connect, c, async (api) => {
        for (let at = 0; at < parsed.entries.length; at += batchSize) {
          const batch = parsed.entries.slice(at, at + batchSize);
          const res = await api.importEntries({ entries: batch.map(toWire), dryRun });
          if (res.results.length !== batch.length) throw new CliError(ExitCode.FAILED, `risk answered ${res.results.length} results for ${batch.length} entries`, 'MALFORMED_ANSWER');
          for (const r of res.results) {
            const outcome = OUTCOMES[r.outcome];
            if (!outcome) throw new CliError(ExitCode.FAILED, `risk answered an unknown outcome ${r.outcome} for line ${r.line}`, 'MALFORMED_ANSWER');
            results.push({ line: r.line, outcome, entryId: r.entryId || null, addressKey: r.addressKey || null, reasonCode: r.reasonCode || null, message: r.message || null });
          }
          ctx.io.err(`custody: ${dryRun ? 'checked' : 'imported'} ${Math.min(at + batchSize, parsed.entries.length)}/${parsed.entries.length} entries`);
        }
      });
    }
    results.sort((a, b) => a.line - b.line);
    const s = summarize(results);
    if (ctx.json) ctx.io.out(JSON.stringify({ ok: s.rejected === 0, dryRun, ...s, results }));
    else ctx.io.out(formatImportReport(results, dryRun));
    return s.rejected === 0 ? ExitCode.OK : ExitCode.FAILED;
  },
});

const OFAC_FORMATS: Readonly<Record<string, OfacListFormat>> = {
  auto: OfacListFormat.OFAC_LIST_FORMAT_UNSPECIFIED,
  'sdn-advanced-xml': OfacListFormat.OFAC_LIST_FORMAT_SDN_ADVANCED_XML,
  'sdn-xml': OfacListFormat.OFAC_LIST_FORMAT_SDN_XML,
  'sdn-csv': OfacListFormat.OFAC_LIST_FORMAT_SDN_CSV,
};
const ofacFormatName = (f: OfacListFormat): string => Object.entries(OFAC_FORMATS).find(([, v]) => v === f)?.[0] ?? 'unknown';
const iso = (t: Timestamp | undefined): string | null => (t ? timestampToDate(t).toISOString() : null);

const importOfac = (connect: ConnectScreeningLists): CommandSpec => ({
  name: 'import-ofac',
  summary: 'import an OFAC SDN file as published (sdn_advanced.xml, sdn.xml or SDN.CSV): versioned, diffed, audited by risk',
  positionals: ['<file>'],
  options: {
    ...CONNECTION_OPTIONS,
    format: { type: 'string', placeholder: 'auto|sdn-advanced-xml|sdn-xml|sdn-csv', description: 'refuse the file unless it is this format (default auto)' },
    note: { type: 'string', placeholder: 'text', description: 'why / from where, kept in the audit log (e.g. "daily refresh, downloaded 2026-11-24")' },
    yes: { type: 'boolean', short: 'y', description: 'do not ask for confirmation (required when stdin is not a terminal)' },
  },
  details: 'Identical content only refreshes the list\'s freshness (changed: false). A file risk cannot read is refused: INVALID_LIST (exit 1), the current list unchanged.',
  run: async (ctx) => {
    const path = ctx.positionals[0] ?? '';
    const formatName = stringOption(ctx.values, 'format') ?? 'auto';
    const format = OFAC_FORMATS[formatName];
    if (format === undefined) throw new UsageError(`--format must be one of ${Object.keys(OFAC_FORMATS).join(', ')}`);
    const note = stringOption(ctx.values, 'note') ?? '';
    const c = serverOf(ctx);
    const content = readInput(path);
    if (ctx.values['yes'] !== true) {
      if (!ctx.io.interactive) throw new UsageError('--yes is required when stdin is not a terminal');
      ctx.io.err(`You are about to import ${path} (${content.length} bytes) as the OFAC SDN list of risk on ${formatTarget(c.address)}.`);
      if ((await ctx.io.ask('Type "import" to send: ')).trim() !== 'import') throw new CliError(ExitCode.FAILED, 'not confirmed: nothing was sent', 'NOT_CONFIRMED');
    }
    ctx.io.err(`custody: sending ${content.length} bytes; risk parses and diffs the list (large files take a while)`);
    const r = await withApi(connect, c, (api) => api.importOfac({ format, content, note }));
    const doc = { version: r.version, previousVersion: r.previousVersion || null, changed: r.changed, added: r.added, removed: r.removed, total: r.total, format: ofacFormatName(r.format), importedAt: iso(r.importedAt), warnings: r.warnings };
    if (ctx.json) ctx.io.out(JSON.stringify({ ok: true, ...doc }));
    else
      ctx.io.out(
        [`${r.changed ? 'imported' : 'unchanged (freshness confirmed)'}: version ${r.version} (${doc.format}), ${r.total} addresses, +${r.added} -${r.removed}`, ...r.warnings.map((w) => `warning: ${w}`)].join('\n'),
      );
    return ExitCode.OK;
  },
});

const status = (connect: ConnectScreeningLists): CommandSpec => ({
  name: 'status',
  summary: 'the OFAC list\'s freshness as screening sees it (missing or stale = screening fails closed)',
  options: CONNECTION_OPTIONS,
  details: 'Exit 0 when the list is fresh, 1 when it is missing or stale.',
  run: async (ctx) => {
    const c = serverOf(ctx);
    const s = await withApi(connect, c, (api) => api.status());
    const state = s.state === ListState.LIST_STATE_FRESH ? 'fresh' : s.state === ListState.LIST_STATE_STALE ? 'stale' : s.state === ListState.LIST_STATE_MISSING ? 'missing' : 'unknown';
    const doc = { source: s.source, state, version: s.version || null, total: s.total, format: ofacFormatName(s.format), importedAt: iso(s.importedAt), checkedAt: iso(s.checkedAt), publishedAt: iso(s.publishedAt), ageSeconds: s.age ? Number(s.age.seconds) : null, maxAgeSeconds: s.maxAge ? Number(s.maxAge.seconds) : null };
    if (ctx.json) ctx.io.out(JSON.stringify({ ok: state === 'fresh', ...doc }));
    else ctx.io.out(state === 'missing' ? `${s.source}: MISSING (never imported): screening fails closed` : `${s.source}: ${state.toUpperCase()}, version ${s.version}, ${s.total} addresses, checked ${doc.checkedAt ?? '?'} (max age ${doc.maxAgeSeconds ?? '?'} s)`);
    return state === 'fresh' ? ExitCode.OK : ExitCode.FAILED;
  },
});

export function listGroupWith(connect: ConnectScreeningLists = grpcConnect): CommandGroup {
  return {
    name: 'list',
    summary: 'risk\'s screening lists (ScreeningListService): import block/allow entries, import-ofac, status',
    commands: [importEntries(connect), importOfac(connect), status(connect)],
  };
}

export const listGroup: CommandGroup = listGroupWith();
