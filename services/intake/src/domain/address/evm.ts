// EVM addresses: 20 bytes as 0x + 40 hex digits. All-lower or all-upper case carries no
// checksum; mixed case must be the EIP-55 checksum (keccak-256 of the lower-case hex).
import { keccak_256 } from '@noble/hashes/sha3.js';
import { bytesToHex, utf8ToBytes } from '@noble/hashes/utils.js';

export type AddressCheck = { readonly ok: true; readonly normalized: string } | { readonly ok: false; readonly code: string; readonly message: string };

/** EIP-55 mixed-case checksum form of a 40-hex-digit address (any case in, 0x-prefixed out). */
export function toChecksumAddress(address: string): string {
  const hex = address.replace(/^0x/i, '').toLowerCase();
  if (!/^[0-9a-f]{40}$/.test(hex)) throw new TypeError('address must be 40 hex digits');
  const hash = bytesToHex(keccak_256(utf8ToBytes(hex)));
  let out = '0x';
  for (let i = 0; i < 40; i++) {
    const c = hex[i] as string;
    out += parseInt(hash[i] as string, 16) >= 8 ? c.toUpperCase() : c;
  }
  return out;
}

export function checkEvmAddress(address: string): AddressCheck {
  if (!/^0x[0-9a-fA-F]{40}$/.test(address)) {
    return { ok: false, code: 'ADDRESS_MALFORMED', message: 'must be 0x followed by 40 hexadecimal digits' };
  }
  const body = address.slice(2);
  const mixed = body !== body.toLowerCase() && body !== body.toUpperCase();
  const checksummed = toChecksumAddress(body);
  if (mixed && checksummed !== address) {
    return { ok: false, code: 'ADDRESS_CHECKSUM_INVALID', message: 'EIP-55 checksum does not match (a typo?); re-copy the address' };
  }
  if (/^0x0{40}$/.test(address)) return { ok: false, code: 'ADDRESS_ZERO', message: 'is the zero address, which burns funds' };
  return { ok: true, normalized: checksummed };
}
