// Postgres adapters of the signer's stores (the DataSource's search_path selects the
// service schema). Events go to the outbox in the same transaction as the state change.
import { randomUUID } from 'node:crypto';
import { INBOX_TABLE, enqueue } from '@custody/event-bus';
import type { DataSource, EntityManager } from 'typeorm';
import type { EventContext, KeyActionRecord, KeyAdminStore, KeyStore, LockedResult, RefusedOutcome, ReserveResult, SigningStore, TransitionRecord } from '../../application/ports.js';
import { SignerError } from '../../domain/errors.js';
import type { CustodyKind, KeyAlgorithm, KeyPurpose, KeyRecord, KeyState, KeyTier } from '../../domain/key.js';
import { keyLifecycleEntry, txRefusedEntry, txSignedEntry, type TopicNamer } from '../events.js';
import type { SealedBlob, SealedBlobStore } from '../custody/local-sealed.js';

interface KeyRow {
  key_id: string;
  wallet_id: string;
  chain: string;
  algorithm: string;
  purpose: string;
  tier: string;
  custody: string;
  custody_ref: string;
  public_key: Buffer;
  address: string;
  state: string;
  active_until: Date | null;
  signatures_left: number | null;
  updated_at: Date;
}

const KEY_COLUMNS = `"key_id", "wallet_id", "chain", "algorithm", "purpose", "tier", "custody", "custody_ref", "public_key", "address", "state", "active_until", "signatures_left", "updated_at"`;

function toKey(r: KeyRow): KeyRecord {
  return {
    keyId: r.key_id,
    walletId: r.wallet_id,
    chain: r.chain,
    algorithm: r.algorithm as KeyAlgorithm,
    purpose: r.purpose as KeyPurpose,
    tier: r.tier as KeyTier,
    custody: r.custody as CustodyKind,
    custodyRef: r.custody_ref,
    publicKey: new Uint8Array(r.public_key),
    address: r.address,
    state: r.state as KeyState,
    activeUntil: r.active_until ?? undefined,
    signaturesLeft: r.signatures_left ?? undefined,
    updatedAt: r.updated_at,
  };
}

/** TypeORM returns [rows, affected] for UPDATE … RETURNING on Postgres, plain rows for SELECT/INSERT. */
function rowsOf(result: unknown): unknown[] {
  if (Array.isArray(result) && result.length === 2 && Array.isArray(result[0]) && typeof result[1] === 'number') return result[0] as unknown[];
  return Array.isArray(result) ? result : [];
}

const INBOX_GROUP_DEFAULT = 'signer.tx-prepared';

async function insertInbox(m: EntityManager, groupId: string, eventId: string): Promise<boolean> {
  const rows = (await m.query(`INSERT INTO "${INBOX_TABLE}" ("consumer_group", "event_id") VALUES ($1, $2) ON CONFLICT DO NOTHING RETURNING "event_id"`, [groupId, eventId])) as unknown[];
  return rows.length > 0;
}

async function updateKeyRow(m: EntityManager, key: KeyRecord): Promise<void> {
  await m.query(`UPDATE "signer_key" SET "state" = $2, "active_until" = $3, "signatures_left" = $4, "updated_at" = $5 WHERE "key_id" = $1`, [
    key.keyId,
    key.state,
    key.activeUntil ?? null,
    key.signaturesLeft ?? null,
    key.updatedAt,
  ]);
}

async function insertTransition(m: EntityManager, record: TransitionRecord): Promise<void> {
  const e = record.event;
  await m.query(
    `INSERT INTO "key_transition" ("id", "key_id", "transition", "from_state", "to_state", "actor", "reason", "request_id", "quorum_operators", "at")
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)`,
    [randomUUID(), e.keyId, e.transition, e.from ?? null, e.to, e.actor, e.reason, record.requestId ?? null, (record.quorum?.approvals ?? []).map((a) => a.operatorId), e.at],
  );
}

export class PostgresSigningStore implements SigningStore {
  constructor(
    private readonly dataSource: DataSource,
    private readonly topicName: TopicNamer,
    private readonly groupId: string = INBOX_GROUP_DEFAULT,
  ) {}

  async recordRefusal(ctx: EventContext, outcome: RefusedOutcome): Promise<'recorded' | 'duplicate'> {
    return this.dataSource.transaction(async (m) => {
      if (!(await insertInbox(m, this.groupId, ctx.eventId))) return 'duplicate';
      await enqueue(m, [txRefusedEntry(outcome, { correlationId: ctx.correlationId, causationId: ctx.eventId }, this.topicName)]);
      return 'recorded';
    });
  }

  async reserveDecision(r: { decisionId: string; withdrawalId: string; eventId: string; walletId: string; at: Date }): Promise<ReserveResult> {
    // Its own transaction, committed on return: the row exists before any signature does.
    const inserted = (await this.dataSource.query(
      `INSERT INTO "signed_decision" ("decision_id", "withdrawal_id", "event_id", "key_id", "status", "tx_hash", "reason_code", "created_at", "updated_at")
       VALUES ($1, $2, $3, '', 'reserved', '', '', $4, $4) ON CONFLICT ("decision_id") DO NOTHING RETURNING "decision_id"`,
      [r.decisionId, r.withdrawalId, r.eventId, r.at],
    )) as unknown[];
    if (inserted.length > 0) return { status: 'reserved' };
    const [row] = (await this.dataSource.query(`SELECT "event_id", "status" FROM "signed_decision" WHERE "decision_id" = $1`, [r.decisionId])) as { event_id: string; status: string }[];
    return { status: 'taken', byEventId: row?.event_id ?? '', state: row?.status ?? 'unknown' };
  }

  async signUnderLock(ctx: EventContext, walletId: string, decisionId: string, work: (key: KeyRecord | undefined) => Promise<LockedResult>): Promise<'done' | 'duplicate'> {
    return this.dataSource.transaction(async (m) => {
      if (!(await insertInbox(m, this.groupId, ctx.eventId))) return 'duplicate';
      const rows = (await m.query(`SELECT ${KEY_COLUMNS} FROM "signer_key" WHERE "wallet_id" = $1 FOR UPDATE`, [walletId])) as KeyRow[];
      const key = rows[0] ? toKey(rows[0]) : undefined;
      const result = await work(key);
      const o = result.outcome;
      const causal = { correlationId: ctx.correlationId, causationId: ctx.eventId };
      // The decision row must move from 'reserved' in this very transaction, or nothing leaves.
      const moved = (o.kind === 'signed'
        ? await m.query(`UPDATE "signed_decision" SET "status" = 'signed', "key_id" = $2, "tx_hash" = $3, "updated_at" = $4, "signed_payload" = $5 WHERE "decision_id" = $1 AND "status" = 'reserved' RETURNING "decision_id"`, [decisionId, o.keyId, o.txHash, o.at, o.signedPayload ? Buffer.from(o.signedPayload) : null])
        : await m.query(`UPDATE "signed_decision" SET "status" = 'refused', "key_id" = $2, "reason_code" = $3, "updated_at" = $4 WHERE "decision_id" = $1 AND "status" = 'reserved' RETURNING "decision_id"`, [decisionId, key?.keyId ?? '', o.refusal.code, o.at])) as unknown[];
      if (rowsOf(moved).length === 0) throw new Error(`decision ${decisionId} is not reserved: refusing to release an outcome`);
      if (result.key) await updateKeyRow(m, result.key);
      const entries = [o.kind === 'signed' ? txSignedEntry(o, causal, this.topicName) : txRefusedEntry(o, causal, this.topicName)];
      for (const event of result.transitions) {
        await insertTransition(m, { event, requestId: undefined });
        if (result.key) entries.push(keyLifecycleEntry(result.key, event, undefined, causal, this.topicName));
      }
      await enqueue(m, entries);
      return 'done';
    });
  }

  async bumpUnderLock(ctx: EventContext, walletId: string, decisionId: string, work: (key: KeyRecord | undefined, signedPayload: Uint8Array | undefined) => Promise<LockedResult>): Promise<'done' | 'duplicate'> {
    return this.dataSource.transaction(async (m) => {
      if (!(await insertInbox(m, this.groupId, ctx.eventId))) return 'duplicate';
      // Same lock order as signUnderLock (key row first), then the decision row: two bumps of
      // one decision are serialised and each is checked against the payload signed last.
      const rows = (await m.query(`SELECT ${KEY_COLUMNS} FROM "signer_key" WHERE "wallet_id" = $1 FOR UPDATE`, [walletId])) as KeyRow[];
      const key = rows[0] ? toKey(rows[0]) : undefined;
      const [decision] = (await m.query(`SELECT "signed_payload" FROM "signed_decision" WHERE "decision_id" = $1 AND "status" = 'signed' FOR UPDATE`, [decisionId])) as { signed_payload: Buffer | null }[];
      const result = await work(key, decision?.signed_payload ? new Uint8Array(decision.signed_payload) : undefined);
      const o = result.outcome;
      const causal = { correlationId: ctx.correlationId, causationId: ctx.eventId };
      if (o.kind === 'signed') {
        if (!o.signedPayload) throw new Error(`decision ${decisionId}: a fee bump must record its payload`);
        const moved = (await m.query(
          `UPDATE "signed_decision" SET "tx_hash" = $2, "signed_payload" = $3, "fee_bumps" = "fee_bumps" + 1, "updated_at" = $4 WHERE "decision_id" = $1 AND "status" = 'signed' RETURNING "decision_id"`,
          [decisionId, o.txHash, Buffer.from(o.signedPayload), o.at],
        )) as unknown[];
        if (rowsOf(moved).length === 0) throw new Error(`decision ${decisionId} is not signed: refusing to release a bump`);
      }
      if (result.key) await updateKeyRow(m, result.key);
      const entries = [o.kind === 'signed' ? txSignedEntry(o, causal, this.topicName) : txRefusedEntry(o, causal, this.topicName)];
      for (const event of result.transitions) {
        await insertTransition(m, { event, requestId: undefined });
        if (result.key) entries.push(keyLifecycleEntry(result.key, event, undefined, causal, this.topicName));
      }
      await enqueue(m, entries);
      return 'done';
    });
  }
}

export class PostgresKeyStore implements KeyStore, KeyAdminStore {
  constructor(
    private readonly dataSource: DataSource,
    private readonly topicName: TopicNamer,
  ) {}

  async insertKey(key: KeyRecord, transitions: readonly TransitionRecord[]): Promise<void> {
    try {
      await this.insertKeyRows(key, transitions);
    } catch (error) {
      // A concurrent generation won the race (the unique keys decide): the same precise refusals as the pre-check.
      const e = error as { code?: string; constraint?: string; driverError?: { constraint?: string } };
      const constraint = e.constraint ?? e.driverError?.constraint;
      if (e.code === '23505' && constraint === 'signer_key_wallet') throw new SignerError('KEY_EXISTS_FOR_WALLET', `wallet ${key.walletId} already has a key (one key per wallet: rotation is a new wallet and a sweep)`, { cause: error });
      if (e.code === '23505' && constraint === 'PK_signer_key') throw new SignerError('KEY_ID_EXISTS', `key id ${key.keyId} is already taken`, { cause: error });
      throw error;
    }
  }

  private async insertKeyRows(key: KeyRecord, transitions: readonly TransitionRecord[]): Promise<void> {
    await this.dataSource.transaction(async (m) => {
      await m.query(
        `INSERT INTO "signer_key" (${KEY_COLUMNS}, "created_at") VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $14)`,
        [key.keyId, key.walletId, key.chain, key.algorithm, key.purpose, key.tier, key.custody, key.custodyRef, Buffer.from(key.publicKey), key.address, key.state, key.activeUntil ?? null, key.signaturesLeft ?? null, key.updatedAt],
      );
      const entries = [];
      for (const t of transitions) {
        await insertTransition(m, t);
        entries.push(keyLifecycleEntry(key, t.event, t.quorum, { correlationId: t.requestId ?? key.keyId }, this.topicName));
      }
      await enqueue(m, entries);
    });
  }

  async getKey(keyId: string): Promise<KeyRecord | undefined> {
    const rows = (await this.dataSource.query(`SELECT ${KEY_COLUMNS} FROM "signer_key" WHERE "key_id" = $1`, [keyId])) as KeyRow[];
    return rows[0] ? toKey(rows[0]) : undefined;
  }

  async transition(keyId: string, change: (key: KeyRecord) => { key: KeyRecord; record: TransitionRecord }): Promise<KeyRecord> {
    try {
      return await this.dataSource.transaction(async (m) => {
        const rows = (await m.query(`SELECT ${KEY_COLUMNS} FROM "signer_key" WHERE "key_id" = $1 FOR UPDATE`, [keyId])) as KeyRow[];
        if (!rows[0]) throw new SignerError('KEY_NOT_FOUND', `no key ${keyId} in the inventory`);
        const { key, record } = change(toKey(rows[0]));
        await updateKeyRow(m, key);
        await insertTransition(m, record);
        await enqueue(m, [keyLifecycleEntry(key, record.event, record.quorum, { correlationId: record.requestId ?? keyId }, this.topicName)]);
        return key;
      });
    } catch (error) {
      if ((error as { code?: string }).code === '23505') throw new SignerError('INVALID_TRANSITION', 'this admin request was already applied (request id reused)', { cause: error });
      throw error;
    }
  }

  async listKeys(filter: { readonly walletId?: string; readonly chain?: string }): Promise<KeyRecord[]> {
    const rows = (await this.dataSource.query(
      `SELECT ${KEY_COLUMNS} FROM "signer_key" WHERE ($1::text IS NULL OR "wallet_id" = $1) AND ($2::text IS NULL OR "chain" = $2) ORDER BY "key_id"`,
      [filter.walletId ?? null, filter.chain ?? null],
    )) as KeyRow[];
    return rows.map(toKey);
  }

  async recordKeyAction(record: KeyActionRecord, change: (key: KeyRecord) => KeyRecord): Promise<KeyRecord> {
    try {
      return await this.dataSource.transaction(async (m) => {
        const rows = (await m.query(`SELECT ${KEY_COLUMNS} FROM "signer_key" WHERE "key_id" = $1 FOR UPDATE`, [record.keyId])) as KeyRow[];
        if (!rows[0]) throw new SignerError('KEY_NOT_FOUND', `no key ${record.keyId} in the inventory`);
        const key = change(toKey(rows[0]));
        await m.query(`UPDATE "signer_key" SET "custody" = $2, "custody_ref" = $3, "updated_at" = $4 WHERE "key_id" = $1`, [key.keyId, key.custody, key.custodyRef, key.updatedAt]);
        await m.query(
          `INSERT INTO "key_transition" ("id", "key_id", "transition", "from_state", "to_state", "actor", "reason", "request_id", "quorum_operators", "at")
           VALUES ($1, $2, $3, $4, $4, $5, $6, $7, $8, $9)`,
          [randomUUID(), key.keyId, record.action, key.state, record.actor, record.reason, record.requestId, record.quorum.approvals.map((a) => a.operatorId), record.at],
        );
        return key;
      });
    } catch (error) {
      if ((error as { code?: string }).code === '23505') throw new SignerError('INVALID_TRANSITION', 'this admin request was already applied (request id reused)', { cause: error });
      throw error;
    }
  }
}

export class PostgresSealedBlobStore implements SealedBlobStore {
  constructor(private readonly dataSource: DataSource) {}

  async put(blob: SealedBlob): Promise<void> {
    await this.dataSource.query(`INSERT INTO "sealed_key" ("ref", "algorithm", "kek_id", "nonce", "ciphertext", "created_at") VALUES ($1, $2, $3, $4, $5, now())`, [
      blob.ref,
      blob.algorithm,
      blob.kekId,
      Buffer.from(blob.nonce),
      Buffer.from(blob.ciphertext),
    ]);
  }

  async get(ref: string): Promise<SealedBlob | undefined> {
    const rows = (await this.dataSource.query(`SELECT "ref", "algorithm", "kek_id", "nonce", "ciphertext" FROM "sealed_key" WHERE "ref" = $1`, [ref])) as { ref: string; algorithm: string; kek_id: string; nonce: Buffer; ciphertext: Buffer }[];
    const r = rows[0];
    return r ? { ref: r.ref, algorithm: r.algorithm as KeyAlgorithm, kekId: r.kek_id, nonce: new Uint8Array(r.nonce), ciphertext: new Uint8Array(r.ciphertext) } : undefined;
  }

  async delete(ref: string): Promise<void> {
    await this.dataSource.query(`DELETE FROM "sealed_key" WHERE "ref" = $1`, [ref]);
  }
}
