import { gzipSync } from 'node:zlib';
import { describe, expect, it } from '@jest/globals';
import { sha256 } from '@noble/hashes/sha2.js';
import { hex } from '@scure/base';
import { PolicyBundleError } from '../../domain/errors.js';
import { parseBundleArchive } from './bundle-archive.js';

const WASM = new Uint8Array([0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00]);
const DATA = new TextEncoder().encode('{"limits":{"version":"1"}}');

/** One ustar entry: 512-byte header (with checksum) and the body padded to 512 bytes. */
function entry(name: string, body: Uint8Array, type = '0', options: { corrupt?: boolean } = {}): Uint8Array {
  const header = new Uint8Array(512);
  const put = (offset: number, text: string) => header.set(new TextEncoder().encode(text), offset);
  put(0, name.slice(0, 100));
  put(100, '0000600\0');
  put(108, '0000000\0');
  put(116, '0000000\0');
  put(124, `${body.length.toString(8).padStart(11, '0')}\0`);
  put(136, '00000000000\0');
  put(156, type);
  put(257, 'ustar\0');
  put(263, '00');
  header.fill(0x20, 148, 156);
  const sum = header.reduce((n, b) => n + b, 0) + (options.corrupt ? 1 : 0);
  put(148, `${sum.toString(8).padStart(6, '0')}\0 `);
  const padded = new Uint8Array(Math.ceil(body.length / 512) * 512);
  padded.set(body);
  return new Uint8Array([...header, ...padded]);
}

function pax(path: string): Uint8Array {
  const record = (n: number) => `${n} path=${path}\n`;
  let length = record(0).length;
  while (record(length).length !== length) length = record(length).length;
  return entry('PaxHeaders/x', new TextEncoder().encode(record(length)), 'x');
}

function archive(...entries: Uint8Array[]): Uint8Array {
  return gzipSync(new Uint8Array([...entries.flatMap((e) => [...e]), ...new Uint8Array(1024)]));
}

describe('parseBundleArchive', () => {
  it('reads /policy.wasm and /data.json and digests the archive bytes', () => {
    const bytes = archive(
      entry('/.manifest', new TextEncoder().encode('{"revision":""}')),
      entry('/data.json', DATA),
      entry('/policies/custody/decision/decision.rego', new TextEncoder().encode('package custody.decision')),
      entry('/policy.wasm', WASM),
    );
    const bundle = parseBundleArchive(bytes);
    expect(bundle.digest).toBe(hex.encode(sha256(bytes)));
    expect(bundle.wasm).toEqual(WASM);
    expect(bundle.data).toEqual({ limits: { version: '1' } });
    expect(Object.isFrozen(bundle)).toBe(true);
  });

  it('honours PAX long names and ./ prefixes', () => {
    const bundle = parseBundleArchive(archive(pax('./policy.wasm'), entry('ignored-short-name', WASM), entry('./data.json', DATA)));
    expect(bundle.wasm).toEqual(WASM);
  });

  it.each<[string, () => Uint8Array, string]>([
    ['not gzip', () => new Uint8Array([1, 2, 3]), 'policy bundle is not gzip data'],
    ['without policy.wasm', () => archive(entry('/data.json', DATA)), 'policy bundle has no /policy.wasm (was it built with -t wasm?)'],
    ['without data.json', () => archive(entry('/policy.wasm', WASM)), 'policy bundle has no /data.json'],
    ['with a non-Wasm module', () => archive(entry('/policy.wasm', new Uint8Array([1, 2, 3, 4])), entry('/data.json', DATA)), 'policy.wasm is not a WebAssembly module'],
    ['with data that is not JSON', () => archive(entry('/policy.wasm', WASM), entry('/data.json', new TextEncoder().encode('{'))), 'data.json is not JSON'],
    ['with data that is an array', () => archive(entry('/policy.wasm', WASM), entry('/data.json', new TextEncoder().encode('[]'))), 'data.json is not a JSON object'],
    ['with a corrupt header', () => archive(entry('/policy.wasm', WASM, '0', { corrupt: true })), 'policy bundle has a corrupt tar header at byte 0'],
    ['with a file twice', () => archive(entry('/policy.wasm', WASM), entry('policy.wasm', WASM), entry('/data.json', DATA)), 'policy bundle contains policy.wasm twice'],
  ])('refuses an archive %s', (_name, make, message) => {
    expect(() => parseBundleArchive(make())).toThrow(PolicyBundleError);
    expect(() => parseBundleArchive(make())).toThrow(message);
  });
});
