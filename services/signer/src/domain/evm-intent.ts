/**
 * "What is signed is what was approved" for EVM (C-8.2.2.5-a (2), C-5.5.4.3-b): the signer
 * decodes the unsigned type-2 transaction with the kernel's strict decoder and compares it
 * field by field with the approved intent. Pure; returns a refusal or the decoded tx.
 */
import { decodeEip1559Transaction, eip1559UnsignedPayload, parseAddress, type Eip1559Transaction } from './crypto/evm.js';
import { equalBytes } from './crypto/bytes.js';
import { SignerInputError } from './crypto/errors.js';
import { refusal, type Refusal } from './refusal.js';

export interface EvmIntent {
  /** The chain id of the approved asset's chain (from the signer's own asset profile). */
  readonly chainId: bigint;
  /** Approved destination (0x-address as in the decision token). */
  readonly destination: string;
  /** Approved amount in wei. */
  readonly amount: bigint;
  /** Fee cap in wei: min(asset profile cap, the request's fee cap). */
  readonly feeCap: bigint;
  /** Nonce the request declares. */
  readonly nonce: bigint;
}

export function checkEvmTransaction(unsigned: Uint8Array, intent: EvmIntent): { ok: true; tx: Eip1559Transaction } | { ok: false; refusal: Refusal } {
  let tx: Eip1559Transaction;
  try {
    const decoded = decodeEip1559Transaction(unsigned);
    if (decoded.signed) return { ok: false, refusal: refusal('TX_MALFORMED', 'the transaction is already signed') };
    tx = decoded.tx;
    // Strict decoding is canonical; re-encoding must give back exactly the bytes we sign.
    if (!equalBytes(eip1559UnsignedPayload(tx), unsigned)) return { ok: false, refusal: refusal('TX_MALFORMED', 'the transaction is not in canonical form') };
  } catch (error) {
    if (error instanceof SignerInputError) {
      if (error.code === 'MISSING_CHAIN_ID') return { ok: false, refusal: refusal('TX_CHAIN_ID_MISMATCH', 'the transaction has no chain id (EIP-155 replay protection)') };
      return { ok: false, refusal: refusal('TX_MALFORMED', `unsigned transaction: ${error.code} at ${error.field}`) };
    }
    throw error;
  }
  let destination: Uint8Array;
  try {
    destination = parseAddress(intent.destination);
  } catch {
    return { ok: false, refusal: refusal('TX_DESTINATION_MISMATCH', 'the approved destination is not an EVM address') };
  }
  if (tx.chainId !== intent.chainId) return { ok: false, refusal: refusal('TX_CHAIN_ID_MISMATCH', `transaction chain id ${tx.chainId} is not the approved asset's chain id ${intent.chainId}`) };
  if (!equalBytes(tx.to, destination)) return { ok: false, refusal: refusal('TX_DESTINATION_MISMATCH', 'transaction recipient differs from the approved destination') };
  if (tx.value !== intent.amount) return { ok: false, refusal: refusal('TX_AMOUNT_MISMATCH', `transaction value ${tx.value} differs from the approved amount ${intent.amount}`) };
  if (tx.data.length > 0) return { ok: false, refusal: refusal('TX_DATA_NOT_ALLOWED', 'transaction carries call data; only plain transfers are signed') };
  if (tx.accessList.length > 0) return { ok: false, refusal: refusal('TX_DATA_NOT_ALLOWED', 'transaction carries an access list') };
  if (tx.nonce !== intent.nonce) return { ok: false, refusal: refusal('TX_NONCE_MISMATCH', `transaction nonce ${tx.nonce} differs from the declared nonce ${intent.nonce}`) };
  const maxFee = tx.maxFeePerGas * tx.gasLimit;
  if (maxFee > intent.feeCap) return { ok: false, refusal: refusal('TX_FEE_ABOVE_CAP', `maximum fee ${maxFee} exceeds the cap ${intent.feeCap}`) };
  return { ok: true, tx };
}
