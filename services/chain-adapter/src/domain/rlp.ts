// Recursive Length Prefix (Ethereum Yellow Paper, appendix B): encode, and a strict decoder
// (canonical encodings only, exactly one item) for signed transactions we are handed.
import { ChainAdapterError } from './errors.js';

export type RlpItem = Uint8Array | readonly RlpItem[];

const isList = (item: RlpItem | undefined): item is readonly RlpItem[] => Array.isArray(item);

function concat(parts: readonly Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

export function bigintToBytes(value: bigint): Uint8Array {
  if (value < 0n) throw new ChainAdapterError('INVALID_TRANSACTION', 'negative integer in a transaction field');
  if (value === 0n) return new Uint8Array(0);
  let hex = value.toString(16);
  if (hex.length % 2) hex = `0${hex}`;
  return Uint8Array.from(Buffer.from(hex, 'hex'));
}

export function bytesToBigint(bytes: Uint8Array): bigint {
  if (bytes.length === 0) return 0n;
  if (bytes[0] === 0) throw new ChainAdapterError('INVALID_TRANSACTION', 'integer with a leading zero byte');
  return BigInt(`0x${Buffer.from(bytes).toString('hex')}`);
}

function encodeLength(length: number, offset: number): Uint8Array {
  if (length < 56) return Uint8Array.of(offset + length);
  const l = bigintToBytes(BigInt(length));
  return concat([Uint8Array.of(offset + 55 + l.length), l]);
}

export function rlpEncode(item: RlpItem): Uint8Array {
  if (isList(item)) {
    const payload = concat(item.map(rlpEncode));
    return concat([encodeLength(payload.length, 0xc0), payload]);
  }
  if (item.length === 1 && (item[0] ?? 0) < 0x80) return Uint8Array.of(item[0] ?? 0);
  return concat([encodeLength(item.length, 0x80), item]);
}

function bad(rule: string): never {
  throw new ChainAdapterError('INVALID_TRANSACTION', `malformed RLP: ${rule}`);
}

function readLength(data: Uint8Array, start: number, size: number): number {
  if (size > 4 || start + size > data.length) bad('bad length of length');
  if (data[start] === 0) bad('leading zero in length');
  let length = 0;
  for (let i = 0; i < size; i++) length = length * 256 + (data[start + i] ?? 0);
  if (length < 56) bad('long form below 56');
  return length;
}

function decodeAt(data: Uint8Array, pos: number, depth: number): { item: RlpItem; end: number } {
  if (depth > 16) bad('nesting too deep');
  const prefix = data[pos];
  if (prefix === undefined) bad('unexpected end');
  if (prefix < 0x80) return { item: data.slice(pos, pos + 1), end: pos + 1 };
  if (prefix <= 0xbf) {
    const long = prefix > 0xb7;
    const length = long ? readLength(data, pos + 1, prefix - 0xb7) : prefix - 0x80;
    const start = long ? pos + 1 + (prefix - 0xb7) : pos + 1;
    const end = start + length;
    if (end > data.length) bad('string past end');
    if (length === 1 && (data[start] ?? 0) < 0x80) bad('non-canonical single byte');
    return { item: data.slice(start, end), end };
  }
  const long = prefix > 0xf7;
  const length = long ? readLength(data, pos + 1, prefix - 0xf7) : prefix - 0xc0;
  const start = long ? pos + 1 + (prefix - 0xf7) : pos + 1;
  const end = start + length;
  if (end > data.length) bad('list past end');
  const items: RlpItem[] = [];
  let at = start;
  while (at < end) {
    const child = decodeAt(data, at, depth + 1);
    items.push(child.item);
    at = child.end;
  }
  if (at !== end) bad('list length mismatch');
  return { item: items, end };
}

export function rlpDecode(data: Uint8Array): RlpItem {
  const { item, end } = decodeAt(data, 0, 0);
  if (end !== data.length) bad('trailing bytes');
  return item;
}

export { concat as concatBytes, isList as isRlpList };
