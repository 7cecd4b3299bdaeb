/**
 * Labelled assertions and byte helpers shared by the crypto kernel.
 *
 * Every public function of the kernel checks each argument with one of these before use,
 * so a bad input fails with a `SignerInputError` naming the argument, not deep inside a
 * curve library.
 */
import { SignerInputError } from './errors.js';

/** True for a Uint8Array from any realm (Jest and worker threads use separate realms). */
export function isBytes(value: unknown): value is Uint8Array {
  return (
    value instanceof Uint8Array ||
    (ArrayBuffer.isView(value) && value.constructor !== undefined && value.constructor.name === 'Uint8Array')
  );
}

/** Asserts a Uint8Array, optionally of one of the given lengths. Returns it unchanged. */
export function assertBytes(value: unknown, field: string, ...lengths: number[]): Uint8Array {
  if (!isBytes(value)) throw new SignerInputError('INVALID_TYPE', field, 'must be a Uint8Array');
  if (lengths.length > 0 && !lengths.includes(value.length)) {
    throw new SignerInputError('INVALID_LENGTH', field, `must be ${lengths.join(' or ')} bytes, got ${value.length}`);
  }
  return value;
}

/** Asserts a bigint in [min, max] (both inclusive). */
export function assertBigint(value: unknown, field: string, min: bigint, max: bigint): bigint {
  if (typeof value !== 'bigint') throw new SignerInputError('INVALID_TYPE', field, 'must be a bigint');
  if (value < min || value > max) throw new SignerInputError('OUT_OF_RANGE', field, `must be in [${min}, ${max}]`);
  return value;
}

/** Asserts a safe integer in [min, max] (both inclusive). */
export function assertInteger(value: unknown, field: string, min: number, max: number): number {
  if (typeof value !== 'number' || !Number.isSafeInteger(value)) {
    throw new SignerInputError('INVALID_TYPE', field, 'must be a safe integer');
  }
  if (value < min || value > max) throw new SignerInputError('OUT_OF_RANGE', field, `must be in [${min}, ${max}]`);
  return value;
}

export function assertString(value: unknown, field: string): string {
  if (typeof value !== 'string') throw new SignerInputError('INVALID_TYPE', field, 'must be a string');
  return value;
}

const HEX_RE = /^(?:[0-9a-fA-F]{2})*$/;

/** Strict hex decoding: optional 0x prefix, even length, hex digits only. */
export function hexToBytes(hex: unknown, field: string): Uint8Array {
  const text = assertString(hex, field);
  const body = text.startsWith('0x') || text.startsWith('0X') ? text.slice(2) : text;
  if (!HEX_RE.test(body)) throw new SignerInputError('INVALID_HEX', field, 'must be even-length hexadecimal');
  const out = new Uint8Array(body.length / 2);
  for (let i = 0; i < out.length; i++) out[i] = Number.parseInt(body.slice(2 * i, 2 * i + 2), 16);
  return out;
}

/** Lower-case hex without prefix. */
export function bytesToHex(bytes: Uint8Array): string {
  let out = '';
  for (const byte of bytes) out += byte.toString(16).padStart(2, '0');
  return out;
}

export function concatBytes(...parts: readonly Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((sum, part) => sum + part.length, 0));
  let offset = 0;
  for (const part of parts) {
    out.set(part, offset);
    offset += part.length;
  }
  return out;
}

/** Constant-time for equal lengths (lengths themselves are not secret here). */
export function equalBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  let diff = 0;
  for (let i = 0; i < a.length; i++) diff |= (a[i] ?? 0) ^ (b[i] ?? 0);
  return diff === 0;
}

/** Big-endian unsigned integer of exactly `length` bytes. */
export function bigintToBytes(value: bigint, length: number): Uint8Array {
  if (value < 0n || value >= 1n << BigInt(8 * length)) throw new RangeError('value does not fit');
  const out = new Uint8Array(length);
  let rest = value;
  for (let i = length - 1; i >= 0; i--) {
    out[i] = Number(rest & 0xffn);
    rest >>= 8n;
  }
  return out;
}

/** Big-endian unsigned integer, any length (empty → 0). */
export function bytesToBigint(bytes: Uint8Array): bigint {
  let out = 0n;
  for (const byte of bytes) out = (out << 8n) | BigInt(byte);
  return out;
}

/** A fresh copy (typed arrays with elements cannot be frozen: results hand out copies instead). */
export function copyBytes(bytes: Uint8Array): Uint8Array {
  return Uint8Array.from(bytes);
}

/** Overwrites a buffer holding secret material. */
export function wipe(bytes: Uint8Array): void {
  bytes.fill(0);
}
