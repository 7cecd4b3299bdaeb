// Bitcoin addresses: legacy base58check (P2PKH / P2SH version bytes per network) and
// segwit bech32 (witness v0, BIP-173) / bech32m (witness v1+, BIP-350) with the network's
// human-readable prefix.
import { sha256 } from '@noble/hashes/sha2.js';
import { bech32, bech32m, createBase58check } from '@scure/base';
import type { AddressCheck } from './evm.js';

export interface BitcoinNetwork {
  readonly name: string;
  /** bech32 human-readable part, e.g. "bc", "tb", "bcrt". */
  readonly hrp: string;
  readonly p2pkhVersion: number;
  readonly p2shVersion: number;
}

export const BITCOIN_MAINNET: BitcoinNetwork = Object.freeze({ name: 'bitcoin-mainnet', hrp: 'bc', p2pkhVersion: 0x00, p2shVersion: 0x05 });
export const BITCOIN_TESTNET: BitcoinNetwork = Object.freeze({ name: 'bitcoin-testnet', hrp: 'tb', p2pkhVersion: 0x6f, p2shVersion: 0xc4 });
export const BITCOIN_REGTEST: BitcoinNetwork = Object.freeze({ name: 'bitcoin-regtest', hrp: 'bcrt', p2pkhVersion: 0x6f, p2shVersion: 0xc4 });
const KNOWN_NETWORKS = [BITCOIN_MAINNET, BITCOIN_TESTNET, BITCOIN_REGTEST];

const base58check = createBase58check(sha256);

export interface SegwitProgram {
  readonly hrp: string;
  readonly version: number;
  readonly program: Uint8Array;
}

export type SegwitDecode = { readonly ok: true; readonly value: SegwitProgram } | { readonly ok: false; readonly code: string; readonly message: string };

const fail = (code: string, message: string): { ok: false; code: string; message: string } => ({ ok: false, code, message });

/** Decodes a segwit address of any HRP, enforcing every BIP-173/BIP-350 rule except the HRP. */
export function decodeSegwit(address: string): SegwitDecode {
  if (address.length > 90) return fail('ADDRESS_MALFORMED', 'is longer than 90 characters');
  if (address !== address.toLowerCase() && address !== address.toUpperCase()) return fail('ADDRESS_MALFORMED', 'mixes upper and lower case');
  const lower = address.toLowerCase();
  const sep = lower.lastIndexOf('1');
  if (sep < 1) return fail('ADDRESS_MALFORMED', 'has no human-readable part');
  // Try both checksums; the witness version decides which one is required.
  const asBech32 = bech32.decodeUnsafe(lower, 90);
  const asBech32m = asBech32 ? undefined : bech32m.decodeUnsafe(lower, 90);
  const decoded = asBech32 ?? asBech32m;
  if (!decoded) return fail('ADDRESS_CHECKSUM_INVALID', 'bech32/bech32m checksum or characters are invalid (a typo?)');
  const [version, ...data] = decoded.words;
  if (version === undefined) return fail('ADDRESS_MALFORMED', 'has an empty data part');
  if (version > 16) return fail('ADDRESS_MALFORMED', 'has an invalid witness version');
  if (version === 0 && !asBech32) return fail('ADDRESS_CHECKSUM_INVALID', 'witness version 0 must use the bech32 checksum (BIP-173)');
  if (version !== 0 && !asBech32m) return fail('ADDRESS_CHECKSUM_INVALID', 'witness version 1+ must use the bech32m checksum (BIP-350)');
  const program = bech32.fromWordsUnsafe(data);
  if (!program) return fail('ADDRESS_MALFORMED', 'has invalid padding in the witness program');
  if (program.length < 2 || program.length > 40) return fail('ADDRESS_MALFORMED', 'has a witness program of invalid length');
  if (version === 0 && program.length !== 20 && program.length !== 32) return fail('ADDRESS_MALFORMED', 'witness v0 program must be 20 or 32 bytes');
  return { ok: true, value: { hrp: decoded.prefix, version, program } };
}

/** scriptPubKey of a segwit program: OP_n, push(program). */
export function segwitScriptPubKey(value: SegwitProgram): Uint8Array {
  const out = new Uint8Array(2 + value.program.length);
  out[0] = value.version === 0 ? 0 : 0x50 + value.version;
  out[1] = value.program.length;
  out.set(value.program, 2);
  return out;
}

function otherNetworkOfHrp(hrp: string): string | undefined {
  return KNOWN_NETWORKS.find((n) => n.hrp === hrp)?.name;
}

export function checkBitcoinAddress(address: string, network: BitcoinNetwork): AddressCheck {
  if (address.length === 0) return fail('ADDRESS_REQUIRED', 'is required');
  const lower = address.toLowerCase();
  const sep = lower.lastIndexOf('1');
  const looksSegwit = sep > 0 && KNOWN_NETWORKS.some((n) => lower.slice(0, sep) === n.hrp);
  if (looksSegwit) {
    const decoded = decodeSegwit(address);
    if (!decoded.ok) return decoded;
    if (decoded.value.hrp !== network.hrp) {
      const other = otherNetworkOfHrp(decoded.value.hrp) ?? 'another network';
      return fail('ADDRESS_WRONG_NETWORK', `is a ${other} address, but this asset is on ${network.name}`);
    }
    return { ok: true, normalized: lower };
  }
  if (/^[1-9A-HJ-NP-Za-km-z]{25,35}$/.test(address)) {
    let payload: Uint8Array;
    try {
      payload = base58check.decode(address);
    } catch {
      return fail('ADDRESS_CHECKSUM_INVALID', 'base58check checksum does not match (a typo?)');
    }
    if (payload.length !== 21) return fail('ADDRESS_MALFORMED', 'has a base58 payload of the wrong length');
    const version = payload[0] as number;
    if (version === network.p2pkhVersion || version === network.p2shVersion) return { ok: true, normalized: address };
    const other = KNOWN_NETWORKS.find((n) => n.p2pkhVersion === version || n.p2shVersion === version);
    if (other) return fail('ADDRESS_WRONG_NETWORK', `is a ${other.name === 'bitcoin-regtest' ? 'bitcoin-testnet' : other.name} address, but this asset is on ${network.name}`);
    return fail('ADDRESS_MALFORMED', 'has an unknown base58 version byte');
  }
  // Anything else: try as segwit with an unknown prefix to give the precise reason.
  const decoded = decodeSegwit(address);
  if (decoded.ok) return fail('ADDRESS_WRONG_NETWORK', `has prefix "${decoded.value.hrp}", but this asset is on ${network.name} ("${network.hrp}")`);
  return fail('ADDRESS_MALFORMED', 'is neither a base58check nor a bech32/bech32m Bitcoin address');
}
