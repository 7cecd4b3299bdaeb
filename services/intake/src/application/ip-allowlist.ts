// Source-address allow-lists (addresses or CIDR blocks, IPv4 and IPv6).
import { BlockList, isIP } from 'node:net';

export function compileAllowlist(entries: readonly string[]): BlockList {
  const list = new BlockList();
  for (const entry of entries) {
    const [address, prefix] = entry.split('/');
    const family = isIP(address ?? '');
    if (family === 0) throw new TypeError(`not an IP address or CIDR: ${entry}`);
    const type = family === 4 ? 'ipv4' : 'ipv6';
    if (prefix === undefined) list.addAddress(address as string, type);
    else list.addSubnet(address as string, Number(prefix), type);
  }
  return list;
}

/** grpc-js peer ("127.0.0.1:5000", "[::1]:5000", "ipv4:...") -> bare address. */
export function peerAddress(peer: string): string | undefined {
  const stripped = peer.replace(/^ipv[46]:/, '');
  const bracketed = /^\[([^\]]+)\](?::\d+)?$/.exec(stripped);
  if (bracketed?.[1]) return bracketed[1];
  const v4 = /^(\d{1,3}(?:\.\d{1,3}){3})(?::\d+)?$/.exec(stripped);
  if (v4?.[1]) return v4[1];
  return isIP(stripped) ? stripped : undefined;
}

export function isAllowed(entries: readonly string[], address: string | undefined): boolean {
  if (entries.length === 0) return true;
  if (address === undefined) return false;
  const family = isIP(address);
  if (family === 0) return false;
  // IPv4-mapped IPv6 (::ffff:1.2.3.4) is checked as IPv4.
  const mapped = /^::ffff:(\d{1,3}(?:\.\d{1,3}){3})$/i.exec(address);
  const list = compileAllowlist(entries);
  if (mapped?.[1]) return list.check(mapped[1], 'ipv4');
  return list.check(address, family === 4 ? 'ipv4' : 'ipv6');
}
