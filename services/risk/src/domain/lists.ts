// Screening lists: entries keyed by normalised address, versioned by content digest,
// diffed against the previous version, and judged fresh or stale by age.
import { sha256 } from '@noble/hashes/sha2.js';
import { bytesToHex, utf8ToBytes } from '@noble/hashes/utils.js';
import { familyOfListedCurrency, normalizeExact, normalizeForFamily } from './address.js';
import type { ListState } from './screening.js';

export type ListFormat = 'sdn_advanced_xml' | 'sdn_xml' | 'sdn_csv' | 'synthetic';

export interface ListEntry {
  /** Normalised match key, "<family>:<address>". */
  readonly key: string;
  /** OFAC currency code, e.g. "XBT", "ETH", "USDT". */
  readonly currency: string;
  /** The address exactly as published. */
  readonly address: string;
  /** Identifier of the listed party (OFAC FixedRef / uid / ent_num). */
  readonly partyRef: string;
  readonly partyName: string;
}

export interface ParsedList {
  readonly source: string;
  readonly format: ListFormat;
  /** Publication date stated in the file, when it states one. */
  readonly publishedAt?: Date | undefined;
  /** Unique by key (first occurrence kept), sorted by key. */
  readonly entries: readonly ListEntry[];
  /** Entries that could not be normalised (kept as exact matches) or were dropped. */
  readonly warnings: readonly string[];
}

export interface RawListedAddress {
  readonly currency: string;
  readonly address: string;
  readonly partyRef: string;
  readonly partyName: string;
}

/** Normalises raw (currency, address) pairs into list entries; never drops a parseable address silently. */
export function buildEntries(raw: Iterable<RawListedAddress>): { entries: ListEntry[]; warnings: string[] } {
  const byKey = new Map<string, ListEntry>();
  const warnings: string[] = [];
  for (const r of raw) {
    const address = r.address.trim().replace(/[.;,]+$/, '');
    if (address.length === 0) continue;
    const family = familyOfListedCurrency(r.currency, address);
    let key: string;
    try {
      key = normalizeForFamily(family, address).key;
    } catch {
      try {
        key = normalizeExact(address).key;
        if (family !== 'other') warnings.push(`${r.currency} ${address} (${r.partyRef}) is not a valid ${family} address; matched exactly`);
      } catch {
        warnings.push(`${r.currency} ${JSON.stringify(address)} (${r.partyRef}) dropped: not an address`);
        continue;
      }
    }
    if (!byKey.has(key)) byKey.set(key, Object.freeze({ key, currency: r.currency.toUpperCase(), address, partyRef: r.partyRef, partyName: r.partyName }));
  }
  const entries = [...byKey.values()].sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
  return { entries, warnings };
}

/**
 * Content digest of a list version: SHA-256 over the sorted entries (key, currency,
 * party), independent of the file format and of ordering/whitespace in the file.
 */
export function listDigest(source: string, entries: readonly ListEntry[]): string {
  const h = sha256.create();
  h.update(utf8ToBytes(`${source}\n`));
  for (const e of entries) h.update(utf8ToBytes(`${e.key}\t${e.currency}\t${e.partyRef}\n`));
  return bytesToHex(h.digest());
}

export interface ListDiff {
  readonly added: readonly string[];
  readonly removed: readonly string[];
}

export function diffLists(previousKeys: ReadonlySet<string>, next: readonly ListEntry[]): ListDiff {
  const nextKeys = new Set(next.map((e) => e.key));
  const added = next.filter((e) => !previousKeys.has(e.key)).map((e) => e.key);
  const removed = [...previousKeys].filter((k) => !nextKeys.has(k)).sort();
  return { added, removed };
}

/** Fresh when confirmed (imported or re-checked) within maxAgeSeconds of now; else stale. */
export function listState(current: { readonly version: string; readonly checkedAt: Date } | undefined, now: Date, maxAgeSeconds: number): ListState {
  if (!current) return { status: 'missing' };
  const ageMs = now.getTime() - current.checkedAt.getTime();
  if (ageMs > maxAgeSeconds * 1000) return { status: 'stale', version: current.version, checkedAt: current.checkedAt, maxAgeSeconds };
  return { status: 'fresh', version: current.version, checkedAt: current.checkedAt };
}
