/**
 * Recursive Length Prefix (Ethereum Yellow Paper, appendix B), small and strict.
 *
 * Decoding accepts only the canonical encoding: single bytes below 0x80 must stand alone,
 * short forms must be used below 56 bytes, long lengths carry no leading zeros, and the
 * input holds exactly one item. A signer that decodes what it is asked to sign must not
 * accept two encodings of the same transaction.
 */
import { assertBigint, assertBytes, bytesToBigint, concatBytes } from './bytes.js';
import { SignerInputError } from './errors.js';

export type RlpItem = Uint8Array | readonly RlpItem[];

const MAX_DEPTH = 32;

/** Narrowing that also excludes readonly lists in the else branch. */
export function isRlpList(item: RlpItem | undefined): item is readonly RlpItem[] {
  return Array.isArray(item);
}

function encodeLength(length: number, offset: number): Uint8Array {
  if (length < 56) return Uint8Array.of(offset + length);
  const lengthBytes = bigintToMinimalBytes(BigInt(length));
  return concatBytes(Uint8Array.of(offset + 55 + lengthBytes.length), lengthBytes);
}

function encodeItem(item: RlpItem, depth: number, field: string): Uint8Array {
  if (depth > MAX_DEPTH) throw new SignerInputError('INVALID_RLP', field, `nesting deeper than ${MAX_DEPTH}`);
  if (isRlpList(item)) {
    const payload = concatBytes(...item.map((child, i) => encodeItem(child, depth + 1, `${field}[${i}]`)));
    return concatBytes(encodeLength(payload.length, 0xc0), payload);
  }
  const bytes = assertBytes(item, field);
  if (bytes.length === 1 && (bytes[0] ?? 0) < 0x80) return Uint8Array.of(bytes[0] ?? 0);
  return concatBytes(encodeLength(bytes.length, 0x80), bytes);
}

/** RLP encoding of a byte string or a (nested) list of them. */
export function rlpEncode(item: RlpItem): Uint8Array {
  return encodeItem(item, 0, 'item');
}

interface Decoded {
  readonly item: RlpItem;
  readonly end: number;
}

function fail(rule: string): never {
  throw new SignerInputError('INVALID_RLP', 'rlp', rule);
}

function readLength(data: Uint8Array, start: number, lengthOfLength: number): number {
  if (lengthOfLength > 4) fail('length of length above 4 bytes');
  if (start + lengthOfLength > data.length) fail('truncated length');
  if (data[start] === 0) fail('leading zero in length');
  let length = 0;
  for (let i = 0; i < lengthOfLength; i++) length = length * 256 + (data[start + i] ?? 0);
  if (length < 56) fail('long form used for a length below 56');
  return length;
}

function decodeAt(data: Uint8Array, pos: number, depth: number): Decoded {
  if (depth > MAX_DEPTH) fail(`nesting deeper than ${MAX_DEPTH}`);
  const prefix = data[pos];
  if (prefix === undefined) fail('unexpected end of input');
  if (prefix < 0x80) return { item: data.slice(pos, pos + 1), end: pos + 1 };
  if (prefix <= 0xbf) {
    let start: number;
    let length: number;
    if (prefix <= 0xb7) {
      length = prefix - 0x80;
      start = pos + 1;
    } else {
      const lengthOfLength = prefix - 0xb7;
      length = readLength(data, pos + 1, lengthOfLength);
      start = pos + 1 + lengthOfLength;
    }
    const end = start + length;
    if (end > data.length) fail('string runs past the end of input');
    if (length === 1 && (data[start] ?? 0) < 0x80) fail('single byte below 0x80 must not be prefixed');
    return { item: data.slice(start, end), end };
  }
  let start: number;
  let length: number;
  if (prefix <= 0xf7) {
    length = prefix - 0xc0;
    start = pos + 1;
  } else {
    const lengthOfLength = prefix - 0xf7;
    length = readLength(data, pos + 1, lengthOfLength);
    start = pos + 1 + lengthOfLength;
  }
  const end = start + length;
  if (end > data.length) fail('list runs past the end of input');
  const items: RlpItem[] = [];
  let cursor = start;
  while (cursor < end) {
    const child = decodeAt(data.subarray(0, end), cursor, depth + 1);
    items.push(child.item);
    cursor = child.end;
  }
  return { item: Object.freeze(items), end };
}

/** Strict decoding of exactly one RLP item. */
export function rlpDecode(encoded: Uint8Array): RlpItem {
  const data = assertBytes(encoded, 'rlp');
  if (data.length === 0) fail('empty input');
  const { item, end } = decodeAt(data, 0, 0);
  if (end !== data.length) fail('trailing bytes after the item');
  return item;
}

/** Minimal big-endian bytes of a non-negative integer (0 → empty), as RLP scalars use. */
export function bigintToMinimalBytes(value: bigint): Uint8Array {
  assertBigint(value, 'value', 0n, (1n << 2048n) - 1n);
  if (value === 0n) return new Uint8Array(0);
  let hex = value.toString(16);
  if (hex.length % 2 === 1) hex = `0${hex}`;
  const out = new Uint8Array(hex.length / 2);
  for (let i = 0; i < out.length; i++) out[i] = Number.parseInt(hex.slice(2 * i, 2 * i + 2), 16);
  return out;
}

/**
 * Scalar from an RLP byte string: no leading zeros (canonical), at most `maxBytes` long.
 */
export function rlpScalar(item: RlpItem | undefined, field: string, maxBytes = 32): bigint {
  if (item === undefined || isRlpList(item)) {
    throw new SignerInputError('INVALID_RLP', field, 'must be a byte string');
  }
  const bytes = item;
  if (bytes.length > maxBytes) throw new SignerInputError('INVALID_RLP', field, `must be at most ${maxBytes} bytes`);
  if (bytes.length > 0 && bytes[0] === 0) throw new SignerInputError('INVALID_RLP', field, 'must not have leading zeros');
  return bytesToBigint(bytes);
}
