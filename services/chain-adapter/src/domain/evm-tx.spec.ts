// EIP-1559 encoding and signed-tx checks, cross-checked against viem (an independent implementation).
import { describe, expect, it } from '@jest/globals';
import { keccak256, parseTransaction, serializeTransaction, type Hex } from 'viem';
import { privateKeyToAccount } from 'viem/accounts';
import { decodeSignedEip1559, decodeUnsignedEip1559, encodeUnsignedEip1559, hex, sameFields, type Eip1559Fields } from './evm-tx.js';

const account = privateKeyToAccount(`0x${'4c'.repeat(32)}`);
const tx: Eip1559Fields = {
  chainId: 31337n,
  nonce: 7n,
  maxPriorityFeePerGas: 1_500_000_000n,
  maxFeePerGas: 30_000_000_000n,
  gasLimit: 21_000n,
  to: '0x5aaeb6053f3e94c9b9a09f33669435e7ef1beaed',
  value: 1_234_567_890_123_456_789n,
  data: new Uint8Array(0),
};
const viemTx = { type: 'eip1559', chainId: 31337, nonce: 7, maxPriorityFeePerGas: tx.maxPriorityFeePerGas, maxFeePerGas: tx.maxFeePerGas, gas: tx.gasLimit, to: tx.to as Hex, value: tx.value } as const;

const codeOf = (fn: () => unknown): string | undefined => {
  try {
    fn();
  } catch (err) {
    return (err as { code?: string }).code;
  }
  return undefined;
};

describe('EIP-1559 unsigned payload', () => {
  it('is byte-identical to viem serializeTransaction for the same fields, and round-trips', () => {
    const ours = encodeUnsignedEip1559(tx);
    expect(hex(ours)).toBe(serializeTransaction(viemTx));
    expect(sameFields(decodeUnsignedEip1559(ours), tx)).toBe(true);
    const parsed = parseTransaction(hex(ours) as Hex);
    expect(parsed.to).toBe(tx.to);
    expect(parsed.value).toBe(tx.value);
    expect(parsed.nonce).toBe(7);
  });

  it('C-5.5.4.3-b replay protection: a transaction without a chain id is never built', () => {
    expect(codeOf(() => encodeUnsignedEip1559({ ...tx, chainId: 0n }))).toBe('INVALID_TRANSACTION');
  });
});

describe('signed EIP-1559 bytes (C-5.5.2-a: broadcast only what was prepared)', () => {
  it('decodes viem-signed bytes: same fields, keccak hash, recovered sender', async () => {
    const raw = await account.signTransaction(viemTx);
    const decoded = decodeSignedEip1559(Buffer.from(raw.slice(2), 'hex'));
    expect(sameFields(decoded.fields, tx)).toBe(true);
    expect(decoded.hash).toBe(keccak256(raw));
    expect(decoded.from).toBe(account.address.toLowerCase());
  });

  it('a signature over another amount recovers the same key only for those other fields', async () => {
    const raw = await account.signTransaction({ ...viemTx, value: tx.value + 1n });
    const decoded = decodeSignedEip1559(Buffer.from(raw.slice(2), 'hex'));
    expect(sameFields(decoded.fields, tx)).toBe(false);
  });

  it('a high-S (malleated) signature and trailing bytes are refused', async () => {
    const raw = Buffer.from((await account.signTransaction(viemTx)).slice(2), 'hex');
    expect(codeOf(() => decodeSignedEip1559(Buffer.concat([raw, Buffer.of(0)])))).toBe('INVALID_TRANSACTION');
    const parsed = parseTransaction(`0x${raw.toString('hex')}` as Hex);
    const n = 0xfffffffffffffffffffffffffffffffebaaedce6af48a03bbfd25e8cd0364141n;
    const highS = serializeTransaction(viemTx, { r: parsed.r as Hex, s: `0x${(n - BigInt(parsed.s as Hex)).toString(16).padStart(64, '0')}`, yParity: parsed.yParity === 0 ? 1 : 0 });
    expect(codeOf(() => decodeSignedEip1559(Buffer.from(highS.slice(2), 'hex')))).toBe('INVALID_TRANSACTION');
  });

  it('refuses legacy and contract-creation transactions', async () => {
    const legacy = await account.signTransaction({ type: 'legacy', chainId: 1, nonce: 0, gasPrice: 1n, gas: 21_000n, to: tx.to as Hex, value: 1n });
    expect(codeOf(() => decodeSignedEip1559(Buffer.from(legacy.slice(2), 'hex')))).toBe('INVALID_TRANSACTION');
    const create = await account.signTransaction({ ...viemTx, to: undefined, data: '0x00' });
    expect(codeOf(() => decodeSignedEip1559(Buffer.from(create.slice(2), 'hex')))).toBe('INVALID_TRANSACTION');
  });
});
