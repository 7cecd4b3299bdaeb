// Where and how to reach a service's gRPC API: host:port and either mTLS (client certificate,
// key and the CA that signed the server's certificate) or plaintext on 127.0.0.1 only
// (--insecure-loopback, the embedded default). Pure: reads no files.
import { UsageError, type ParsedValues } from '../types.js';
import { stringOption } from '../args.js';

export interface ServerAddress {
  readonly host: string;
  readonly port: number;
}

export type Transport =
  | { readonly kind: 'insecure-loopback' }
  | { readonly kind: 'mtls'; readonly certFile: string; readonly keyFile: string; readonly caFile: string };

export function parseServerAddress(text: string): ServerAddress {
  const m = /^(?:\[([0-9a-fA-F:.]+)\]|([A-Za-z0-9.-]+)):(\d{1,5})$/.exec(text);
  const port = Number(m?.[3]);
  if (!m || port < 1 || port > 65535) throw new UsageError(`--server must be host:port (e.g. 127.0.0.1:50052), got "${text}"`);
  return { host: m[1] ?? m[2] ?? '', port };
}

export function formatTarget(a: ServerAddress): string {
  return a.host.includes(':') ? `[${a.host}]:${a.port}` : `${a.host}:${a.port}`;
}

/**
 * --insecure-loopback is accepted only for 127.0.0.1 (no name lookup can send it elsewhere)
 * and never together with certificate options; otherwise all three of --cert, --key, --ca.
 */
export function transportOf(values: ParsedValues, address: ServerAddress): Transport {
  const cert = stringOption(values, 'cert');
  const key = stringOption(values, 'key');
  const ca = stringOption(values, 'ca');
  const anyTls = cert !== undefined || key !== undefined || ca !== undefined;
  if (values['insecure-loopback'] === true) {
    if (anyTls) throw new UsageError('--insecure-loopback cannot be combined with --cert/--key/--ca');
    if (address.host !== '127.0.0.1') throw new UsageError(`--insecure-loopback is allowed for 127.0.0.1 only, not ${address.host}: use --cert, --key and --ca`);
    return { kind: 'insecure-loopback' };
  }
  if (!anyTls) throw new UsageError('give --cert, --key and --ca (mTLS), or --insecure-loopback for a server on 127.0.0.1');
  const missing = [cert === undefined ? '--cert' : '', key === undefined ? '--key' : '', ca === undefined ? '--ca' : ''].filter(Boolean);
  if (missing.length > 0) throw new UsageError(`mTLS needs --cert, --key and --ca: missing ${missing.join(', ')}`);
  return { kind: 'mtls', certFile: cert ?? '', keyFile: key ?? '', caFile: ca ?? '' };
}
