// Walks the whole chain page by page through the store and reports the first broken record.
import { ChainVerifier, type VerificationReport } from '../domain/verify.js';
import type { AuditStore } from './ports.js';

export async function verifyChain(store: AuditStore, trustedKeys: ReadonlyMap<string, Uint8Array>, options: { pageSize?: number } = {}): Promise<VerificationReport> {
  const pageSize = options.pageSize ?? 1_000;
  // Checkpoints, then the head: every checkpoint read is then at or below the head read
  // (the head only moves forward), and records appended during the walk lie beyond the head
  // and are left for the next run.
  const checkpoints = await store.checkpoints();
  const head = await store.head();
  const verifier = new ChainVerifier(checkpoints, trustedKeys);
  let after = 0n;
  for (;;) {
    const page = (await store.scan(after, pageSize)).filter((r) => r.sequence <= head.sequence);
    for (const record of page) if (!verifier.next(record)) return verifier.finish();
    if (page.length < pageSize) break;
    after = page[page.length - 1]?.sequence ?? after;
  }
  return verifier.finish(head);
}
