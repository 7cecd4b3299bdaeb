// Official vectors: EIP-55 (ERC-55 test cases), BIP-173 and BIP-350. Sources in the JSON files.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from '@jest/globals';
import { bech32, bech32m } from '@scure/base';
import { checkBitcoinAddress, decodeSegwit, segwitScriptPubKey, BITCOIN_MAINNET, BITCOIN_TESTNET } from './bitcoin.js';
import { checkEvmAddress, toChecksumAddress } from './evm.js';

const load = <T>(name: string): T => JSON.parse(readFileSync(new URL(`../vectors/${name}`, import.meta.url), 'utf8')) as T;
const eip55 = load<{ allCaps: string[]; allLower: string[]; normal: string[] }>('eip55.json');
type Addr = { address: string; scriptPubKey: string };
const bip173 = load<{ validBech32: string[]; validSegwitAddresses: Addr[]; supersededByBip350: Addr[]; invalidSegwitAddresses: { address: string; reason: string }[] }>('bip173.json');
const bip350 = load<{
  validBech32m: string[];
  invalidBech32m: { prefixCharCode?: number; string: string; reason: string }[];
  validSegwitAddresses: Addr[];
  invalidSegwitAddresses: { address: string; reason: string }[];
}>('bip350.json');

const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex');
const networkOf = (address: string) => (address.toLowerCase().startsWith('bc1') ? BITCOIN_MAINNET : BITCOIN_TESTNET);

describe('C-5.5.2-b EIP-55 vectors (ERC-55 test cases)', () => {
  it.each(eip55.normal)('accepts and reproduces the checksum of %s', (address) => {
    expect(toChecksumAddress(address.toLowerCase())).toBe(address);
    expect(checkEvmAddress(address)).toEqual({ ok: true, normalized: address });
  });
  it.each([...eip55.allCaps, ...eip55.allLower])('accepts single-case %s (no checksum to check)', (address) => {
    expect(checkEvmAddress(address).ok).toBe(true);
  });
  it.each(eip55.normal)('rejects %s with one letter case flipped', (address) => {
    const i = [...address].findIndex((c, k) => k > 1 && /[a-fA-F]/.test(c));
    const c = address[i] as string;
    const flipped = address.slice(0, i) + (c === c.toUpperCase() ? c.toLowerCase() : c.toUpperCase()) + address.slice(i + 1);
    expect(checkEvmAddress(flipped)).toMatchObject({ ok: false, code: 'ADDRESS_CHECKSUM_INVALID' });
  });
});

describe('C-5.5.2-b BIP-173 vectors', () => {
  it.each(bip173.validBech32)('bech32 checksum of %s is valid', (s) => {
    expect(bech32.decodeUnsafe(s, 90)).toBeTruthy();
  });
  it.each(bip173.validSegwitAddresses)('v0 address $address -> scriptPubKey $scriptPubKey', ({ address, scriptPubKey }) => {
    const decoded = decodeSegwit(address);
    expect(decoded.ok && hex(segwitScriptPubKey(decoded.value))).toBe(scriptPubKey);
    expect(checkBitcoinAddress(address, networkOf(address)).ok).toBe(true);
  });
  it.each(bip173.supersededByBip350)('v1+ address with a bech32 checksum $address is refused (BIP-350)', ({ address }) => {
    expect(decodeSegwit(address).ok).toBe(false);
    expect(checkBitcoinAddress(address, networkOf(address)).ok).toBe(false);
  });
  it.each(bip173.invalidSegwitAddresses)('rejects $address ($reason)', ({ address }) => {
    expect(checkBitcoinAddress(address, BITCOIN_MAINNET).ok).toBe(false);
    expect(checkBitcoinAddress(address, BITCOIN_TESTNET).ok).toBe(false);
  });
});

describe('C-5.5.2-b BIP-350 vectors', () => {
  it.each(bip350.validBech32m)('bech32m checksum of %s is valid, and not bech32', (s) => {
    expect(bech32m.decodeUnsafe(s, 90)).toBeTruthy();
    expect(bech32.decodeUnsafe(s, 90)).toBeFalsy();
  });
  it.each(bip350.invalidBech32m)('rejects bech32m string $string ($reason)', ({ prefixCharCode, string }) => {
    const s = (prefixCharCode === undefined ? '' : String.fromCharCode(prefixCharCode)) + string;
    expect(bech32m.decodeUnsafe(s, 90)).toBeFalsy();
  });
  it.each(bip350.validSegwitAddresses)('address $address -> scriptPubKey $scriptPubKey', ({ address, scriptPubKey }) => {
    const decoded = decodeSegwit(address);
    expect(decoded.ok && hex(segwitScriptPubKey(decoded.value))).toBe(scriptPubKey);
    expect(checkBitcoinAddress(address, networkOf(address)).ok).toBe(true);
  });
  it.each(bip350.invalidSegwitAddresses)('rejects $address ($reason)', ({ address }) => {
    expect(checkBitcoinAddress(address, BITCOIN_MAINNET).ok).toBe(false);
    expect(checkBitcoinAddress(address, BITCOIN_TESTNET).ok).toBe(false);
  });
});

describe('C-5.5.2-b network prefixes and base58check', () => {
  it('refuses a testnet address for a mainnet asset and vice versa', () => {
    expect(checkBitcoinAddress('tb1qrp33g0q5c5txsp9arysrx4k6zdkfs4nce4xj0gdcccefvpysxf3q0sl5k7', BITCOIN_MAINNET)).toMatchObject({ ok: false, code: 'ADDRESS_WRONG_NETWORK' });
    expect(checkBitcoinAddress('bc1qw508d6qejxtdg4y5r3zarvary0c5xw7kv8f3t4', BITCOIN_TESTNET)).toMatchObject({ ok: false, code: 'ADDRESS_WRONG_NETWORK' });
  });
  it('accepts base58check P2PKH/P2SH of the right network and refuses the other network and a bad checksum', () => {
    // Genesis coinbase address (mainnet P2PKH) and a P2SH example from BIP-13's encoding.
    expect(checkBitcoinAddress('1A1zP1eP5QGefi2DMPTfTL5SLmv7DivfNa', BITCOIN_MAINNET).ok).toBe(true);
    expect(checkBitcoinAddress('1A1zP1eP5QGefi2DMPTfTL5SLmv7DivfNa', BITCOIN_TESTNET)).toMatchObject({ ok: false, code: 'ADDRESS_WRONG_NETWORK' });
    expect(checkBitcoinAddress('1A1zP1eP5QGefi2DMPTfTL5SLmv7DivfNb', BITCOIN_MAINNET)).toMatchObject({ ok: false, code: 'ADDRESS_CHECKSUM_INVALID' });
  });
});
