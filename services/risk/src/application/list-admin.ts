// Use cases behind the operator ScreeningListService: import an OFAC file received over the
// wire, report the list's freshness, and administer internal block/allow entries. The
// operator identity comes from authentication and is what the audit log records; every change
// is recorded by the operator audit gate (when given) after validation and before it applies.
import { listState, type ListFormat, type ParsedList } from '../domain/lists.js';
import { RiskError } from '../domain/errors.js';
import { importList, type ImportResult } from './import-list.js';
import type { OperatorAuditGate } from '@custody/platform';
import { removeInternalEntry } from './admin.js';
import { auditOperatorAction, RISK_AUDIT_ACTIONS, type OperatorCallContext } from './operator-audit.js';
import type { Clock, CurrentListRecord, InternalListEntryRecord, InternalListStore, ListStore } from './ports.js';
import type { SanctionsIndex } from './sanctions-index.js';

export type PublishedListFormat = Exclude<ListFormat, 'synthetic'>;

export interface ListAdminDeps {
  readonly lists: ListStore;
  readonly internal: InternalListStore;
  readonly clock: Clock;
  readonly index?: SanctionsIndex | undefined;
  /** Parses a published file (format detected from the content); throws RiskError('INVALID_LIST'). */
  readonly parse: (text: string) => ParsedList;
  readonly source: string;
  readonly maxAgeSeconds: number;
  /** The operator audit gate: every change is recorded there first; undefined = not audited (dev/test compositions). */
  readonly audit?: OperatorAuditGate | undefined;
  /** Told of every import that was recorded (for logging). */
  readonly onImported?: ((result: ImportResult, operator: string) => void) | undefined;
}

export interface ImportListContent {
  readonly content: Uint8Array;
  /** When set, the content must be of this format. */
  readonly formatHint?: PublishedListFormat | undefined;
  readonly note: string;
  readonly operator: string;
  readonly context?: OperatorCallContext | undefined;
}

const MAX_NOTE = 1000;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

function requireOperator(operator: string): void {
  if (!operator) throw new RiskError('OPERATOR_UNAUTHENTICATED', 'compliance operator authentication required');
}

/** Decodes, parses and imports a list file; nothing is stored unless it parses to a non-empty list. */
export async function importListContent(deps: ListAdminDeps, cmd: ImportListContent): Promise<ImportResult> {
  requireOperator(cmd.operator);
  const note = cmd.note.trim();
  if (note.length > MAX_NOTE) throw new RiskError('INVALID_ARGUMENT', `note is longer than ${MAX_NOTE} characters`);
  if (cmd.content.length === 0) throw new RiskError('INVALID_LIST', 'the list content is empty; refusing to replace the list with an empty one');
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(cmd.content);
  } catch {
    throw new RiskError('INVALID_LIST', 'the list content is not valid UTF-8');
  }
  if (text.trim().length === 0) throw new RiskError('INVALID_LIST', 'the list content is blank; refusing to replace the list with an empty one');
  const parsed = deps.parse(text);
  if (parsed.source !== deps.source) throw new RiskError('INVALID_LIST', `the content is a ${parsed.source} list, not ${deps.source}`);
  if (cmd.formatHint && parsed.format !== cmd.formatHint) throw new RiskError('INVALID_LIST', `the content is ${parsed.format}, not the announced ${cmd.formatHint}`);
  // Parsed and checked: recorded in audit before the version is stored (refused → nothing changes).
  await auditOperatorAction(deps.audit, {
    operator: cmd.operator,
    action: RISK_AUDIT_ACTIONS.importOfacList,
    target: deps.source,
    at: deps.clock.now(),
    context: cmd.context,
    request: [deps.source, cmd.formatHint ?? '', note, cmd.content],
  });
  const result = await importList({ lists: deps.lists, clock: deps.clock, index: deps.index }, parsed, cmd.operator, note || undefined);
  deps.onImported?.(result, cmd.operator);
  return result;
}

export type ListStatus =
  | { readonly state: 'missing'; readonly source: string; readonly maxAgeSeconds: number }
  | { readonly state: 'fresh' | 'stale'; readonly source: string; readonly maxAgeSeconds: number; readonly current: CurrentListRecord; readonly ageMs: number };

/** Freshness exactly as screening sees it (domain listState with the same maximum age). */
export async function listStatus(deps: Pick<ListAdminDeps, 'lists' | 'clock' | 'source' | 'maxAgeSeconds'>): Promise<ListStatus> {
  const current = await deps.lists.currentRecord(deps.source);
  const now = deps.clock.now();
  const state = listState(current, now, deps.maxAgeSeconds);
  if (state.status === 'missing' || !current) return { state: 'missing', source: deps.source, maxAgeSeconds: deps.maxAgeSeconds };
  return { state: state.status, source: deps.source, maxAgeSeconds: deps.maxAgeSeconds, current, ageMs: now.getTime() - current.checkedAt.getTime() };
}

export function isActive(entry: InternalListEntryRecord, at: Date): boolean {
  return !entry.removedAt && (!entry.expiresAt || entry.expiresAt.getTime() > at.getTime());
}

/** Removes (soft) an internal entry; the reason is required and audited with the operator. */
export async function removeInternalEntryById(
  deps: Pick<ListAdminDeps, 'internal' | 'clock' | 'audit'>,
  id: string,
  operator: string,
  reason: string,
  context?: OperatorCallContext,
): Promise<InternalListEntryRecord> {
  requireOperator(operator);
  if (!UUID.test(id)) throw new RiskError('INVALID_ARGUMENT', 'entry_id must be a UUID');
  const why = reason.trim();
  if (why.length < 3) throw new RiskError('INVALID_ARGUMENT', 'removing an internal list entry needs a reason');
  if (why.length > MAX_NOTE) throw new RiskError('INVALID_ARGUMENT', `reason is longer than ${MAX_NOTE} characters`);
  // Preconditions before audit (no audit record for a request that cannot apply).
  const before = await deps.internal.entry(id);
  if (!before) throw new RiskError('ENTRY_NOT_FOUND', `no internal list entry ${id}`);
  if (before.removedAt) throw new RiskError('ENTRY_ALREADY_REMOVED', `internal list entry ${id} was already removed`);
  const removed = await removeInternalEntry(deps, id, operator, why, context);
  if (!removed) throw new RiskError('ENTRY_ALREADY_REMOVED', `internal list entry ${id} was already removed`);
  const entry = await deps.internal.entry(id);
  if (!entry) throw new RiskError('ENTRY_NOT_FOUND', `no internal list entry ${id}`);
  return entry;
}

export interface InternalEntryPage {
  readonly entries: readonly InternalListEntryRecord[];
  readonly nextPageToken: string;
}

export async function listInternalEntries(
  deps: Pick<ListAdminDeps, 'internal' | 'clock'>,
  q: { readonly pageSize: number; readonly pageToken: string; readonly list?: 'block' | 'allow' | undefined; readonly includeInactive: boolean },
): Promise<InternalEntryPage> {
  const size = q.pageSize === 0 ? 100 : q.pageSize;
  if (!Number.isInteger(size) || size < 1 || size > 500) throw new RiskError('INVALID_ARGUMENT', 'page_size must be 0..500');
  let after: { at: Date; id: string } | undefined;
  if (q.pageToken) {
    const [ms, id] = Buffer.from(q.pageToken, 'base64url').toString('utf8').split('|');
    const at = new Date(Number(ms));
    if (!id || !UUID.test(id) || !ms || Number.isNaN(at.getTime())) throw new RiskError('INVALID_ARGUMENT', 'page_token is not valid');
    after = { at, id };
  }
  const rows = await deps.internal.page(size + 1, { list: q.list, includeInactive: q.includeInactive, at: deps.clock.now(), after });
  const entries = rows.slice(0, size);
  const last = entries[entries.length - 1];
  const nextPageToken = rows.length > size && last ? Buffer.from(`${last.createdAt.getTime()}|${last.id}`, 'utf8').toString('base64url') : '';
  return { entries, nextPageToken };
}
