/**
 * Interoperability: our EIP-1559 (and EIP-155) bytes read by a library that is not ours.
 * viem has its own RLP, transaction (de)serialisation, address and HD code; only the
 * curve arithmetic underneath is noble's, as ours is.
 */
import { describe, expect, it } from '@jest/globals';
import fc from 'fast-check';
import {
  getAddress,
  keccak256 as viemKeccak256,
  parseTransaction,
  recoverTransactionAddress,
  serializeTransaction,
  toHex,
  type Hex,
} from 'viem';
import { mnemonicToAccount, privateKeyToAccount } from 'viem/accounts';
import { bigintToBytes, bytesToHex } from './bytes.js';
import {
  eip1559SigningHash,
  eip1559UnsignedPayload,
  publicKeyToAddress,
  signEip1559Transaction,
  signLegacyTransaction,
  toChecksumAddress,
  type Eip1559Transaction,
} from './evm.js';
import { bip44EvmPath, deriveNode, masterFromSeed, mnemonicToSeed } from './hd.js';
import { getPublicKey, SECP256K1_N } from './secp256k1.js';

const hex0x = (bytes: Uint8Array): Hex => `0x${bytesToHex(bytes)}`;
type SerializedTx = Parameters<typeof recoverTransactionAddress>[0]['serializedTransaction'];
const u256 = fc.bigInt({ min: 0n, max: 2n ** 256n - 1n });
const bytes = (n: number) => fc.uint8Array({ minLength: n, maxLength: n });
const txArb: fc.Arbitrary<Eip1559Transaction> = fc
  .record({
    chainId: fc.bigInt({ min: 1n, max: 2n ** 53n - 1n }), // viem carries chainId as a JS number
    nonce: fc.bigInt({ min: 0n, max: 2n ** 53n - 1n }), // likewise the nonce
    a: u256,
    b: u256,
    gasLimit: fc.bigInt({ min: 21000n, max: 2n ** 64n - 1n }),
    to: bytes(20),
    value: u256,
    data: fc.uint8Array({ maxLength: 64 }),
    accessList: fc.array(fc.record({ address: bytes(20), storageKeys: fc.array(bytes(32), { maxLength: 2 }) }), { maxLength: 2 }),
  })
  .map(({ a, b, ...rest }) => ({ ...rest, maxPriorityFeePerGas: a < b ? a : b, maxFeePerGas: a < b ? b : a }));
const keyArb = fc.bigInt({ min: 1n, max: SECP256K1_N - 1n }).map((d) => bigintToBytes(d, 32));

function toViem(tx: Eip1559Transaction) {
  return {
    type: 'eip1559' as const,
    chainId: Number(tx.chainId),
    nonce: Number(tx.nonce),
    maxPriorityFeePerGas: tx.maxPriorityFeePerGas,
    maxFeePerGas: tx.maxFeePerGas,
    gas: tx.gasLimit,
    to: getAddress(hex0x(tx.to)),
    value: tx.value,
    data: tx.data.length === 0 ? undefined : hex0x(tx.data),
    accessList: tx.accessList.map((e) => ({ address: getAddress(hex0x(e.address)), storageKeys: e.storageKeys.map(hex0x) })),
  };
}

describe('C-5.5.4.3-b EIP-1559 interoperability with viem', () => {
  it('viem parses our signed bytes to the same fields and recovers the same sender', async () => {
    await fc.assert(
      fc.asyncProperty(txArb, keyArb, async (tx, secretKey) => {
        const signed = signEip1559Transaction(tx, secretKey);
        const raw = hex0x(signed.raw);
        const parsed = parseTransaction(raw);
        expect(parsed.type).toBe('eip1559');
        expect(parsed.chainId).toBe(Number(tx.chainId));
        expect(BigInt(parsed.nonce ?? 0)).toBe(tx.nonce);
        expect(parsed.to?.toLowerCase()).toBe(hex0x(tx.to));
        expect(parsed.value ?? 0n).toBe(tx.value);
        expect(parsed.maxFeePerGas ?? 0n).toBe(tx.maxFeePerGas);
        expect(parsed.maxPriorityFeePerGas ?? 0n).toBe(tx.maxPriorityFeePerGas);
        expect(parsed.gas ?? 0n).toBe(tx.gasLimit);
        expect(parsed.data ?? '0x').toBe(hex0x(tx.data));
        expect(parsed.r).toBe(toHex(signed.signature.r, { size: 32 }));
        expect(parsed.s).toBe(toHex(signed.signature.s, { size: 32 }));
        expect(parsed.yParity).toBe(signed.signature.recovery);
        const sender = await recoverTransactionAddress({ serializedTransaction: raw as SerializedTx });
        expect(sender).toBe(toChecksumAddress(signed.from));
        expect(sender).toBe(privateKeyToAccount(hex0x(secretKey)).address);
      }),
      { numRuns: 30 },
    );
  });

  it("viem serialises the same unsigned payload, and its signer produces our bytes exactly", async () => {
    await fc.assert(
      fc.asyncProperty(txArb, keyArb, async (tx, secretKey) => {
        const viemTx = toViem(tx);
        const unsigned = serializeTransaction(viemTx);
        expect(unsigned).toBe(hex0x(eip1559UnsignedPayload(tx)));
        expect(viemKeccak256(unsigned)).toBe(hex0x(eip1559SigningHash(tx)));
        const viemSigned = await privateKeyToAccount(hex0x(secretKey)).signTransaction(viemTx);
        expect(viemSigned).toBe(hex0x(signEip1559Transaction(tx, secretKey).raw));
      }),
      { numRuns: 30 },
    );
  });

  it('viem parses our legacy EIP-155 transaction with its chain id and sender', async () => {
    const secretKey = bigintToBytes(0x4646464646464646464646464646464646464646464646464646464646464646n, 32);
    const signed = signLegacyTransaction(
      { nonce: 9n, gasPrice: 20n * 10n ** 9n, gasLimit: 21000n, to: new Uint8Array(20).fill(0x35), value: 10n ** 18n, data: new Uint8Array(0), chainId: 1n },
      secretKey,
    );
    const parsed = parseTransaction(hex0x(signed.raw));
    expect(parsed.type).toBe('legacy');
    expect(parsed.chainId).toBe(1);
    expect(parsed.v).toBe(37n);
    expect(await recoverTransactionAddress({ serializedTransaction: hex0x(signed.raw) as SerializedTx })).toBe(
      toChecksumAddress(publicKeyToAddress(getPublicKey(secretKey))),
    );
  });

  it('BIP-39/32/44 Ethereum addresses agree with viem for the first indices of a mnemonic', () => {
    const mnemonic = 'abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon about';
    const master = masterFromSeed(mnemonicToSeed(mnemonic));
    for (const index of [0, 1, 2, 19]) {
      const ours = toChecksumAddress(publicKeyToAddress(deriveNode(master, bip44EvmPath(index)).publicKey));
      expect(ours).toBe(mnemonicToAccount(mnemonic, { addressIndex: index }).address);
    }
  });
});
