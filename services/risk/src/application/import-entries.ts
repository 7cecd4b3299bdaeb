// Batched import of internal block/allow entries (ScreeningListService ImportInternalEntries,
// `custody list import`): every entry is validated like AddInternalEntry; if any would be
// added the request is recorded ONCE by the operator audit gate (when given) before anything is
// stored, then each is stored on its own (its risk_audit_log row in the same transaction) and
// answered per line. Idempotent: an address already active on the same list — stored, earlier
// in the same request, or added by a concurrent call (unique key in the store) — is
// ALREADY_ACTIVE and not added again, so re-sending a file adds nothing twice.
// A bad entry is REJECTED with its reason code and does not stop the others.
import { RiskError } from '../domain/errors.js';
import { prepareInternalEntry, storeInternalEntry, type InternalEntryDeps } from './admin.js';
import { isActive } from './list-admin.js';
import { auditOperatorAction, RISK_AUDIT_ACTIONS, type OperatorCallContext } from './operator-audit.js';
import type { InternalListEntry } from './ports.js';

export const MAX_IMPORT_ENTRIES = 1000;

export interface ImportEntryInput {
  readonly line: number;
  /** undefined: the list was not given (REJECTED). */
  readonly list: 'block' | 'allow' | undefined;
  readonly chain: string;
  readonly address: string;
  readonly reason: string;
  readonly expiresAt?: Date | undefined;
}

export type ImportOutcome = 'added' | 'already_active' | 'rejected' | 'would_add';

export interface ImportEntryOutcome {
  readonly line: number;
  readonly outcome: ImportOutcome;
  readonly entryId: string;
  readonly addressKey: string;
  readonly reasonCode: string;
  readonly message: string;
}

export interface ImportEntriesResult {
  readonly results: readonly ImportEntryOutcome[];
  readonly added: number;
  readonly alreadyActive: number;
  readonly rejected: number;
}

type Deps = Pick<InternalEntryDeps, 'internal' | 'clock' | 'audit'>;

/** The active entries (id by "<list>|<address key>") of the lists named in the request. */
async function activeKeys(deps: Deps, lists: ReadonlySet<'block' | 'allow'>, at: Date): Promise<Map<string, string>> {
  const active = new Map<string, string>();
  for (const list of lists) {
    let after: { at: Date; id: string } | undefined;
    for (;;) {
      const page = await deps.internal.page(500, { list, includeInactive: false, at, after });
      for (const e of page) if (isActive(e, at)) active.set(`${list}|${e.addressKey}`, e.id);
      const last = page[page.length - 1];
      if (page.length < 500 || !last) break;
      after = { at: last.createdAt, id: last.id };
    }
  }
  return active;
}

export async function importInternalEntries(
  deps: Deps,
  cmd: { readonly entries: readonly ImportEntryInput[]; readonly dryRun: boolean; readonly operator: string; readonly context?: OperatorCallContext | undefined },
): Promise<ImportEntriesResult> {
  if (!cmd.operator) throw new RiskError('OPERATOR_UNAUTHENTICATED', 'compliance operator authentication required');
  if (cmd.entries.length === 0 || cmd.entries.length > MAX_IMPORT_ENTRIES) throw new RiskError('INVALID_ARGUMENT', `entries must hold 1 to ${MAX_IMPORT_ENTRIES} entries`);
  const now = deps.clock.now();
  const lists = new Set(cmd.entries.map((e) => e.list).filter((l): l is 'block' | 'allow' => l !== undefined));
  const active = await activeKeys(deps, lists, now);
  // Plan: every entry validated and checked against the active ones (and earlier lines) first.
  const planned: Array<ImportEntryOutcome | { readonly line: number; readonly entry: InternalListEntry }> = [];
  for (const e of cmd.entries) {
    const result = (outcome: ImportOutcome, extra: Partial<ImportEntryOutcome> = {}): ImportEntryOutcome => ({ line: e.line, outcome, entryId: '', addressKey: '', reasonCode: '', message: '', ...extra });
    try {
      if (!e.list) throw new RiskError('INVALID_ARGUMENT', 'list must be block or allow');
      const entry = prepareInternalEntry({ list: e.list, chain: e.chain, address: e.address, reason: e.reason, expiresAt: e.expiresAt, by: cmd.operator }, now);
      const key = `${entry.list}|${entry.addressKey}`;
      const existing = active.get(key);
      if (existing !== undefined) {
        planned.push(result('already_active', { entryId: existing, addressKey: entry.addressKey }));
        continue;
      }
      active.set(key, cmd.dryRun ? '' : entry.id);
      planned.push(cmd.dryRun ? result('would_add', { addressKey: entry.addressKey }) : { line: e.line, entry });
    } catch (err) {
      if (!(err instanceof RiskError)) throw err;
      planned.push(result('rejected', { reasonCode: err.riskCode, message: err.message }));
    }
  }
  const toAdd = planned.filter((p): p is { line: number; entry: InternalListEntry } => 'entry' in p);
  // Audit first, once for the request, when it would change anything (a dry run or a file of
  // known/bad lines changes nothing and is not audited); refused → nothing added.
  if (toAdd.length > 0) {
    await auditOperatorAction(deps.audit, {
      operator: cmd.operator,
      action: RISK_AUDIT_ACTIONS.importInternalEntries,
      target: `internal_list:${[...lists].sort().join(',')}`,
      at: now,
      context: cmd.context,
      request: [String(cmd.entries.length), ...cmd.entries.flatMap((e) => [String(e.line), e.list ?? '', e.chain, e.address, e.reason, e.expiresAt && !Number.isNaN(e.expiresAt.getTime()) ? e.expiresAt.toISOString() : ''])],
    });
  }
  const results: ImportEntryOutcome[] = [];
  for (const p of planned) {
    if (!('entry' in p)) {
      results.push(p);
      continue;
    }
    // A store failure fails the call (entries before it stay added and are ALREADY_ACTIVE on a retry).
    const stored = await storeInternalEntry(deps, p.entry);
    const base = { line: p.line, addressKey: p.entry.addressKey, reasonCode: '', message: '' };
    // Not added: a concurrent import (or AddInternalEntry) added the same address first.
    results.push(stored.added ? { ...base, outcome: 'added', entryId: p.entry.id } : { ...base, outcome: 'already_active', entryId: stored.holderId });
  }
  return {
    results,
    added: results.filter((r) => r.outcome === 'added').length,
    alreadyActive: results.filter((r) => r.outcome === 'already_active').length,
    rejected: results.filter((r) => r.outcome === 'rejected').length,
  };
}
