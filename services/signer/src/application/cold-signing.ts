/**
 * Offline / cold signing (C-9.3.7.4-a): a batch of prepared transactions is exported to a
 * file, carried to an air-gapped signer that runs the SAME SignTransaction code with local
 * stores (no network: an in-memory anti-double-sign journal and a local sealed key store),
 * and the signed batch is imported back online, where every item is verified again exactly
 * as the online path verifies it (SignTransaction.importSigned) before tx.signed is emitted.
 *
 * Files are JSON; each prepared request is its protobuf encoding (base64), so nothing is
 * re-serialised on the way; the batch digest (SHA-256 over the item bytes) ties the signed
 * batch to the exported one.
 */
import { sha256 } from '@noble/hashes/sha2.js';
import { TxPrepared } from '@custody/contracts';
import { bytesToHex } from '../domain/crypto/bytes.js';
import { SignerError } from '../domain/errors.js';
import type { RefusalCode } from '../domain/refusal.js';
import type { SigningOutcome } from './ports.js';
import type { SignTransaction } from './sign-transaction.js';

export const COLD_BATCH_FORMAT = 'custody.cold-batch.v1';
export const SIGNED_COLD_BATCH_FORMAT = 'custody.cold-batch-signed.v1';

export interface ColdBatch {
  readonly format: typeof COLD_BATCH_FORMAT;
  readonly batchId: string;
  readonly createdAt: string;
  /** base64 of TxPrepared.encode(...) */
  readonly items: readonly string[];
  readonly digest: string;
}

export type ColdResult =
  | { readonly decisionId: string; readonly kind: 'signed'; readonly signedTx: string; readonly txHash: string; readonly keyId: string }
  | { readonly decisionId: string; readonly kind: 'refused'; readonly code: RefusalCode; readonly detail: string };

export interface SignedColdBatch {
  readonly format: typeof SIGNED_COLD_BATCH_FORMAT;
  readonly batchId: string;
  readonly batchDigest: string;
  readonly results: readonly ColdResult[];
}

function digestOf(items: readonly string[]): string {
  const h = sha256.create();
  for (const item of items) h.update(Buffer.from(item, 'base64'));
  return bytesToHex(h.digest());
}

export function exportColdBatch(batchId: string, requests: readonly TxPrepared[], now: Date): ColdBatch {
  const items = requests.map((r) => Buffer.from(TxPrepared.encode(r).finish()).toString('base64'));
  return { format: COLD_BATCH_FORMAT, batchId, createdAt: now.toISOString(), items, digest: digestOf(items) };
}

function readBatch(batch: ColdBatch): TxPrepared[] {
  if (batch.format !== COLD_BATCH_FORMAT || !Array.isArray(batch.items)) throw new SignerError('BACKUP_INVALID', 'not a cold batch file');
  if (digestOf(batch.items) !== batch.digest) throw new SignerError('BACKUP_INVALID', 'cold batch digest mismatch (file altered)');
  return batch.items.map((item) => TxPrepared.decode(Buffer.from(item, 'base64')));
}

/** Air-gapped side: verify and sign each item with the offline SignTransaction; outcomes come from its store. */
export async function signColdBatch(batch: ColdBatch, offline: { useCase: SignTransaction; outcomes: () => readonly SigningOutcome[] }): Promise<SignedColdBatch> {
  const requests = readBatch(batch);
  const results: ColdResult[] = [];
  for (const [index, request] of requests.entries()) {
    const before = offline.outcomes().length;
    await offline.useCase.handle(request, { eventId: `${batch.batchId}:${index}`, correlationId: batch.batchId });
    const outcome = offline.outcomes().slice(before).find((o) => o.decisionId === request.decisionId);
    if (!outcome) throw new SignerError('KEY_CUSTODY_FAILED', `no outcome for item ${index}`);
    results.push(
      outcome.kind === 'signed'
        ? { decisionId: outcome.decisionId, kind: 'signed', signedTx: Buffer.from(outcome.signedTx).toString('base64'), txHash: outcome.txHash, keyId: outcome.keyId }
        : { decisionId: outcome.decisionId, kind: 'refused', code: outcome.refusal.code, detail: outcome.refusal.detail },
    );
  }
  return { format: SIGNED_COLD_BATCH_FORMAT, batchId: batch.batchId, batchDigest: batch.digest, results };
}

/** Online side: every signed item is verified again (importSigned) before tx.signed is emitted. */
export async function importSignedColdBatch(batch: ColdBatch, signed: SignedColdBatch, online: SignTransaction): Promise<Array<{ decisionId: string; result: 'signed' | 'refused' | 'duplicate' | 'refused-offline' }>> {
  const requests = readBatch(batch);
  if (signed.format !== SIGNED_COLD_BATCH_FORMAT || signed.batchId !== batch.batchId || signed.batchDigest !== batch.digest) {
    throw new SignerError('BACKUP_INVALID', 'the signed batch does not belong to this exported batch');
  }
  const byDecision = new Map(requests.map((r) => [r.decisionId, r]));
  const out: Array<{ decisionId: string; result: 'signed' | 'refused' | 'duplicate' | 'refused-offline' }> = [];
  for (const [index, r] of signed.results.entries()) {
    const request = byDecision.get(r.decisionId);
    if (!request) throw new SignerError('BACKUP_INVALID', `signed item ${index} names a decision that was not exported`);
    if (r.kind === 'refused') {
      out.push({ decisionId: r.decisionId, result: 'refused-offline' });
      continue;
    }
    const signedTx = new Uint8Array(Buffer.from(r.signedTx, 'base64'));
    // The inbox key names the signed bytes: re-importing the same result is a duplicate, but a
    // forged result refused earlier does not block the genuine one for the same decision.
    const eventId = `${batch.batchId}:import:${r.decisionId}:${bytesToHex(sha256(signedTx)).slice(0, 32)}`;
    const result = await online.importSigned(request, signedTx, { eventId, correlationId: batch.batchId });
    out.push({ decisionId: r.decisionId, result });
  }
  return out;
}
