// In-memory SigningStore + KeyStore with the same semantics as the Postgres ones: the
// offline (air-gapped) signer's stores — its anti-double-sign journal lives with the device
// (export it with `snapshot()` after a session) — and the unit tier's.
import type { EventContext, KeyStore, LockedResult, RefusedOutcome, ReserveResult, SigningOutcome, SigningStore, TransitionRecord } from '../../application/ports.js';
import type { KeyRecord } from '../../domain/key.js';
import { SignerError } from '../../domain/errors.js';

export class MemoryStores implements SigningStore, KeyStore {
  readonly inbox = new Set<string>();
  readonly decisions = new Map<string, { eventId: string; status: string; reasonCode: string; txHash?: string; signedPayload?: Uint8Array; bumps?: number }>();
  readonly keys = new Map<string, KeyRecord>();
  readonly outcomes: SigningOutcome[] = [];
  readonly transitions: TransitionRecord[] = [];
  readonly requestIds = new Set<string>();
  #chain: Promise<unknown> = Promise.resolve();

  async recordRefusal(ctx: EventContext, outcome: RefusedOutcome): Promise<'recorded' | 'duplicate'> {
    if (this.inbox.has(ctx.eventId)) return 'duplicate';
    this.inbox.add(ctx.eventId);
    this.outcomes.push(outcome);
    return 'recorded';
  }

  async reserveDecision(r: { decisionId: string; eventId: string }): Promise<ReserveResult> {
    const existing = this.decisions.get(r.decisionId);
    if (existing) return { status: 'taken', byEventId: existing.eventId, state: existing.status };
    this.decisions.set(r.decisionId, { eventId: r.eventId, status: 'reserved', reasonCode: '' });
    return { status: 'reserved' };
  }

  async signUnderLock(ctx: EventContext, walletId: string, decisionId: string, work: (key: KeyRecord | undefined) => Promise<LockedResult>): Promise<'done' | 'duplicate'> {
    const run = async (): Promise<'done' | 'duplicate'> => {
      if (this.inbox.has(ctx.eventId)) return 'duplicate';
      const key = [...this.keys.values()].find((k) => k.walletId === walletId);
      const result = await work(key);
      this.inbox.add(ctx.eventId);
      const d = this.decisions.get(decisionId);
      const o = result.outcome;
      if (d) this.decisions.set(decisionId, { ...d, status: o.kind, reasonCode: o.kind === 'refused' ? o.refusal.code : '', ...(o.kind === 'signed' ? { txHash: o.txHash, ...(o.signedPayload ? { signedPayload: o.signedPayload } : {}) } : {}) });
      if (result.key) this.keys.set(result.key.keyId, result.key);
      for (const event of result.transitions) this.transitions.push({ event, requestId: undefined });
      this.outcomes.push(result.outcome);
      return 'done';
    };
    const next = this.#chain.then(run, run);
    this.#chain = next.catch(() => undefined);
    return next;
  }

  async bumpUnderLock(ctx: EventContext, walletId: string, decisionId: string, work: (key: KeyRecord | undefined, signedPayload: Uint8Array | undefined) => Promise<LockedResult>): Promise<'done' | 'duplicate'> {
    const run = async (): Promise<'done' | 'duplicate'> => {
      if (this.inbox.has(ctx.eventId)) return 'duplicate';
      const key = [...this.keys.values()].find((k) => k.walletId === walletId);
      const d = this.decisions.get(decisionId);
      const result = await work(key, d?.status === 'signed' ? d.signedPayload : undefined);
      this.inbox.add(ctx.eventId);
      const o = result.outcome;
      if (o.kind === 'signed') {
        if (!d || d.status !== 'signed' || !o.signedPayload) throw new Error(`decision ${decisionId} is not signed: refusing to release a bump`);
        this.decisions.set(decisionId, { ...d, txHash: o.txHash, signedPayload: o.signedPayload, bumps: (d.bumps ?? 0) + 1 });
      }
      if (result.key) this.keys.set(result.key.keyId, result.key);
      for (const event of result.transitions) this.transitions.push({ event, requestId: undefined });
      this.outcomes.push(o);
      return 'done';
    };
    const next = this.#chain.then(run, run);
    this.#chain = next.catch(() => undefined);
    return next;
  }

  async insertKey(key: KeyRecord, transitions: readonly TransitionRecord[]): Promise<void> {
    if (this.keys.has(key.keyId)) throw new Error('duplicate key');
    this.keys.set(key.keyId, key);
    this.transitions.push(...transitions);
  }

  async getKey(keyId: string): Promise<KeyRecord | undefined> {
    return this.keys.get(keyId);
  }

  /** The single-use journal, to persist on the offline device between sessions. */
  snapshot(): Array<{ decisionId: string; status: string }> {
    return [...this.decisions.entries()].map(([decisionId, d]) => ({ decisionId, status: d.status }));
  }

  async transition(keyId: string, change: (key: KeyRecord) => { key: KeyRecord; record: TransitionRecord }): Promise<KeyRecord> {
    const key = this.keys.get(keyId);
    if (!key) throw new SignerError('KEY_NOT_FOUND', `no key ${keyId}`);
    const { key: after, record } = change(key);
    if (record.requestId && this.requestIds.has(record.requestId)) throw new SignerError('INVALID_TRANSITION', 'request id reused');
    if (record.requestId) this.requestIds.add(record.requestId);
    this.keys.set(keyId, after);
    this.transitions.push(record);
    return after;
  }
}
