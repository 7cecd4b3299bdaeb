// Screening list files for `custody list import`: CSV (a header row naming the columns) or JSON
// (an array of objects, or one object per line). Every data row becomes an entry with its line
// number, or a local rejection (MALFORMED_LINE) that is reported like the server's and never
// sent. A file the CLI cannot read as a whole (no header, unknown columns, not JSON) is a usage
// error. Pure.
import { UsageError } from '../types.js';

export type ListName = 'block' | 'allow';

export interface FileEntry {
  readonly line: number;
  readonly list: ListName;
  readonly chain: string;
  readonly address: string;
  readonly reason: string;
  readonly expiresAt?: Date | undefined;
}

export interface LocalRejection {
  readonly line: number;
  readonly reasonCode: 'MALFORMED_LINE';
  readonly message: string;
}

export interface ParsedFile {
  readonly entries: readonly FileEntry[];
  readonly rejected: readonly LocalRejection[];
}

export type FileFormat = 'csv' | 'json';

export function formatOf(path: string, option: string | undefined): FileFormat {
  if (option !== undefined) {
    if (option !== 'csv' && option !== 'json') throw new UsageError('--format must be csv or json');
    return option;
  }
  if (/\.csv$/i.test(path)) return 'csv';
  if (/\.(json|jsonl|ndjson)$/i.test(path)) return 'json';
  throw new UsageError(`cannot tell the format of ${path} from its name: give --format csv or --format json`);
}

const COLUMNS = ['list', 'chain', 'address', 'reason', 'expires_at'] as const;
type Column = (typeof COLUMNS)[number];

/** One CSV record's fields (RFC 4180: commas, "quoted" fields with "" for a quote). */
export function splitCsvLine(line: string): string[] | undefined {
  const fields: string[] = [];
  let i = 0;
  for (;;) {
    let field = '';
    if (line[i] === '"') {
      i++;
      for (;;) {
        if (i >= line.length) return undefined; // unterminated quote
        if (line[i] === '"') {
          if (line[i + 1] === '"') {
            field += '"';
            i += 2;
            continue;
          }
          i++;
          break;
        }
        field += line[i];
        i++;
      }
      if (i < line.length && line[i] !== ',') return undefined;
    } else {
      const next = line.indexOf(',', i);
      field = next < 0 ? line.slice(i) : line.slice(i, next);
      if (field.includes('"')) return undefined;
      i = next < 0 ? line.length : next;
    }
    fields.push(field.trim());
    if (i >= line.length) return fields;
    i++; // the comma
  }
}

function entryOf(line: number, raw: Partial<Record<Column, unknown>>, defaultList: ListName | undefined): FileEntry | LocalRejection {
  const bad = (message: string): LocalRejection => ({ line, reasonCode: 'MALFORMED_LINE', message });
  const text = (v: unknown): string | undefined => (typeof v === 'string' ? v.trim() : v === undefined || v === null ? '' : undefined);
  const [list, chain, address, reason, expires] = [text(raw.list), text(raw.chain), text(raw.address), text(raw.reason), text(raw.expires_at)];
  if (list === undefined || chain === undefined || address === undefined || reason === undefined || expires === undefined) return bad('every field must be a string');
  const effective = list === '' ? defaultList : list.toLowerCase();
  if (effective !== 'block' && effective !== 'allow') return bad(list === '' ? 'no list: give a list column (block or allow) or --list' : `list must be block or allow, not "${list}"`);
  if (chain === '') return bad('chain is empty');
  if (address === '') return bad('address is empty');
  let expiresAt: Date | undefined;
  if (expires !== '') {
    expiresAt = new Date(expires);
    if (!/^\d{4}-\d{2}-\d{2}(T\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?(Z|[+-]\d{2}:\d{2}))?$/.test(expires) || Number.isNaN(expiresAt.getTime())) return bad(`expires_at must be an ISO 8601 date or time with a zone, not "${expires}"`);
  }
  return { line, list: effective, chain, address, reason, ...(expiresAt ? { expiresAt } : {}) };
}

function collect(items: readonly (FileEntry | LocalRejection)[]): ParsedFile {
  const entries: FileEntry[] = [];
  const rejected: LocalRejection[] = [];
  for (const x of items) ('reasonCode' in x ? rejected : entries).push(x as never);
  if (entries.length + rejected.length === 0) throw new UsageError('the file holds no entries');
  return { entries, rejected };
}

/** CSV with a header row; blank lines and lines starting with # are skipped; line numbers are the file's (header = 1). */
export function parseCsv(text: string, defaultList: ListName | undefined): ParsedFile {
  const lines = text.replace(/^\uFEFF/, '').split(/\r?\n/);
  const headerAt = lines.findIndex((l) => l.trim() !== '' && !l.trimStart().startsWith('#'));
  const header = headerAt < 0 ? undefined : splitCsvLine(lines[headerAt] ?? '');
  if (!header) throw new UsageError('the CSV file has no header row (columns: list, chain, address, reason, expires_at)');
  const names = header.map((h) => h.toLowerCase().replace(/[\s-]/g, '_'));
  const unknown = names.filter((n) => !(COLUMNS as readonly string[]).includes(n));
  if (unknown.length > 0) throw new UsageError(`unknown CSV column(s): ${unknown.join(', ')} (known: ${COLUMNS.join(', ')})`);
  for (const required of ['chain', 'address', 'reason'] as const) if (!names.includes(required)) throw new UsageError(`the CSV header must name a ${required} column`);
  if (new Set(names).size !== names.length) throw new UsageError('a CSV column is named twice');
  const items: (FileEntry | LocalRejection)[] = [];
  lines.forEach((l, i) => {
    if (i <= headerAt || l.trim() === '' || l.trimStart().startsWith('#')) return;
    const fields = splitCsvLine(l);
    if (!fields || fields.length !== names.length) {
      items.push({ line: i + 1, reasonCode: 'MALFORMED_LINE', message: fields ? `expected ${names.length} fields, got ${fields.length}` : 'unbalanced quotes' });
      return;
    }
    items.push(entryOf(i + 1, Object.fromEntries(names.map((n, j) => [n, fields[j]])), defaultList));
  });
  return collect(items);
}

const fromJsonObject = (line: number, v: unknown, defaultList: ListName | undefined): FileEntry | LocalRejection => {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) return { line, reasonCode: 'MALFORMED_LINE', message: 'not a JSON object' };
  const o = v as Record<string, unknown>;
  const known = new Set(['list', 'chain', 'address', 'reason', 'expiresAt', 'expires_at']);
  const extra = Object.keys(o).filter((k) => !known.has(k));
  if (extra.length > 0) return { line, reasonCode: 'MALFORMED_LINE', message: `unknown field(s): ${extra.join(', ')}` };
  return entryOf(line, { list: o['list'], chain: o['chain'], address: o['address'], reason: o['reason'], expires_at: o['expiresAt'] ?? o['expires_at'] }, defaultList);
};

/** A JSON array (line = item number, from 1) or JSON lines (line = the file's line). */
export function parseJson(text: string, defaultList: ListName | undefined): ParsedFile {
  const trimmed = text.replace(/^\uFEFF/, '').trim();
  if (trimmed.startsWith('[')) {
    let items: unknown;
    try {
      items = JSON.parse(trimmed);
    } catch {
      throw new UsageError('the JSON file is not valid JSON');
    }
    return collect((items as unknown[]).map((v, i) => fromJsonObject(i + 1, v, defaultList)));
  }
  const out: (FileEntry | LocalRejection)[] = [];
  text.split(/\r?\n/).forEach((l, i) => {
    if (l.trim() === '') return;
    try {
      out.push(fromJsonObject(i + 1, JSON.parse(l), defaultList));
    } catch {
      out.push({ line: i + 1, reasonCode: 'MALFORMED_LINE', message: 'not valid JSON' });
    }
  });
  return collect(out);
}
