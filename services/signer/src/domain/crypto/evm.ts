/**
 * EVM primitives: keccak256, addresses (EIP-55), and transaction encoding and signing for
 * legacy EIP-155 and EIP-1559 (type 2) transactions.
 *
 * Hardened defaults:
 * - every transaction carries a chain id (EIP-155 replay protection, control C-5.5.4.3-b):
 *   a missing or zero chain id is refused with MISSING_CHAIN_ID, and so is decoding a
 *   pre-EIP-155 signature (v = 27/28);
 * - signatures are low-S (EIP-2) and the recovery id is the y parity;
 * - contract creation (no `to`) is refused: this kernel signs transfers and calls;
 * - decoding is strict (canonical RLP, canonical scalars, exact field counts), so one
 *   transaction has one encoding.
 */
import { keccak_256 } from '@noble/hashes/sha3.js';
import { assertBigint, assertBytes, assertString, bytesToHex, concatBytes, copyBytes, hexToBytes, isBytes } from './bytes.js';
import { SignerInputError } from './errors.js';
import { bigintToMinimalBytes, isRlpList, rlpDecode, rlpEncode, rlpScalar, type RlpItem } from './rlp.js';
import {
  decompressPublicKey,
  isHighS,
  recoverPublicKey,
  signDigest,
  SECP256K1_N,
  type RecoverableSignature,
  type RecoveryId,
} from './secp256k1.js';

const UINT256_MAX = (1n << 256n) - 1n;
const UINT64_MAX = (1n << 64n) - 1n;
/** EIP-2681: a nonce is below 2^64 - 1. */
const NONCE_MAX = UINT64_MAX - 1n;
/** Chain ids are bounded to 64 bits (EIP-2294); 0 is not a chain. */
const CHAIN_ID_MAX = UINT64_MAX;

export const EIP1559_TX_TYPE = 0x02;

// ---------------------------------------------------------------------------------- hashing, addresses

export function keccak256(data: Uint8Array): Uint8Array {
  return keccak_256(assertBytes(data, 'data'));
}

/** 20-byte address: last 20 bytes of keccak256 of the uncompressed key without its 0x04. */
export function publicKeyToAddress(publicKey: Uint8Array): Uint8Array {
  const uncompressed = decompressPublicKey(publicKey);
  return keccak_256(uncompressed.subarray(1)).slice(12);
}

/** EIP-55 mixed-case checksum encoding, 0x-prefixed. */
export function toChecksumAddress(address: Uint8Array): string {
  const lower = bytesToHex(assertBytes(address, 'address', 20));
  const hash = bytesToHex(keccak_256(new TextEncoder().encode(lower)));
  let out = '0x';
  for (let i = 0; i < lower.length; i++) {
    const char = lower[i] ?? '';
    out += Number.parseInt(hash[i] ?? '0', 16) >= 8 ? char.toUpperCase() : char;
  }
  return out;
}

/**
 * Parses a 0x-prefixed 40-hex-digit address. Mixed case must carry a valid EIP-55
 * checksum; all-lower and all-upper carry none and are accepted (as EIP-55 specifies).
 */
export function parseAddress(text: string): Uint8Array {
  const value = assertString(text, 'address');
  if (!/^0x[0-9a-fA-F]{40}$/.test(value)) {
    throw new SignerInputError('INVALID_ADDRESS', 'address', 'must be 0x followed by 40 hex digits');
  }
  const body = value.slice(2);
  const bytes = hexToBytes(body, 'address');
  const mixed = body !== body.toLowerCase() && body !== body.toUpperCase();
  if (mixed && toChecksumAddress(bytes) !== value) {
    throw new SignerInputError('INVALID_ADDRESS', 'address', 'EIP-55 checksum mismatch');
  }
  return bytes;
}

// ---------------------------------------------------------------------------------- transaction shapes

export interface LegacyTransaction {
  readonly chainId: bigint;
  readonly nonce: bigint;
  readonly gasPrice: bigint;
  readonly gasLimit: bigint;
  /** 20-byte recipient. Contract creation is not supported. */
  readonly to: Uint8Array;
  readonly value: bigint;
  readonly data: Uint8Array;
}

export interface AccessListEntry {
  readonly address: Uint8Array;
  readonly storageKeys: readonly Uint8Array[];
}

export interface Eip1559Transaction {
  readonly chainId: bigint;
  readonly nonce: bigint;
  readonly maxPriorityFeePerGas: bigint;
  readonly maxFeePerGas: bigint;
  readonly gasLimit: bigint;
  readonly to: Uint8Array;
  readonly value: bigint;
  readonly data: Uint8Array;
  readonly accessList: readonly AccessListEntry[];
}

export interface SignedTransaction<T> {
  readonly tx: T;
  readonly signature: RecoverableSignature;
  /** Legacy: chainId * 2 + 35 + recovery (EIP-155). Type 2: the y parity (0 or 1). */
  readonly v: bigint;
  /** Bytes to broadcast. */
  readonly raw: Uint8Array;
  /** Transaction hash: keccak256(raw). */
  readonly hash: Uint8Array;
  /** Sender, recovered from the signature. */
  readonly from: Uint8Array;
}

export interface DecodedTransaction<T> {
  readonly tx: T;
  /** Present when the encoding was a signed transaction. */
  readonly signed?: SignedTransaction<T>;
}

// ---------------------------------------------------------------------------------- validation

function assertObject(value: unknown, field: string): Record<string, unknown> {
  if (typeof value !== 'object' || value === null) throw new SignerInputError('INVALID_TYPE', field, 'must be an object');
  return value as Record<string, unknown>;
}

function assertChainId(value: unknown, field: string): bigint {
  if (value === undefined || value === null || value === 0n) {
    throw new SignerInputError('MISSING_CHAIN_ID', field, 'is required (EIP-155 replay protection)');
  }
  return assertBigint(value, field, 1n, CHAIN_ID_MAX);
}

function assertTo(value: unknown, field: string): Uint8Array {
  if (value === undefined || value === null || (isBytes(value) && value.length === 0)) {
    throw new SignerInputError('INVALID_TRANSACTION', field, 'is required: contract creation is not signed here');
  }
  return copyBytes(assertBytes(value, field, 20));
}

function normaliseLegacy(value: unknown): LegacyTransaction {
  const tx = assertObject(value, 'tx');
  return Object.freeze({
    chainId: assertChainId(tx['chainId'], 'tx.chainId'),
    nonce: assertBigint(tx['nonce'], 'tx.nonce', 0n, NONCE_MAX),
    gasPrice: assertBigint(tx['gasPrice'], 'tx.gasPrice', 0n, UINT256_MAX),
    gasLimit: assertBigint(tx['gasLimit'], 'tx.gasLimit', 0n, UINT64_MAX),
    to: assertTo(tx['to'], 'tx.to'),
    value: assertBigint(tx['value'], 'tx.value', 0n, UINT256_MAX),
    data: copyBytes(assertBytes(tx['data'], 'tx.data')),
  });
}

function normaliseAccessList(value: unknown): readonly AccessListEntry[] {
  if (!Array.isArray(value)) throw new SignerInputError('INVALID_TYPE', 'tx.accessList', 'must be an array');
  return Object.freeze(
    value.map((entry: unknown, i: number) => {
      const item = assertObject(entry, `tx.accessList[${i}]`);
      const keys = item['storageKeys'];
      if (!Array.isArray(keys)) throw new SignerInputError('INVALID_TYPE', `tx.accessList[${i}].storageKeys`, 'must be an array');
      return Object.freeze({
        address: copyBytes(assertBytes(item['address'], `tx.accessList[${i}].address`, 20)),
        storageKeys: Object.freeze(
          keys.map((key: unknown, j: number) => copyBytes(assertBytes(key, `tx.accessList[${i}].storageKeys[${j}]`, 32))),
        ),
      });
    }),
  );
}

function normaliseEip1559(value: unknown): Eip1559Transaction {
  const tx = assertObject(value, 'tx');
  const maxPriorityFeePerGas = assertBigint(tx['maxPriorityFeePerGas'], 'tx.maxPriorityFeePerGas', 0n, UINT256_MAX);
  const maxFeePerGas = assertBigint(tx['maxFeePerGas'], 'tx.maxFeePerGas', 0n, UINT256_MAX);
  if (maxPriorityFeePerGas > maxFeePerGas) {
    throw new SignerInputError('INVALID_TRANSACTION', 'tx.maxPriorityFeePerGas', 'must not exceed maxFeePerGas (EIP-1559)');
  }
  return Object.freeze({
    chainId: assertChainId(tx['chainId'], 'tx.chainId'),
    nonce: assertBigint(tx['nonce'], 'tx.nonce', 0n, NONCE_MAX),
    maxPriorityFeePerGas,
    maxFeePerGas,
    gasLimit: assertBigint(tx['gasLimit'], 'tx.gasLimit', 0n, UINT64_MAX),
    to: assertTo(tx['to'], 'tx.to'),
    value: assertBigint(tx['value'], 'tx.value', 0n, UINT256_MAX),
    data: copyBytes(assertBytes(tx['data'], 'tx.data')),
    accessList: normaliseAccessList(tx['accessList'] ?? []),
  });
}

function assertLowSRecoverable(signature: unknown): RecoverableSignature {
  const sig = assertObject(signature, 'signature');
  const r = assertBigint(sig['r'], 'signature.r', 1n, SECP256K1_N - 1n);
  const s = assertBigint(sig['s'], 'signature.s', 1n, SECP256K1_N - 1n);
  if (isHighS(s)) throw new SignerInputError('HIGH_S_SIGNATURE', 'signature.s', 'must be at most n/2 (EIP-2)');
  const recovery = sig['recovery'];
  if (recovery !== 0 && recovery !== 1) throw new SignerInputError('OUT_OF_RANGE', 'signature.recovery', 'must be 0 or 1');
  return Object.freeze({ r, s, recovery });
}

const int = bigintToMinimalBytes;

function senderOf(digest: Uint8Array, signature: RecoverableSignature): Uint8Array {
  return publicKeyToAddress(recoverPublicKey(digest, signature));
}

// ---------------------------------------------------------------------------------- legacy (EIP-155)

function legacyFields(tx: LegacyTransaction): RlpItem[] {
  return [int(tx.nonce), int(tx.gasPrice), int(tx.gasLimit), tx.to, int(tx.value), tx.data];
}

/** EIP-155 signing data: rlp([nonce, gasPrice, gas, to, value, data, chainId, 0, 0]). */
export function legacySigningPayload(tx: LegacyTransaction): Uint8Array {
  const t = normaliseLegacy(tx);
  return rlpEncode([...legacyFields(t), int(t.chainId), new Uint8Array(0), new Uint8Array(0)]);
}

/** EIP-155 signing hash: keccak256 of the signing data. */
export function legacySigningHash(tx: LegacyTransaction): Uint8Array {
  return keccak_256(legacySigningPayload(tx));
}

function buildSignedLegacy(t: LegacyTransaction, signature: RecoverableSignature): SignedTransaction<LegacyTransaction> {
  const v = t.chainId * 2n + 35n + BigInt(signature.recovery);
  const raw = rlpEncode([...legacyFields(t), int(v), int(signature.r), int(signature.s)]);
  const from = senderOf(legacySigningHash(t), signature);
  return Object.freeze({ tx: t, signature, v, raw, hash: keccak_256(raw), from });
}

/** Attaches an externally made (e.g. HSM, normalised) signature to a legacy transaction. */
export function serializeSignedLegacy(tx: LegacyTransaction, signature: RecoverableSignature): SignedTransaction<LegacyTransaction> {
  return buildSignedLegacy(normaliseLegacy(tx), assertLowSRecoverable(signature));
}

/** Signs a legacy transaction with EIP-155 replay protection. */
export function signLegacyTransaction(tx: LegacyTransaction, secretKey: Uint8Array): SignedTransaction<LegacyTransaction> {
  const t = normaliseLegacy(tx);
  return buildSignedLegacy(t, signDigest(legacySigningHash(t), secretKey));
}

/**
 * Decodes a legacy transaction: the EIP-155 signing data (v = chainId, r = s = 0) or a
 * signed EIP-155 transaction (v = chainId * 2 + 35 + y). Pre-EIP-155 (v = 27/28) is
 * refused: it replays on every chain.
 */
export function decodeLegacyTransaction(encoded: Uint8Array): DecodedTransaction<LegacyTransaction> {
  const item = rlpDecode(assertBytes(encoded, 'encoded'));
  if (!isRlpList(item) || item.length !== 9) {
    throw new SignerInputError('INVALID_TRANSACTION', 'encoded', 'must be an RLP list of 9 fields (EIP-155)');
  }
  const [nonce, gasPrice, gasLimit, to, value, data, vField, rField, sField] = item;
  const v = rlpScalar(vField, 'v');
  const r = rlpScalar(rField, 'r');
  const s = rlpScalar(sField, 's');
  const unsigned = r === 0n && s === 0n;
  if (!unsigned && (v === 27n || v === 28n)) {
    throw new SignerInputError('MISSING_CHAIN_ID', 'v', 'pre-EIP-155 signature (v = 27/28) has no replay protection');
  }
  if (!unsigned && v < 37n) throw new SignerInputError('INVALID_SIGNATURE', 'v', 'must be chainId * 2 + 35 or + 36');
  const chainId = unsigned ? v : (v - 35n) / 2n;
  if (isRlpList(to) || to === undefined || isRlpList(data) || data === undefined) {
    throw new SignerInputError('INVALID_TRANSACTION', 'encoded', 'to and data must be byte strings');
  }
  const tx = normaliseLegacy({
    chainId,
    nonce: rlpScalar(nonce, 'nonce', 8),
    gasPrice: rlpScalar(gasPrice, 'gasPrice'),
    gasLimit: rlpScalar(gasLimit, 'gasLimit', 8),
    to,
    value: rlpScalar(value, 'value'),
    data,
  });
  if (unsigned) return Object.freeze({ tx });
  const signature = assertLowSRecoverable({ r, s, recovery: Number((v - 35n) % 2n) as RecoveryId });
  return Object.freeze({ tx, signed: buildSignedLegacy(tx, signature) });
}

// ---------------------------------------------------------------------------------- EIP-1559 (type 2)

function eip1559Fields(tx: Eip1559Transaction): RlpItem[] {
  return [
    int(tx.chainId),
    int(tx.nonce),
    int(tx.maxPriorityFeePerGas),
    int(tx.maxFeePerGas),
    int(tx.gasLimit),
    tx.to,
    int(tx.value),
    tx.data,
    tx.accessList.map((entry) => [entry.address, [...entry.storageKeys]]),
  ];
}

/** 0x02 || rlp([chainId, nonce, maxPriorityFeePerGas, maxFeePerGas, gas, to, value, data, accessList]). */
export function eip1559UnsignedPayload(tx: Eip1559Transaction): Uint8Array {
  return concatBytes(Uint8Array.of(EIP1559_TX_TYPE), rlpEncode(eip1559Fields(normaliseEip1559(tx))));
}

/** keccak256 of the unsigned type-2 payload. */
export function eip1559SigningHash(tx: Eip1559Transaction): Uint8Array {
  return keccak_256(eip1559UnsignedPayload(tx));
}

function buildSignedEip1559(t: Eip1559Transaction, signature: RecoverableSignature): SignedTransaction<Eip1559Transaction> {
  const payload = rlpEncode([...eip1559Fields(t), int(BigInt(signature.recovery)), int(signature.r), int(signature.s)]);
  const raw = concatBytes(Uint8Array.of(EIP1559_TX_TYPE), payload);
  const from = senderOf(eip1559SigningHash(t), signature);
  return Object.freeze({ tx: t, signature, v: BigInt(signature.recovery), raw, hash: keccak_256(raw), from });
}

export function serializeSignedEip1559(
  tx: Eip1559Transaction,
  signature: RecoverableSignature,
): SignedTransaction<Eip1559Transaction> {
  return buildSignedEip1559(normaliseEip1559(tx), assertLowSRecoverable(signature));
}

export function signEip1559Transaction(tx: Eip1559Transaction, secretKey: Uint8Array): SignedTransaction<Eip1559Transaction> {
  const t = normaliseEip1559(tx);
  return buildSignedEip1559(t, signDigest(eip1559SigningHash(t), secretKey));
}

function decodeAccessList(item: RlpItem | undefined): AccessListEntry[] {
  if (!isRlpList(item)) throw new SignerInputError('INVALID_TRANSACTION', 'accessList', 'must be a list');
  return item.map((entry, i) => {
    if (!isRlpList(entry) || entry.length !== 2) {
      throw new SignerInputError('INVALID_TRANSACTION', `accessList[${i}]`, 'must be [address, storageKeys]');
    }
    const [address, keys] = entry;
    if (address === undefined || isRlpList(address) || !isRlpList(keys) || keys.some((key) => isRlpList(key))) {
      throw new SignerInputError('INVALID_TRANSACTION', `accessList[${i}]`, 'must be [address, [key, …]]');
    }
    return { address, storageKeys: keys as readonly Uint8Array[] };
  });
}

/** Decodes an unsigned (9 fields) or signed (12 fields) type-2 transaction. */
export function decodeEip1559Transaction(encoded: Uint8Array): DecodedTransaction<Eip1559Transaction> {
  const bytes = assertBytes(encoded, 'encoded');
  if (bytes[0] !== EIP1559_TX_TYPE) throw new SignerInputError('INVALID_TRANSACTION', 'encoded', 'must start with type byte 0x02');
  const item = rlpDecode(bytes.subarray(1));
  if (!isRlpList(item) || (item.length !== 9 && item.length !== 12)) {
    throw new SignerInputError('INVALID_TRANSACTION', 'encoded', 'must be an RLP list of 9 (unsigned) or 12 (signed) fields');
  }
  const [chainId, nonce, tip, maxFee, gasLimit, to, value, data, accessList] = item;
  if (isRlpList(to) || to === undefined || isRlpList(data) || data === undefined) {
    throw new SignerInputError('INVALID_TRANSACTION', 'encoded', 'to and data must be byte strings');
  }
  const tx = normaliseEip1559({
    chainId: rlpScalar(chainId, 'chainId', 8),
    nonce: rlpScalar(nonce, 'nonce', 8),
    maxPriorityFeePerGas: rlpScalar(tip, 'maxPriorityFeePerGas'),
    maxFeePerGas: rlpScalar(maxFee, 'maxFeePerGas'),
    gasLimit: rlpScalar(gasLimit, 'gasLimit', 8),
    to,
    value: rlpScalar(value, 'value'),
    data,
    accessList: decodeAccessList(accessList),
  });
  if (item.length === 9) return Object.freeze({ tx });
  const yParity = rlpScalar(item[9], 'yParity', 1);
  if (yParity > 1n) throw new SignerInputError('INVALID_SIGNATURE', 'yParity', 'must be 0 or 1');
  const signature = assertLowSRecoverable({
    r: rlpScalar(item[10], 'r'),
    s: rlpScalar(item[11], 's'),
    recovery: Number(yParity) as RecoveryId,
  });
  return Object.freeze({ tx, signed: buildSignedEip1559(tx, signature) });
}
