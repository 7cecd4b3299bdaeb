/**
 * Reads an OPA bundle archive (`opa build -t wasm`, a gzipped tar) into a PolicyBundle.
 *
 * The digest is computed here from the archive bytes, never taken from a file name or a
 * side file: the SHA-256 of the archive is the policy version decisions record. Only the
 * two files the evaluator needs are kept: /policy.wasm (checked for the Wasm magic) and
 * /data.json (a JSON object). Anything unexpected is a PolicyBundleError.
 */
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { gunzipSync } from 'node:zlib';
import type { PolicyBundle } from '../../application/policy-evaluator.js';
import { PolicyBundleError } from '../../domain/errors.js';

const BLOCK = 512;
const WASM_MAGIC = [0x00, 0x61, 0x73, 0x6d];
const MAX_ARCHIVE_BYTES = 64 * 1024 * 1024;

/** Reads and parses the bundle archive at `path`. */
export async function readBundleArchive(path: string): Promise<PolicyBundle> {
  let bytes: Uint8Array;
  try {
    bytes = await readFile(path);
  } catch (error) {
    throw new PolicyBundleError(`cannot read policy bundle ${path}`, error);
  }
  return parseBundleArchive(bytes);
}

/** Parses bundle archive bytes. */
export function parseBundleArchive(archive: Uint8Array): PolicyBundle {
  if (archive.length > MAX_ARCHIVE_BYTES) throw new PolicyBundleError('policy bundle is larger than 64 MiB');
  const digest = createHash('sha256').update(archive).digest('hex');
  let tar: Uint8Array;
  try {
    tar = gunzipSync(archive, { maxOutputLength: 4 * MAX_ARCHIVE_BYTES });
  } catch (error) {
    throw new PolicyBundleError('policy bundle is not gzip data', error);
  }
  const files = readTar(tar);
  const wasm = files.get('policy.wasm');
  const dataJson = files.get('data.json');
  if (wasm === undefined) throw new PolicyBundleError('policy bundle has no /policy.wasm (was it built with -t wasm?)');
  if (dataJson === undefined) throw new PolicyBundleError('policy bundle has no /data.json');
  if (!WASM_MAGIC.every((byte, i) => wasm[i] === byte)) throw new PolicyBundleError('policy.wasm is not a WebAssembly module');
  let data: unknown;
  try {
    data = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(dataJson));
  } catch (error) {
    throw new PolicyBundleError('data.json is not JSON', error);
  }
  if (typeof data !== 'object' || data === null || Array.isArray(data)) throw new PolicyBundleError('data.json is not a JSON object');
  return Object.freeze({ digest, wasm, data: data as Record<string, unknown> });
}

/** The regular files of a ustar/PAX archive by normalised name ("/a/b" and "./a/b" → "a/b"). */
function readTar(tar: Uint8Array): Map<string, Uint8Array> {
  const files = new Map<string, Uint8Array>();
  let offset = 0;
  let paxPath: string | undefined;
  while (offset + BLOCK <= tar.length) {
    const header = tar.subarray(offset, offset + BLOCK);
    if (header.every((b) => b === 0)) break; // end-of-archive marker
    if (!checksumMatches(header)) throw new PolicyBundleError(`policy bundle has a corrupt tar header at byte ${offset}`);
    const size = octal(header.subarray(124, 136));
    const type = String.fromCharCode(header[156] ?? 0);
    const start = offset + BLOCK;
    const end = start + size;
    if (end > tar.length) throw new PolicyBundleError('policy bundle tar entry runs past the end');
    const body = tar.subarray(start, end);
    if (type === 'x') {
      paxPath = paxRecords(body).get('path');
    } else if (type === 'g') {
      // global PAX header: nothing we use
    } else {
      const prefix = text(header.subarray(345, 500));
      const name = paxPath ?? (prefix ? `${prefix}/${text(header.subarray(0, 100))}` : text(header.subarray(0, 100)));
      paxPath = undefined;
      if (type === '0' || type === '\0') {
        const key = name.replace(/^(\.?\/)+/, '');
        if (files.has(key)) throw new PolicyBundleError(`policy bundle contains ${key} twice`);
        files.set(key, body);
      }
    }
    offset = start + Math.ceil(size / BLOCK) * BLOCK;
  }
  return files;
}

function checksumMatches(header: Uint8Array): boolean {
  let sum = 0;
  for (let i = 0; i < BLOCK; i++) sum += i >= 148 && i < 156 ? 0x20 : (header[i] ?? 0);
  return sum === octal(header.subarray(148, 156));
}

function octal(field: Uint8Array): number {
  const digits = text(field).trim();
  if (!/^[0-7]+$/.test(digits)) throw new PolicyBundleError('policy bundle has a malformed tar number');
  return parseInt(digits, 8);
}

function text(field: Uint8Array): string {
  const end = field.indexOf(0);
  return new TextDecoder().decode(end === -1 ? field : field.subarray(0, end));
}

/** PAX extended header records, "<length> <key>=<value>\n", length in bytes. */
function paxRecords(body: Uint8Array): Map<string, string> {
  const records = new Map<string, string>();
  let offset = 0;
  while (offset < body.length) {
    const space = body.indexOf(0x20, offset);
    const length = space === -1 ? NaN : Number(text(body.subarray(offset, space)));
    if (!Number.isSafeInteger(length) || length <= space - offset || offset + length > body.length) {
      throw new PolicyBundleError('policy bundle has a malformed PAX header');
    }
    const record = new TextDecoder().decode(body.subarray(space + 1, offset + length - 1));
    const eq = record.indexOf('=');
    if (eq > 0) records.set(record.slice(0, eq), record.slice(eq + 1));
    offset += length;
  }
  return records;
}
