// EIP-1559 (type 2) transactions: the unsigned payload handed to the signer, and the checks
// on the signed bytes that come back (C-5.5.2-a: broadcast only what we prepared).
import { keccak_256 } from '@noble/hashes/sha3.js';
import { secp256k1 } from '@noble/curves/secp256k1.js';
import { ChainAdapterError } from './errors.js';
import { bigintToBytes, bytesToBigint, concatBytes, isRlpList, rlpDecode, rlpEncode, type RlpItem } from './rlp.js';

export const EIP1559_TYPE = 0x02;
const SECP256K1_N = 0xfffffffffffffffffffffffffffffffebaaedce6af48a03bbfd25e8cd0364141n;

export interface Eip1559Fields {
  readonly chainId: bigint;
  readonly nonce: bigint;
  readonly maxPriorityFeePerGas: bigint;
  readonly maxFeePerGas: bigint;
  readonly gasLimit: bigint;
  /** 0x-prefixed lower-case 20-byte address. */
  readonly to: string;
  readonly value: bigint;
  readonly data: Uint8Array;
}

export interface DecodedSignedTx {
  readonly fields: Eip1559Fields;
  /** 0x-prefixed keccak256 of the raw signed bytes (the transaction hash). */
  readonly hash: string;
  /** Recovered sender, 0x-prefixed lower case. */
  readonly from: string;
  readonly yParity: 0 | 1;
}

export const hex = (bytes: Uint8Array): string => `0x${Buffer.from(bytes).toString('hex')}`;

export function hexToBytes(text: string): Uint8Array {
  if (!/^0x([0-9a-fA-F]{2})*$/.test(text)) throw new ChainAdapterError('INVALID_TRANSACTION', 'expected 0x-prefixed even-length hex');
  return Uint8Array.from(Buffer.from(text.slice(2), 'hex'));
}

export function normaliseAddress(text: string): string {
  if (!/^0x[0-9a-fA-F]{40}$/.test(text)) throw new ChainAdapterError('INVALID_ADDRESS', 'an EVM address is 0x followed by 40 hex digits');
  return text.toLowerCase();
}

export const keccak = (data: Uint8Array): Uint8Array => keccak_256(data);

function fieldList(tx: Eip1559Fields): RlpItem[] {
  return [
    bigintToBytes(tx.chainId),
    bigintToBytes(tx.nonce),
    bigintToBytes(tx.maxPriorityFeePerGas),
    bigintToBytes(tx.maxFeePerGas),
    bigintToBytes(tx.gasLimit),
    hexToBytes(normaliseAddress(tx.to)),
    bigintToBytes(tx.value),
    tx.data,
    [],
  ];
}

/** 0x02 || rlp([chainId, nonce, maxPriorityFeePerGas, maxFeePerGas, gas, to, value, data, accessList]). */
export function encodeUnsignedEip1559(tx: Eip1559Fields): Uint8Array {
  if (tx.chainId <= 0n) throw new ChainAdapterError('INVALID_TRANSACTION', 'chain id is required (EIP-155 replay protection)');
  if (tx.maxPriorityFeePerGas > tx.maxFeePerGas) throw new ChainAdapterError('INVALID_TRANSACTION', 'priority fee above max fee');
  return concatBytes([Uint8Array.of(EIP1559_TYPE), rlpEncode(fieldList(tx))]);
}

function asBytes(item: RlpItem | undefined, field: string): Uint8Array {
  if (item === undefined || isRlpList(item)) throw new ChainAdapterError('INVALID_TRANSACTION', `${field} must be a byte string`);
  return item;
}

function parseFields(items: readonly RlpItem[]): Eip1559Fields {
  const to = asBytes(items[5], 'to');
  if (to.length !== 20) throw new ChainAdapterError('INVALID_TRANSACTION', 'contract creation is not a withdrawal');
  const accessList = items[8];
  if (!isRlpList(accessList) || accessList.length !== 0) throw new ChainAdapterError('INVALID_TRANSACTION', 'access lists are not used by withdrawals');
  return {
    chainId: bytesToBigint(asBytes(items[0], 'chainId')),
    nonce: bytesToBigint(asBytes(items[1], 'nonce')),
    maxPriorityFeePerGas: bytesToBigint(asBytes(items[2], 'maxPriorityFeePerGas')),
    maxFeePerGas: bytesToBigint(asBytes(items[3], 'maxFeePerGas')),
    gasLimit: bytesToBigint(asBytes(items[4], 'gas')),
    to: hex(to),
    value: bytesToBigint(asBytes(items[6], 'value')),
    data: asBytes(items[7], 'data'),
  };
}

export function decodeUnsignedEip1559(encoded: Uint8Array): Eip1559Fields {
  if (encoded[0] !== EIP1559_TYPE) throw new ChainAdapterError('INVALID_TRANSACTION', 'not an EIP-1559 transaction');
  const list = rlpDecode(encoded.subarray(1));
  if (!isRlpList(list) || list.length !== 9) throw new ChainAdapterError('INVALID_TRANSACTION', 'an unsigned EIP-1559 transaction has 9 fields');
  return parseFields(list);
}

/** Decodes signed type-2 bytes, checks low-S, recovers the sender. */
export function decodeSignedEip1559(raw: Uint8Array): DecodedSignedTx {
  if (raw[0] !== EIP1559_TYPE) throw new ChainAdapterError('INVALID_TRANSACTION', 'not an EIP-1559 transaction');
  const list = rlpDecode(raw.subarray(1));
  if (!isRlpList(list) || list.length !== 12) throw new ChainAdapterError('INVALID_TRANSACTION', 'a signed EIP-1559 transaction has 12 fields');
  const fields = parseFields(list.slice(0, 9));
  const v = bytesToBigint(asBytes(list[9], 'yParity'));
  const r = bytesToBigint(asBytes(list[10], 'r'));
  const s = bytesToBigint(asBytes(list[11], 's'));
  if (v !== 0n && v !== 1n) throw new ChainAdapterError('INVALID_TRANSACTION', 'yParity must be 0 or 1');
  if (r <= 0n || r >= SECP256K1_N || s <= 0n || s > SECP256K1_N / 2n) throw new ChainAdapterError('INVALID_TRANSACTION', 'signature out of range or high-S');
  const digest = keccak(encodeUnsignedEip1559(fields));
  const sig = new secp256k1.Signature(r, s, Number(v));
  const publicKey = sig.recoverPublicKey(digest).toBytes(false);
  const from = hex(keccak(publicKey.subarray(1)).subarray(12));
  return { fields, hash: hex(keccak(raw)), from, yParity: Number(v) as 0 | 1 };
}

/** Same transaction (every signed field), ignoring the signature. */
export function sameFields(a: Eip1559Fields, b: Eip1559Fields): boolean {
  return (
    a.chainId === b.chainId &&
    a.nonce === b.nonce &&
    a.maxPriorityFeePerGas === b.maxPriorityFeePerGas &&
    a.maxFeePerGas === b.maxFeePerGas &&
    a.gasLimit === b.gasLimit &&
    a.to.toLowerCase() === b.to.toLowerCase() &&
    a.value === b.value &&
    Buffer.from(a.data).equals(Buffer.from(b.data))
  );
}
