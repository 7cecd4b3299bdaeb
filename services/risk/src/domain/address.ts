// Address normalisation per chain family, so that a list entry and a transfer's address
// compare equal exactly when they denote the same on-chain destination:
//  - EVM: hex is case-insensitive (EIP-55 mixed case is only a checksum) -> "0x" + lowercase.
//  - Bitcoin bech32 (witness v0) / bech32m (v1+): case-insensitive by BIP-173/350, but a
//    mixed-case string is invalid -> lowercase; checksum, witness version and program
//    length are checked.
//  - Bitcoin base58check (P2PKH/P2SH): case-sensitive -> kept exactly; checksum and
//    version byte are checked.
//  - Other chains: kept exactly (no case folding we cannot justify).
// The match key is "<family>:<normalised>".
import { sha256 } from '@noble/hashes/sha2.js';
import { base58check, bech32, bech32m } from '@scure/base';
import { RiskError } from './errors.js';

export type ChainFamily = 'evm' | 'bitcoin' | 'other';
export type AddressEncoding = 'hex' | 'base58check' | 'bech32' | 'bech32m' | 'exact';

export interface NormalizedAddress {
  readonly family: ChainFamily;
  readonly encoding: AddressEncoding;
  readonly value: string;
  /** "<family>:<value>": the key list entries and transfers are matched on. */
  readonly key: string;
}

const b58 = base58check(sha256);

const EVM_CHAIN = /^(ethereum|eth|polygon|matic|arbitrum|optimism|base|bsc|binance-smart-chain|avalanche|avax|gnosis|linea|scroll|zksync|evm)(-|$)/;
const BITCOIN_CHAIN = /^(bitcoin|btc)(-|$)/;

/** Chain id ("ethereum-mainnet", "bitcoin-testnet", ...) -> family. */
export function chainFamily(chain: string): ChainFamily {
  const c = chain.toLowerCase();
  if (BITCOIN_CHAIN.test(c)) return 'bitcoin';
  if (EVM_CHAIN.test(c)) return 'evm';
  return 'other';
}

/**
 * OFAC "Digital Currency Address - <CODE>" code -> family. EVM-style codes only when the
 * address has the EVM shape (OFAC lists USDT on Tron under the same code).
 */
export function familyOfListedCurrency(code: string, address: string): ChainFamily {
  const c = code.toUpperCase();
  if (c === 'XBT' || c === 'BTC') return 'bitcoin';
  if (/^0x[0-9a-fA-F]{40}$/.test(address) && ['ETH', 'ETC', 'ARB', 'BSC', 'USDC', 'USDT', 'MATIC', 'POL', 'BASE', 'OP', 'AVAX'].includes(c)) return 'evm';
  return 'other';
}

const EVM_HEX = /^0x[0-9a-fA-F]{40}$/;
const EXACT = /^[\x21-\x7e]{1,128}$/;

function invalid(family: ChainFamily, why: string): never {
  throw new RiskError('INVALID_ADDRESS', `not a valid ${family} address: ${why}`);
}

export function normalizeEvm(raw: string): NormalizedAddress {
  if (!EVM_HEX.test(raw)) invalid('evm', 'expected 0x followed by 40 hex digits');
  const value = raw.toLowerCase();
  return Object.freeze({ family: 'evm', encoding: 'hex', value, key: `evm:${value}` });
}

const SEGWIT_HRP = new Set(['bc', 'tb', 'bcrt']);

function normalizeSegwit(raw: string): NormalizedAddress {
  if (raw !== raw.toLowerCase() && raw !== raw.toUpperCase()) invalid('bitcoin', 'bech32 must not mix upper and lower case');
  const lower = raw.toLowerCase();
  const sep = lower.lastIndexOf('1');
  const hrp = lower.slice(0, sep);
  if (!SEGWIT_HRP.has(hrp)) invalid('bitcoin', `unknown human-readable part "${hrp}"`);
  const versionChar = lower[sep + 1];
  if (versionChar === undefined) invalid('bitcoin', 'missing witness version');
  // The first data character is the witness version: 'q' = 0 (bech32), others bech32m.
  const coder = versionChar === 'q' ? bech32 : bech32m;
  const decoded = coder.decodeUnsafe(lower as `${string}1${string}`, 90);
  if (!decoded) invalid('bitcoin', `bad ${versionChar === 'q' ? 'bech32' : 'bech32m'} checksum or characters`);
  const [version, ...programWords] = decoded.words;
  if (version === undefined || version > 16) invalid('bitcoin', 'bad witness version');
  let program: Uint8Array;
  try {
    program = coder.fromWords(programWords);
  } catch {
    invalid('bitcoin', 'bad witness program padding');
  }
  if (program.length < 2 || program.length > 40) invalid('bitcoin', 'witness program length out of range');
  if (version === 0 && program.length !== 20 && program.length !== 32) invalid('bitcoin', 'v0 witness program must be 20 or 32 bytes');
  const encoding = version === 0 ? 'bech32' : 'bech32m';
  return Object.freeze({ family: 'bitcoin', encoding, value: lower, key: `bitcoin:${lower}` });
}

const BASE58_VERSIONS = new Set([0x00, 0x05, 0x6f, 0xc4]);

function normalizeBase58(raw: string): NormalizedAddress {
  let payload: Uint8Array;
  try {
    payload = b58.decode(raw);
  } catch {
    invalid('bitcoin', 'bad base58check string or checksum');
  }
  if (payload.length !== 21 || !BASE58_VERSIONS.has(payload[0] ?? -1)) invalid('bitcoin', 'not a P2PKH/P2SH payload');
  return Object.freeze({ family: 'bitcoin', encoding: 'base58check', value: raw, key: `bitcoin:${raw}` });
}

export function normalizeBitcoin(raw: string): NormalizedAddress {
  if (raw.length < 14 || raw.length > 90) invalid('bitcoin', 'length out of range');
  if (/^(bc|tb|bcrt)1/i.test(raw)) return normalizeSegwit(raw);
  return normalizeBase58(raw);
}

export function normalizeExact(raw: string): NormalizedAddress {
  if (!EXACT.test(raw)) invalid('other', 'expected 1-128 printable ASCII characters without spaces');
  return Object.freeze({ family: 'other', encoding: 'exact', value: raw, key: `other:${raw}` });
}

export function normalizeForFamily(family: ChainFamily, raw: string): NormalizedAddress {
  if (typeof raw !== 'string' || raw.length === 0) throw new RiskError('INVALID_ADDRESS', 'address is empty');
  switch (family) {
    case 'evm':
      return normalizeEvm(raw);
    case 'bitcoin':
      return normalizeBitcoin(raw);
    case 'other':
      return normalizeExact(raw);
  }
}

/** Normalises a transfer's address for its chain; throws RiskError('INVALID_ADDRESS'). */
export function normalizeAddress(chain: string, raw: string): NormalizedAddress {
  return normalizeForFamily(chainFamily(chain), raw);
}

/**
 * Every key a transfer's address must be checked against: its normalised key, plus the
 * exact string as listed (fail closed: a list entry we could not normalise still matches
 * byte for byte).
 */
export function lookupKeys(address: NormalizedAddress, raw: string): readonly string[] {
  const exact = `other:${raw}`;
  return address.key === exact ? [address.key] : [address.key, exact];
}
