// Use case: import a sanctions list version. Versioned by content digest, diffed against
// the current version (added/removed), recorded and audited in one transaction. The same
// content again only confirms freshness (the list was checked and is unchanged).
import { diffLists, listDigest, type ParsedList } from '../domain/lists.js';
import type { Clock, ListImportRecord, ListStore } from './ports.js';
import type { SanctionsIndex } from './sanctions-index.js';

export interface ImportResult {
  readonly version: string;
  readonly changed: boolean;
  readonly entryCount: number;
  readonly added: readonly string[];
  readonly removed: readonly string[];
  readonly previousVersion?: string | undefined;
  readonly warnings: readonly string[];
  /** When this import was recorded (unchanged content: when freshness was confirmed). */
  readonly importedAt: Date;
  readonly format: ParsedList['format'];
}

export async function importList(deps: { lists: ListStore; clock: Clock; index?: SanctionsIndex | undefined }, parsed: ParsedList, importedBy: string, note?: string): Promise<ImportResult> {
  const noted = note ? { note } : {};
  const now = deps.clock.now();
  const version = listDigest(parsed.source, parsed.entries);
  const current = await deps.lists.current(parsed.source);
  if (current?.version === version) {
    await deps.lists.confirmCurrent(parsed.source, version, now, { actor: importedBy, action: 'list.confirmed', subject: `${parsed.source}@${version}`, detail: { format: parsed.format, entries: parsed.entries.length, ...noted } });
    return { version, changed: false, entryCount: parsed.entries.length, added: [], removed: [], previousVersion: version, warnings: parsed.warnings, importedAt: now, format: parsed.format };
  }
  const previousKeys = current ? await deps.lists.entryKeys(current.version) : new Set<string>();
  const diff = diffLists(previousKeys, parsed.entries);
  const record: ListImportRecord = {
    version,
    source: parsed.source,
    format: parsed.format,
    publishedAt: parsed.publishedAt,
    importedAt: now,
    importedBy,
    entryCount: parsed.entries.length,
    added: diff.added.length,
    removed: diff.removed.length,
    previousVersion: current?.version,
  };
  await deps.lists.saveVersion(record, parsed.entries, {
    actor: importedBy,
    action: 'list.imported',
    subject: `${parsed.source}@${version}`,
    detail: {
      format: parsed.format,
      publishedAt: parsed.publishedAt?.toISOString() ?? null,
      previousVersion: current?.version ?? null,
      entries: parsed.entries.length,
      added: diff.added.slice(0, 1000),
      removed: diff.removed.slice(0, 1000),
      addedCount: diff.added.length,
      removedCount: diff.removed.length,
      warnings: parsed.warnings.slice(0, 100),
      ...noted,
    },
  });
  deps.index?.load(version, parsed.entries);
  return { version, changed: true, entryCount: parsed.entries.length, added: diff.added, removed: diff.removed, previousVersion: current?.version, warnings: parsed.warnings, importedAt: now, format: parsed.format };
}
