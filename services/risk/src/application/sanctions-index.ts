// In-memory index of the current sanctions list version, reloaded when the version in the
// database changes (another instance imported a new list).
import type { ListEntry } from '../domain/lists.js';
import type { SanctionsHit } from '../domain/screening.js';
import type { ListStore } from './ports.js';

export class SanctionsIndex {
  private version: string | undefined;
  private byKey = new Map<string, ListEntry>();
  private loading: Promise<void> | undefined;

  constructor(
    private readonly lists: Pick<ListStore, 'entries'>,
    private readonly source: string,
  ) {}

  get loadedVersion(): string | undefined {
    return this.version;
  }

  get size(): number {
    return this.byKey.size;
  }

  /** Makes sure `version` is loaded (no-op when it is). */
  async ensure(version: string | undefined): Promise<void> {
    if (version === this.version) return;
    if (version === undefined) {
      this.version = undefined;
      this.byKey = new Map();
      return;
    }
    while (this.loading) await this.loading;
    if (version === this.version) return;
    this.loading = (async () => {
      const entries = await this.lists.entries(version);
      this.byKey = new Map(entries.map((e) => [e.key, e]));
      this.version = version;
    })();
    try {
      await this.loading;
    } finally {
      this.loading = undefined;
    }
  }

  /** Replaces the index directly (after this process imported the version itself). */
  load(version: string, entries: readonly ListEntry[]): void {
    this.byKey = new Map(entries.map((e) => [e.key, e]));
    this.version = version;
  }

  lookup(keys: readonly string[]): SanctionsHit[] {
    const hits: SanctionsHit[] = [];
    for (const k of keys) {
      const e = this.byKey.get(k);
      if (e) hits.push({ source: this.source, currency: e.currency, partyName: e.partyName, partyRef: e.partyRef });
    }
    return hits;
  }
}
