// Batched import of internal block/allow entries (ScreeningListService ImportInternalEntries,
// `custody list import`): every entry is validated and added on its own through the same use
// case as AddInternalEntry (audited in the same transaction), and answered per line.
// Idempotent: an address already active on the same list — stored, or earlier in the same
// request — is ALREADY_ACTIVE and not added again, so re-sending a file adds nothing twice.
// A bad entry is REJECTED with its reason code and does not stop the others.
import { lookupKeys, normalizeAddress } from '../domain/address.js';
import { RiskError } from '../domain/errors.js';
import { addInternalEntry } from './admin.js';
import { isActive } from './list-admin.js';
import type { Clock, InternalListStore } from './ports.js';

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

type Deps = { readonly internal: InternalListStore; readonly clock: Clock };

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

/** The checks AddInternalEntry makes before storing, without storing (the dry run; the real add checks again). */
function prepare(e: ImportEntryInput, now: Date): { list: 'block' | 'allow'; addressKey: string } {
  if (!e.list) throw new RiskError('INVALID_ARGUMENT', 'list must be block or allow');
  if (e.reason.trim().length < 3) throw new RiskError('INVALID_ARGUMENT', 'an internal list entry needs a reason');
  if (e.expiresAt && (Number.isNaN(e.expiresAt.getTime()) || e.expiresAt.getTime() <= now.getTime())) throw new RiskError('INVALID_ARGUMENT', 'expiresAt must be in the future');
  const normalized = normalizeAddress(e.chain, e.address);
  const [addressKey] = lookupKeys(normalized, e.address);
  return { list: e.list, addressKey: addressKey ?? normalized.key };
}

export async function importInternalEntries(deps: Deps, cmd: { readonly entries: readonly ImportEntryInput[]; readonly dryRun: boolean; readonly operator: string }): Promise<ImportEntriesResult> {
  if (!cmd.operator) throw new RiskError('OPERATOR_UNAUTHENTICATED', 'compliance operator authentication required');
  if (cmd.entries.length === 0 || cmd.entries.length > MAX_IMPORT_ENTRIES) throw new RiskError('INVALID_ARGUMENT', `entries must hold 1 to ${MAX_IMPORT_ENTRIES} entries`);
  const now = deps.clock.now();
  const lists = new Set(cmd.entries.map((e) => e.list).filter((l): l is 'block' | 'allow' => l !== undefined));
  const active = await activeKeys(deps, lists, now);
  const results: ImportEntryOutcome[] = [];
  for (const e of cmd.entries) {
    const result = (outcome: ImportOutcome, extra: Partial<ImportEntryOutcome> = {}): ImportEntryOutcome => ({ line: e.line, outcome, entryId: '', addressKey: '', reasonCode: '', message: '', ...extra });
    try {
      const { list, addressKey } = prepare(e, now);
      const existing = active.get(`${list}|${addressKey}`);
      if (existing !== undefined) {
        results.push(result('already_active', { entryId: existing, addressKey }));
        continue;
      }
      if (cmd.dryRun) {
        active.set(`${list}|${addressKey}`, '');
        results.push(result('would_add', { addressKey }));
        continue;
      }
      const added = await addInternalEntry(deps, { list, chain: e.chain, address: e.address, reason: e.reason, expiresAt: e.expiresAt, by: cmd.operator });
      active.set(`${list}|${added.addressKey}`, added.id);
      results.push(result('added', { entryId: added.id, addressKey: added.addressKey }));
    } catch (err) {
      if (!(err instanceof RiskError)) throw err; // infrastructure failure: the call fails (entries before it stay added and are ALREADY_ACTIVE on a retry)
      results.push(result('rejected', { reasonCode: err.riskCode, message: err.message }));
    }
  }
  return {
    results,
    added: results.filter((r) => r.outcome === 'added').length,
    alreadyActive: results.filter((r) => r.outcome === 'already_active').length,
    rejected: results.filter((r) => r.outcome === 'rejected').length,
  };
}
