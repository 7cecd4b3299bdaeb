/**
 * Hierarchical deterministic wallets: BIP-39 mnemonics, BIP-32 derivation, BIP-44/84 paths.
 *
 * Private derivation state never leaves this module as data: a node handed to callers is
 * a frozen record of public facts (path, depth, fingerprints, public key); the extended
 * private key sits in a module-private WeakMap keyed by that record. Callers can
 * - export public derivation data (`exportXpub`) for watch-only address issuance,
 * - sign a digest with a node (`hdSignDigest`),
 * - wipe a node's private data (`wipeNode`),
 * - and, for a backup ceremony only, `exportXprvForBackup` with an explicit acknowledgement.
 */
import { HARDENED_OFFSET, HDKey } from '@scure/bip32';
import { entropyToMnemonic as scureEntropyToMnemonic, mnemonicToSeedSync, validateMnemonic } from '@scure/bip39';
import { wordlist as english } from '@scure/bip39/wordlists/english.js';
import { assertBytes, assertInteger, assertString, wipe } from './bytes.js';
import { SignerInputError } from './errors.js';
import { signDigest, type RecoverableSignature } from './secp256k1.js';

const MAX_INDEX = HARDENED_OFFSET - 1;

export interface HdNode {
  /** Absolute path from the master, e.g. m/44'/60'/0'/0/7 (hardened marked with '). */
  readonly path: string;
  readonly depth: number;
  /** Child index as serialised (hardened indices include 2^31). */
  readonly index: number;
  readonly parentFingerprint: number;
  readonly fingerprint: number;
  /** 33-byte compressed secp256k1 public key. */
  readonly publicKey: Uint8Array;
}

/** Public derivation data: everything another service needs to derive addresses. */
export interface ExtendedPublicKey {
  readonly xpub: string;
  readonly path: string;
  readonly depth: number;
  readonly index: number;
  readonly parentFingerprint: number;
  readonly fingerprint: number;
  readonly publicKey: Uint8Array;
  readonly chainCode: Uint8Array;
}

const privateState = new WeakMap<HdNode, HDKey>();

// ---------------------------------------------------------------------------------- BIP-39

/** Entropy of 16, 20, 24, 28 or 32 bytes → English mnemonic of 12..24 words. */
export function entropyToMnemonic(entropy: Uint8Array): string {
  return scureEntropyToMnemonic(assertBytes(entropy, 'entropy', 16, 20, 24, 28, 32), english);
}

/** True for an English BIP-39 mnemonic with a valid checksum. */
export function isValidMnemonic(mnemonic: string): boolean {
  return validateMnemonic(assertString(mnemonic, 'mnemonic'), english);
}

/**
 * 64-byte BIP-39 seed (PBKDF2-HMAC-SHA512, 2048 rounds, NFKD). The mnemonic must be a
 * checksummed English mnemonic: a typo must not silently produce another wallet.
 */
export function mnemonicToSeed(mnemonic: string, passphrase = ''): Uint8Array {
  const words = assertString(mnemonic, 'mnemonic');
  const pass = assertString(passphrase, 'passphrase');
  if (!validateMnemonic(words, english)) {
    throw new SignerInputError('INVALID_MNEMONIC', 'mnemonic', 'must be an English BIP-39 mnemonic with a valid checksum');
  }
  return mnemonicToSeedSync(words, pass);
}

// ---------------------------------------------------------------------------------- paths

/** Parses m/a/b'/c… into child indices (hardened ones include 2^31). Accepts ' h H. */
export function parsePath(path: string): readonly number[] {
  const text = assertString(path, 'path');
  const parts = text.split('/');
  if (parts[0] !== 'm') throw new SignerInputError('INVALID_PATH', 'path', "must start with 'm'");
  const indices = parts.slice(1).map((part) => {
    const match = /^(0|[1-9][0-9]{0,9})(['hH]?)$/.exec(part);
    if (match === null) throw new SignerInputError('INVALID_PATH', 'path', `bad segment '${part}'`);
    const index = Number(match[1]);
    if (index > MAX_INDEX) throw new SignerInputError('INVALID_PATH', 'path', 'index must be below 2^31');
    return match[2] === '' ? index : index + HARDENED_OFFSET;
  });
  if (indices.length > 255) throw new SignerInputError('INVALID_PATH', 'path', 'depth must be at most 255');
  return Object.freeze(indices);
}

export function formatPath(indices: readonly number[]): string {
  return ['m', ...indices.map((i) => (i >= HARDENED_OFFSET ? `${i - HARDENED_OFFSET}'` : `${i}`))].join('/');
}

/** BIP-44 Ethereum external address path m/44'/60'/account'/0/index. */
export function bip44EvmPath(index: number, account = 0): string {
  assertInteger(index, 'index', 0, MAX_INDEX);
  assertInteger(account, 'account', 0, MAX_INDEX);
  return `m/44'/60'/${account}'/0/${index}`;
}

/** BIP-84 Bitcoin native SegWit path m/84'/0'/account'/change/index. */
export function bip84BitcoinPath(index: number, account = 0, change: 0 | 1 = 0): string {
  assertInteger(index, 'index', 0, MAX_INDEX);
  assertInteger(account, 'account', 0, MAX_INDEX);
  assertInteger(change, 'change', 0, 1);
  return `m/84'/0'/${account}'/${change}/${index}`;
}

// ---------------------------------------------------------------------------------- BIP-32

function toNode(key: HDKey, path: string): HdNode {
  const publicKey = key.publicKey;
  if (publicKey === null) throw new SignerInputError('INVALID_EXTENDED_KEY', 'node', 'has no public key');
  const node: HdNode = Object.freeze({
    path,
    depth: key.depth,
    index: key.index,
    parentFingerprint: key.parentFingerprint,
    fingerprint: key.fingerprint,
    publicKey: Uint8Array.from(publicKey),
  });
  privateState.set(node, key);
  return node;
}

function stateOf(node: HdNode): HDKey {
  const key = typeof node === 'object' && node !== null ? privateState.get(node) : undefined;
  if (key === undefined || key.privateKey === null) {
    throw new SignerInputError('INVALID_TYPE', 'node', 'must be a live node from masterFromSeed/deriveNode (not wiped)');
  }
  return key;
}

/** Master node from a 16..64-byte seed (BIP-32: 128 to 512 bits). */
export function masterFromSeed(seed: Uint8Array): HdNode {
  const bytes = assertBytes(seed, 'seed');
  if (bytes.length < 16 || bytes.length > 64) {
    throw new SignerInputError('INVALID_LENGTH', 'seed', 'must be 16 to 64 bytes');
  }
  return toNode(HDKey.fromMasterSeed(bytes), 'm');
}

/** Private derivation from the master along an absolute path (m/…). */
export function deriveNode(master: HdNode, path: string): HdNode {
  const root = stateOf(master);
  if (master.depth !== 0) throw new SignerInputError('INVALID_PATH', 'master', 'absolute paths derive from the master (depth 0)');
  const indices = parsePath(path);
  let key = root;
  for (const index of indices) key = key.deriveChild(index);
  return toNode(key, formatPath(indices));
}

/** One private child step; `hardened` adds 2^31. */
export function deriveChild(node: HdNode, index: number, hardened: boolean): HdNode {
  const key = stateOf(node);
  assertInteger(index, 'index', 0, MAX_INDEX);
  const child = index + (hardened ? HARDENED_OFFSET : 0);
  return toNode(key.deriveChild(child), `${node.path}/${index}${hardened ? "'" : ''}`);
}

/** The node's public derivation data (xpub, chain code, public key). No private material. */
export function exportXpub(node: HdNode): ExtendedPublicKey {
  const key = stateOf(node);
  const chainCode = key.chainCode;
  if (chainCode === null) throw new SignerInputError('INVALID_EXTENDED_KEY', 'node', 'has no chain code');
  return Object.freeze({
    xpub: key.publicExtendedKey,
    path: node.path,
    depth: node.depth,
    index: node.index,
    parentFingerprint: node.parentFingerprint,
    fingerprint: node.fingerprint,
    publicKey: Uint8Array.from(node.publicKey),
    chainCode: Uint8Array.from(chainCode),
  });
}

/**
 * Watch-only derivation from an xpub along non-hardened relative steps (e.g. [0, 7] for
 * …/0/7): what chain-adapter/ledger do to issue deposit addresses without any secret.
 */
export function deriveXpub(xpub: string, steps: readonly number[]): ExtendedPublicKey {
  const text = assertString(xpub, 'xpub');
  if (!Array.isArray(steps)) throw new SignerInputError('INVALID_TYPE', 'steps', 'must be an array of indices');
  let key: HDKey;
  try {
    key = HDKey.fromExtendedKey(text);
  } catch {
    throw new SignerInputError('INVALID_EXTENDED_KEY', 'xpub', 'must be a valid BIP-32 extended public key');
  }
  if (key.privateKey !== null) {
    key.wipePrivateData();
    throw new SignerInputError('INVALID_EXTENDED_KEY', 'xpub', 'must be public (an xprv was given)');
  }
  steps.forEach((step, i) => assertInteger(step, `steps[${i}]`, 0, MAX_INDEX));
  for (const step of steps) key = key.deriveChild(step);
  const publicKey = key.publicKey;
  const chainCode = key.chainCode;
  if (publicKey === null || chainCode === null) throw new SignerInputError('INVALID_EXTENDED_KEY', 'xpub', 'incomplete');
  return Object.freeze({
    xpub: key.publicExtendedKey,
    path: '',
    depth: key.depth,
    index: key.index,
    parentFingerprint: key.parentFingerprint,
    fingerprint: key.fingerprint,
    publicKey: Uint8Array.from(publicKey),
    chainCode: Uint8Array.from(chainCode),
  });
}

/** ECDSA (RFC 6979, low-S) signature of a 32-byte digest with the node's private key. */
export function hdSignDigest(node: HdNode, digest: Uint8Array): RecoverableSignature {
  const key = stateOf(node);
  const secret = key.privateKey;
  if (secret === null) throw new SignerInputError('INVALID_TYPE', 'node', 'has no private key');
  try {
    return signDigest(digest, secret);
  } finally {
    wipe(secret); // the getter handed us a copy
  }
}

/** Zeroes the node's private key; the node can no longer sign or derive privately. */
export function wipeNode(node: HdNode): void {
  const key = typeof node === 'object' && node !== null ? privateState.get(node) : undefined;
  if (key === undefined) return;
  key.wipePrivateData();
  privateState.delete(node);
}

export const XPRV_EXPORT_ACKNOWLEDGEMENT = 'I am exporting private key material for an offline backup ceremony';

/**
 * DANGEROUS. The node's extended private key (xprv), for an offline backup ceremony only
 * (C-9.3.7.3). Anyone holding it controls every key below this node. Requires the exact
 * acknowledgement string so that no call site can do this by accident.
 */
export function exportXprvForBackup(node: HdNode, acknowledgement: typeof XPRV_EXPORT_ACKNOWLEDGEMENT): string {
  if (acknowledgement !== XPRV_EXPORT_ACKNOWLEDGEMENT) {
    throw new SignerInputError('DANGEROUS_EXPORT_NOT_ACKNOWLEDGED', 'acknowledgement', 'must be XPRV_EXPORT_ACKNOWLEDGEMENT');
  }
  return stateOf(node).privateExtendedKey;
}
