import { describe, expect, it } from '@jest/globals';
import fc from 'fast-check';
import { SignerInputError } from './errors.js';
import {
  bip44EvmPath,
  bip84BitcoinPath,
  deriveChild,
  deriveNode,
  deriveXpub,
  exportXprvForBackup,
  exportXpub,
  hdSignDigest,
  isValidMnemonic,
  masterFromSeed,
  mnemonicToSeed,
  parsePath,
  wipeNode,
  XPRV_EXPORT_ACKNOWLEDGEMENT,
} from './hd.js';
import { verifyDigest } from './secp256k1.js';

const MNEMONIC = 'abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon about';
const HARDENED = 0x80000000;

function codeOf(fn: () => unknown): string | undefined {
  try {
    fn();
  } catch (error) {
    return error instanceof SignerInputError ? error.code : `not a SignerInputError: ${String(error)}`;
  }
  return undefined;
}

describe('BIP-44 / BIP-84 path helpers', () => {
  it('builds the standard paths', () => {
    expect(bip44EvmPath(0)).toBe("m/44'/60'/0'/0/0");
    expect(bip44EvmPath(7, 2)).toBe("m/44'/60'/2'/0/7");
    expect(bip84BitcoinPath(3)).toBe("m/84'/0'/0'/0/3");
    expect(bip84BitcoinPath(3, 1, 1)).toBe("m/84'/0'/1'/1/3");
  });

  it('parses hardened markers and refuses malformed paths', () => {
    expect(parsePath("m/44'/60h/0H/0/5")).toEqual([44 + HARDENED, 60 + HARDENED, HARDENED, 0, 5]);
    expect(parsePath('m')).toEqual([]);
    for (const bad of ['', '44/0', 'm/', 'm//1', 'm/01', 'm/-1', "m/2147483648'", 'm/1x', 'M/0']) {
      expect(codeOf(() => parsePath(bad))).toBe('INVALID_PATH');
    }
    expect(codeOf(() => bip44EvmPath(-1))).toBe('OUT_OF_RANGE');
    expect(codeOf(() => bip44EvmPath(2 ** 31))).toBe('OUT_OF_RANGE');
    expect(codeOf(() => bip44EvmPath(1.5))).toBe('INVALID_TYPE');
  });
});

describe('BIP-39 input checks', () => {
  it('refuses a mnemonic with a bad checksum or an unknown word', () => {
    const badChecksum = MNEMONIC.replace(/about$/, 'abandon');
    expect(isValidMnemonic(badChecksum)).toBe(false);
    expect(codeOf(() => mnemonicToSeed(badChecksum))).toBe('INVALID_MNEMONIC');
    expect(codeOf(() => mnemonicToSeed(MNEMONIC.replace(/^abandon/, 'abandonn')))).toBe('INVALID_MNEMONIC');
    expect(codeOf(() => mnemonicToSeed(42 as unknown as string))).toBe('INVALID_TYPE');
  });
});

describe('C-5.4.2-c (kernel part) only public derivation material leaves the HD module', () => {
  const master = masterFromSeed(mnemonicToSeed(MNEMONIC));

  it('a node and its exported xpub carry no private material', () => {
    const account = deriveNode(master, "m/44'/60'/0'");
    const xpub = exportXpub(account);
    const text = JSON.stringify(xpub, (_k, v: unknown) => (v instanceof Uint8Array ? Array.from(v) : v));
    expect(xpub.xpub.startsWith('xpub')).toBe(true);
    expect(text).not.toContain('xprv');
    expect(Object.keys(account).sort()).toEqual(['depth', 'fingerprint', 'index', 'parentFingerprint', 'path', 'publicKey']);
    expect(Object.keys(xpub).sort()).toEqual(['chainCode', 'depth', 'fingerprint', 'index', 'parentFingerprint', 'path', 'publicKey', 'xpub']);
    expect(Object.isFrozen(account)).toBe(true);
    expect(Object.isFrozen(xpub)).toBe(true);
  });

  it('watch-only derivation from the account xpub gives the same keys as the signer', () => {
    const account = deriveNode(master, "m/44'/60'/0'");
    const accountXpub = exportXpub(account).xpub;
    fc.assert(
      fc.property(fc.integer({ min: 0, max: HARDENED - 1 }), (index) => {
        const fromSigner = deriveNode(master, bip44EvmPath(index));
        const watchOnly = deriveXpub(accountXpub, [0, index]);
        expect(watchOnly.publicKey).toEqual(fromSigner.publicKey);
        expect(watchOnly.xpub).toBe(exportXpub(fromSigner).xpub);
        wipeNode(fromSigner);
      }),
      { numRuns: 15 },
    );
  });

  it('deriveXpub refuses an xprv and garbage', () => {
    const xprv = exportXprvForBackup(master, XPRV_EXPORT_ACKNOWLEDGEMENT);
    expect(codeOf(() => deriveXpub(xprv, [0]))).toBe('INVALID_EXTENDED_KEY');
    expect(codeOf(() => deriveXpub('xpub-not-really', [0]))).toBe('INVALID_EXTENDED_KEY');
    expect(codeOf(() => deriveXpub(exportXpub(master).xpub, [HARDENED]))).toBe('OUT_OF_RANGE');
  });

  it('exporting an xprv needs the exact acknowledgement', () => {
    const wrong = 'yes' as typeof XPRV_EXPORT_ACKNOWLEDGEMENT;
    expect(codeOf(() => exportXprvForBackup(master, wrong))).toBe('DANGEROUS_EXPORT_NOT_ACKNOWLEDGED');
    expect(exportXprvForBackup(master, XPRV_EXPORT_ACKNOWLEDGEMENT).startsWith('xprv')).toBe(true);
  });

  it('a node signs digests that verify under its public key, and signs nothing once wiped', () => {
    const node = deriveChild(deriveNode(master, "m/44'/60'/0'/0"), 3, false);
    expect(node.path).toBe("m/44'/60'/0'/0/3");
    const digest = new Uint8Array(32).fill(0x42);
    const sig = hdSignDigest(node, digest);
    expect(verifyDigest(sig, digest, node.publicKey)).toBe(true);
    wipeNode(node);
    expect(codeOf(() => hdSignDigest(node, digest))).toBe('INVALID_TYPE');
    expect(codeOf(() => exportXpub(node))).toBe('INVALID_TYPE');
  });

  it('refuses forged nodes, short seeds and relative use of absolute paths', () => {
    const forged = { ...master };
    expect(codeOf(() => hdSignDigest(forged, new Uint8Array(32)))).toBe('INVALID_TYPE');
    expect(codeOf(() => masterFromSeed(new Uint8Array(15)))).toBe('INVALID_LENGTH');
    expect(codeOf(() => masterFromSeed(new Uint8Array(65)))).toBe('INVALID_LENGTH');
    expect(codeOf(() => deriveNode(deriveNode(master, "m/0'"), 'm/1'))).toBe('INVALID_PATH');
  });
});
