// Where servers may listen. Loopback by default; all interfaces only when asked for.

export const DEFAULT_LISTEN_HOST = '127.0.0.1';

const ALL_INTERFACES = new Set(['0.0.0.0', '::', '[::]', '', '*', '0:0:0:0:0:0:0:0', '[0:0:0:0:0:0:0:0]']);

export function isAllInterfaces(host: string): boolean {
  return ALL_INTERFACES.has(host.trim());
}

/** Throws unless `host` names one interface, or all interfaces were explicitly allowed. */
export function assertListenHost(host: string, allowAllInterfaces = false): void {
  if (isAllInterfaces(host) && !allowAllInterfaces) {
    throw new Error(`refusing to listen on all interfaces (${JSON.stringify(host)}): bind a specific address such as 127.0.0.1, or set allowAllInterfaces`);
  }
}

/** host:port for grpc-js / logs, bracketing IPv6 literals. */
export function formatHostPort(host: string, port: number): string {
  const bare = host.replace(/^\[|\]$/g, '');
  return bare.includes(':') ? `[${bare}]:${port}` : `${bare}:${port}`;
}
