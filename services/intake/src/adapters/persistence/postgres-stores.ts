// Postgres implementations of intake's ports (raw SQL through TypeORM's DataSource; the
// search_path selects the service schema). Events go to the outbox in the same
// transaction as the state change they describe.
import { randomUUID } from 'node:crypto';
import { enqueue } from '@custody/event-bus';
import type { DataSource, EntityManager } from 'typeorm';
import type { Integrator, Scope } from '../../domain/integrator.js';
import type { MaintenanceWindow } from '../../domain/maintenance.js';
import type { Withdrawal } from '../../domain/withdrawal.js';
import { isWithdrawalState, type WithdrawalStateName } from '../../domain/withdrawal-state.js';
import { ConflictError, PreconditionError } from '../../domain/errors.js';
import type {
  AdminRecord,
  CreateOutcome,
  IntegratorAdminStore,
  IntegratorDirectory,
  ListFilter,
  MaintenanceNoticeQuery,
  MaintenanceStore,
  NewIntegrator,
  NonceStore,
  ParkedPipelineEvent,
  PendingPipelineEvents,
  StateChange,
  Tx,
  WithdrawalStore,
} from '../../application/ports.js';
import { integratorChangedEntry, maintenanceScheduledEntry, withdrawalRequestedEntry, withdrawalStatusEntry, type TopicNamer } from '../events.js';

export type { NewIntegrator } from '../../application/ports.js';

interface WithdrawalRow {
  id: string;
  client_id: string;
  customer_account: string;
  asset: string;
  chain: string;
  amount: string;
  destination_address: string;
  destination_tag: string;
  client_reference: string;
  idempotency_key: string;
  request_hash: Buffer;
  state: string;
  reason_code: string;
  reason_detail: string;
  tx_hash: string;
  confirmations: number;
  signature_key_id: string;
  signature_algorithm: string;
  signature: Buffer;
  signed_payload: Buffer;
  created_at: Date;
  updated_at: Date;
}

function toWithdrawal(r: WithdrawalRow): Withdrawal {
  if (!isWithdrawalState(r.state)) throw new Error(`withdrawal ${r.id} has unknown state ${r.state}`);
  return Object.freeze({
    id: r.id,
    clientId: r.client_id,
    customerAccount: r.customer_account,
    asset: r.asset,
    chain: r.chain,
    amount: BigInt(r.amount),
    destinationAddress: r.destination_address,
    destinationTag: r.destination_tag,
    clientReference: r.client_reference,
    idempotencyKey: r.idempotency_key,
    requestHash: new Uint8Array(r.request_hash),
    state: r.state,
    reasonCode: r.reason_code,
    reasonDetail: r.reason_detail,
    txHash: r.tx_hash,
    confirmations: r.confirmations,
    evidence: { keyId: r.signature_key_id, algorithm: 'ed25519' as const, signature: new Uint8Array(r.signature), signedPayload: new Uint8Array(r.signed_payload) },
    createdAt: r.created_at,
    updatedAt: r.updated_at,
  });
}

const WITHDRAWAL_COLUMNS = `"id", "client_id", "customer_account", "asset", "chain", "amount"::text AS "amount", "destination_address",
  "destination_tag", "client_reference", "idempotency_key", "request_hash", "state", "reason_code", "reason_detail",
  "tx_hash", "confirmations", "signature_key_id", "signature_algorithm", "signature", "signed_payload", "created_at", "updated_at"`;

async function recordTransition(m: EntityManager, withdrawalId: string, from: string | null, to: string, reasonCode: string, at: Date, context: { correlationId: string; causationId?: string | undefined }): Promise<void> {
  await m.query(
    `INSERT INTO "withdrawal_transition" ("id", "withdrawal_id", "from_state", "to_state", "reason_code", "correlation_id", "causation_id", "at") VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`,
    [randomUUID(), withdrawalId, from, to, reasonCode, context.correlationId, context.causationId ?? null, at],
  );
}

export class PostgresWithdrawalStore implements WithdrawalStore {
  constructor(
    private readonly dataSource: DataSource,
    private readonly topicName: TopicNamer,
    private readonly clock: () => Date,
  ) {}

  async create(w: Withdrawal, correlationId: string): Promise<CreateOutcome> {
    const inserted = await this.dataSource.transaction(async (m) => {
      const rows = (await m.query(
        `INSERT INTO "withdrawal" ("id", "client_id", "customer_account", "asset", "chain", "amount", "destination_address",
           "destination_tag", "client_reference", "idempotency_key", "request_hash", "state", "reason_code", "reason_detail",
           "tx_hash", "confirmations", "signature_key_id", "signature_algorithm", "signature", "signed_payload", "created_at", "updated_at")
         VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$11,$12,$13,$14,$15,$16,$17,$18,$19,$20,$21,$22)
         ON CONFLICT ("client_id", "idempotency_key") DO NOTHING RETURNING "id"`,
        [
          w.id, w.clientId, w.customerAccount, w.asset, w.chain, w.amount.toString(), w.destinationAddress, w.destinationTag,
          w.clientReference, w.idempotencyKey, Buffer.from(w.requestHash), w.state, w.reasonCode, w.reasonDetail, w.txHash,
          w.confirmations, w.evidence.keyId, w.evidence.algorithm, Buffer.from(w.evidence.signature), Buffer.from(w.evidence.signedPayload),
          w.createdAt, w.updatedAt,
        ],
      )) as unknown[];
      if (rows.length === 0) return false;
      await recordTransition(m, w.id, null, w.state, '', w.createdAt, { correlationId });
      await enqueue(m, [withdrawalRequestedEntry(w, correlationId, this.topicName)]);
      return true;
    });
    if (inserted) return { created: true, withdrawal: w };
    const [existing] = (await this.dataSource.query(`SELECT ${WITHDRAWAL_COLUMNS} FROM "withdrawal" WHERE "client_id" = $1 AND "idempotency_key" = $2`, [
      w.clientId,
      w.idempotencyKey,
    ])) as WithdrawalRow[];
    if (!existing) throw new Error('idempotency conflict without an existing row');
    return { created: false, existing: toWithdrawal(existing) };
  }

  async get(clientId: string, id: string): Promise<Withdrawal | undefined> {
    const [row] = (await this.dataSource.query(`SELECT ${WITHDRAWAL_COLUMNS} FROM "withdrawal" WHERE "id" = $1 AND "client_id" = $2`, [id, clientId])) as WithdrawalRow[];
    return row ? toWithdrawal(row) : undefined;
  }

  async getById(id: string, tx?: Tx): Promise<Withdrawal | undefined> {
    const q = tx ? (tx as EntityManager) : this.dataSource;
    const [row] = (await q.query(`SELECT ${WITHDRAWAL_COLUMNS} FROM "withdrawal" WHERE "id" = $1`, [id])) as WithdrawalRow[];
    return row ? toWithdrawal(row) : undefined;
  }

  async list(f: ListFilter): Promise<readonly Withdrawal[]> {
    const where = [`"client_id" = $1`];
    const params: unknown[] = [f.clientId];
    const add = (sql: string, value: unknown): void => {
      params.push(value);
      where.push(sql.replace('?', `$${params.length}`));
    };
    if (f.customerAccount) add(`"customer_account" = ?`, f.customerAccount);
    if (f.states.length > 0) add(`"state" = ANY(?)`, [...f.states]);
    if (f.createdAfter) add(`"created_at" >= ?`, f.createdAfter);
    if (f.createdBefore) add(`"created_at" < ?`, f.createdBefore);
    if (f.after) {
      params.push(f.after.createdAt, f.after.id);
      where.push(`("created_at", "id") > ($${params.length - 1}, $${params.length})`);
    }
    params.push(f.limit);
    const rows = (await this.dataSource.query(
      `SELECT ${WITHDRAWAL_COLUMNS} FROM "withdrawal" WHERE ${where.join(' AND ')} ORDER BY "created_at", "id" LIMIT $${params.length}`,
      params,
    )) as WithdrawalRow[];
    return rows.map(toWithdrawal);
  }

  async transition(
    id: string,
    decide: (current: Withdrawal) => StateChange | undefined,
    context: { readonly correlationId: string; readonly causationId?: string },
    tx?: Tx,
  ): Promise<{ before: Withdrawal; after: Withdrawal } | undefined> {
    const run = async (m: EntityManager): Promise<{ before: Withdrawal; after: Withdrawal } | undefined> => {
      const [row] = (await m.query(`SELECT ${WITHDRAWAL_COLUMNS} FROM "withdrawal" WHERE "id" = $1 FOR UPDATE`, [id])) as WithdrawalRow[];
      if (!row) return undefined;
      const before = toWithdrawal(row);
      const change = decide(before);
      if (!change) return undefined;
      const now = this.clock();
      const updatedAt = now > before.updatedAt ? now : before.updatedAt;
      const after: Withdrawal = Object.freeze({
        ...before,
        state: change.to,
        reasonCode: change.reasonCode,
        reasonDetail: change.reasonDetail,
        txHash: change.txHash ?? before.txHash,
        confirmations: change.confirmations ?? before.confirmations,
        updatedAt,
      });
      await m.query(
        `UPDATE "withdrawal" SET "state" = $2, "reason_code" = $3, "reason_detail" = $4, "tx_hash" = $5, "confirmations" = $6, "updated_at" = $7 WHERE "id" = $1`,
        [id, after.state, after.reasonCode, after.reasonDetail, after.txHash, after.confirmations, after.updatedAt],
      );
      if (after.state !== before.state) await recordTransition(m, id, before.state, after.state, after.reasonCode, updatedAt, context);
      await enqueue(m, [withdrawalStatusEntry(before, after, context, this.topicName)]);
      return { before, after };
    };
    return tx ? run(tx as EntityManager) : this.dataSource.transaction(run);
  }
}

interface IntegratorRow {
  client_id: string;
  status: string;
  scopes: string[];
  allowed_assets: string[];
  ip_allowlist: string[];
  rate_per_second: number;
  burst: number;
}

/** Stores an operator action's evidence (same transaction as the change it describes). */
async function recordAdminAction(m: EntityManager, r: AdminRecord): Promise<void> {
  await m.query(
    `INSERT INTO "admin_action" ("id", "action", "target", "operator_id", "signature_key_id", "signature", "signed_payload", "certificate_sha256", "source_address", "reason", "correlation_id", "at")
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)`,
    [
      r.id, r.action, r.target, r.actor.operatorId, r.actor.evidence.keyId, Buffer.from(r.actor.evidence.signature), Buffer.from(r.actor.evidence.signedPayload),
      r.actor.certificateSha256, r.actor.sourceAddress ?? '', r.reason ?? '', r.correlationId, r.at,
    ],
  );
}

/**
 * Integrator registry on Postgres. The write methods serve the operator API (with an
 * AdminRecord: evidence + integrator.changed event in the same transaction) and bootstrap
 * calls on the startIntake handle (without one).
 */
export class PostgresIntegratorDirectory implements IntegratorDirectory, IntegratorAdminStore {
  constructor(
    private readonly dataSource: DataSource,
    private readonly topicName: TopicNamer = (t) => t,
  ) {}

  async list(): Promise<readonly Integrator[]> {
    const rows = (await this.dataSource.query(`SELECT * FROM "integrator" ORDER BY "client_id" LIMIT 1000`)) as IntegratorRow[];
    return Promise.all(rows.map((r) => this.load(r)));
  }

  async findByClientId(clientId: string): Promise<Integrator | undefined> {
    const [row] = (await this.dataSource.query(`SELECT * FROM "integrator" WHERE "client_id" = $1`, [clientId])) as IntegratorRow[];
    return row ? this.load(row) : undefined;
  }

  async findByCertificateFingerprint(fingerprint: string): Promise<Integrator | undefined> {
    const [row] = (await this.dataSource.query(
      `SELECT i.* FROM "integrator" i JOIN "integrator_certificate" c ON c."client_id" = i."client_id" WHERE c."fingerprint" = $1`,
      [fingerprint.toLowerCase()],
    )) as IntegratorRow[];
    return row ? this.load(row) : undefined;
  }

  async accountExists(clientId: string, customerAccount: string): Promise<boolean> {
    const rows = (await this.dataSource.query(`SELECT 1 FROM "customer_account" WHERE "client_id" = $1 AND "account_id" = $2`, [clientId, customerAccount])) as unknown[];
    return rows.length > 0;
  }

  private async load(row: IntegratorRow): Promise<Integrator> {
    const keys = (await this.dataSource.query(`SELECT "key_id", "public_key", "revoked", "expires_at", "created_at" FROM "integrator_key" WHERE "client_id" = $1 ORDER BY "created_at", "key_id"`, [row.client_id])) as {
      key_id: string;
      public_key: Buffer;
      revoked: boolean;
      expires_at: Date | null;
      created_at: Date;
    }[];
    const certs = (await this.dataSource.query(`SELECT "fingerprint" FROM "integrator_certificate" WHERE "client_id" = $1`, [row.client_id])) as { fingerprint: string }[];
    return Object.freeze({
      clientId: row.client_id,
      status: row.status === 'active' ? 'active' : 'revoked',
      scopes: row.scopes.filter((s): s is Scope => s === 'read' || s === 'withdraw' || s === 'deposit'),
      allowedAssets: row.allowed_assets,
      ipAllowlist: row.ip_allowlist,
      rateLimit: { ratePerSecond: row.rate_per_second, burst: row.burst },
      keys: keys.map((k) => ({ keyId: k.key_id, publicKey: new Uint8Array(k.public_key), revoked: k.revoked, expiresAt: k.expires_at ?? undefined, createdAt: k.created_at })),
      certificateFingerprints: certs.map((c) => c.fingerprint),
    });
  }

  async register(i: NewIntegrator, now: Date, record?: AdminRecord): Promise<void> {
    await this.dataSource.transaction(async (m) => {
      const inserted = (await m.query(
        `INSERT INTO "integrator" ("client_id", "status", "scopes", "allowed_assets", "ip_allowlist", "rate_per_second", "burst", "created_at") VALUES ($1, 'active', $2, $3, $4, $5, $6, $7)
         ON CONFLICT ("client_id") DO NOTHING RETURNING "client_id"`,
        [i.clientId, [...i.scopes], [...i.allowedAssets], [...(i.ipAllowlist ?? [])], i.rateLimit.ratePerSecond, i.rateLimit.burst, now],
      )) as unknown[];
      if (inserted.length === 0) throw new ConflictError('INTEGRATOR_EXISTS', 'an integrator with this client_id exists (revoked ones too: ids are never reused)');
      for (const f of i.certificateFingerprints ?? []) {
        const pinned = (await m.query(`INSERT INTO "integrator_certificate" ("fingerprint", "client_id", "created_at") VALUES ($1, $2, $3) ON CONFLICT ("fingerprint") DO NOTHING RETURNING "fingerprint"`, [
          f.toLowerCase(),
          i.clientId,
          now,
        ])) as unknown[];
        if (pinned.length === 0) throw new ConflictError('CERTIFICATE_ALREADY_REGISTERED', 'this client certificate is pinned to another integrator');
      }
      for (const k of i.keys) {
        if (k.publicKey.length !== 32) throw new TypeError('Ed25519 public keys are 32 bytes');
        await m.query(`INSERT INTO "integrator_key" ("client_id", "key_id", "public_key", "revoked", "created_at") VALUES ($1, $2, $3, false, $4)`, [i.clientId, k.keyId, Buffer.from(k.publicKey), now]);
      }
      for (const a of i.customerAccounts ?? []) {
        await m.query(`INSERT INTO "customer_account" ("client_id", "account_id", "created_at") VALUES ($1, $2, $3)`, [i.clientId, a, now]);
      }
      if (record) {
        await recordAdminAction(m, record);
        const key = i.keys[0];
        await enqueue(m, [
          integratorChangedEntry(
            { ...record, action: 'REGISTER_INTEGRATOR' },
            { ...(key ? { keyId: key.keyId, publicKey: key.publicKey } : {}), certificateSha256: (i.certificateFingerprints ?? []).join(',') },
            this.topicName,
          ),
        ]);
      }
    });
  }

  async revoke(clientId: string, record?: AdminRecord): Promise<void> {
    await this.dataSource.transaction(async (m) => {
      // TypeORM answers an UPDATE with [rows, affected]; a concurrent revoke already won when 0.
      const [, affected] = (await m.query(`UPDATE "integrator" SET "status" = 'revoked' WHERE "client_id" = $1 AND "status" = 'active'`, [clientId])) as [unknown, number];
      if (affected === 0 && record) throw new PreconditionError('INTEGRATOR_REVOKED', 'this integrator is already revoked');
      if (record) {
        await recordAdminAction(m, record);
        await enqueue(m, [integratorChangedEntry({ ...record, action: 'REVOKE_INTEGRATOR' }, {}, this.topicName)]);
      }
    });
  }

  async rotateKey(clientId: string, key: { readonly keyId: string; readonly publicKey: Uint8Array }, previousKeysExpireAt: Date, now: Date, record?: AdminRecord): Promise<void> {
    if (key.publicKey.length !== 32) throw new TypeError('Ed25519 public keys are 32 bytes');
    await this.dataSource.transaction(async (m) => {
      // Serialise rotations of one client.
      await m.query(`SELECT 1 FROM "integrator" WHERE "client_id" = $1 FOR UPDATE`, [clientId]);
      await m.query(
        `UPDATE "integrator_key" SET "expires_at" = LEAST(COALESCE("expires_at", $2), $2) WHERE "client_id" = $1 AND NOT "revoked"`,
        [clientId, previousKeysExpireAt],
      );
      const inserted = (await m.query(
        `INSERT INTO "integrator_key" ("client_id", "key_id", "public_key", "revoked", "created_at") VALUES ($1, $2, $3, false, $4) ON CONFLICT DO NOTHING RETURNING "key_id"`,
        [clientId, key.keyId, Buffer.from(key.publicKey), now],
      )) as unknown[];
      if (inserted.length === 0) throw new ConflictError('KEY_EXISTS', 'this integrator already has a key with new_key_id');
      if (record) {
        await recordAdminAction(m, record);
        await enqueue(m, [integratorChangedEntry({ ...record, action: 'ROTATE_INTEGRATOR_KEY' }, { keyId: key.keyId, publicKey: key.publicKey, previousKeysExpireAt }, this.topicName)]);
      }
    });
  }

  async revokeKey(clientId: string, keyId: string): Promise<void> {
    await this.dataSource.query(`UPDATE "integrator_key" SET "revoked" = true WHERE "client_id" = $1 AND "key_id" = $2`, [clientId, keyId]);
  }

  async addCustomerAccount(clientId: string, accountId: string, now: Date): Promise<void> {
    await this.dataSource.query(`INSERT INTO "customer_account" ("client_id", "account_id", "created_at") VALUES ($1, $2, $3) ON CONFLICT DO NOTHING`, [clientId, accountId, now]);
  }
}

export class PostgresNonceStore implements NonceStore {
  constructor(private readonly dataSource: DataSource) {}

  async remember(clientId: string, nonce: string, seenAt: Date): Promise<boolean> {
    const rows = (await this.dataSource.query(
      `INSERT INTO "request_nonce" ("client_id", "nonce", "seen_at") VALUES ($1, $2, $3) ON CONFLICT DO NOTHING RETURNING "nonce"`,
      [clientId, nonce, seenAt],
    )) as unknown[];
    return rows.length === 1;
  }

  /** Nonces older than the timestamp window can never be replayed (the timestamp check rejects them first). */
  async prune(olderThan: Date): Promise<number> {
    const result = (await this.dataSource.query(`DELETE FROM "request_nonce" WHERE "seen_at" < $1`, [olderThan])) as [unknown, number];
    return result[1] ?? 0;
  }
}

interface MaintenanceRow {
  id: string;
  chains: string[];
  assets: string[];
  starts_at: Date;
  ends_at: Date;
  withdrawals_suspended: boolean;
  deposits_delayed: boolean;
  description: string;
  announced_by: string;
  announced_at: Date;
  cancelled_at: Date | null;
  cancelled_by: string | null;
}

function toWindow(r: MaintenanceRow): MaintenanceWindow {
  return Object.freeze({
    id: r.id,
    chains: r.chains,
    assets: r.assets,
    startsAt: r.starts_at,
    endsAt: r.ends_at,
    withdrawalsSuspended: r.withdrawals_suspended,
    depositsDelayed: r.deposits_delayed,
    description: r.description,
    announcedBy: r.announced_by,
    announcedAt: r.announced_at,
    ...(r.cancelled_at ? { cancelledAt: r.cancelled_at, cancelledBy: r.cancelled_by ?? '' } : {}),
  });
}

export class PostgresMaintenanceStore implements MaintenanceStore {
  constructor(
    private readonly dataSource: DataSource,
    private readonly topicName: TopicNamer,
  ) {}

  async create(w: MaintenanceWindow, correlationId: string, record?: AdminRecord): Promise<void> {
    await this.dataSource.transaction(async (m) => {
      await m.query(
        `INSERT INTO "maintenance_window" ("id", "chains", "assets", "starts_at", "ends_at", "withdrawals_suspended", "deposits_delayed", "description", "announced_by", "announced_at")
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)`,
        [w.id, [...w.chains], [...w.assets], w.startsAt, w.endsAt, w.withdrawalsSuspended, w.depositsDelayed, w.description, w.announcedBy, w.announcedAt],
      );
      await enqueue(m, [maintenanceScheduledEntry(w, correlationId, this.topicName)]);
      if (record) await recordAdminAction(m, record);
    });
  }

  async listCurrentAndUpcoming(now: Date): Promise<readonly MaintenanceWindow[]> {
    const rows = (await this.dataSource.query(`SELECT * FROM "maintenance_window" WHERE "ends_at" > $1 AND "cancelled_at" IS NULL ORDER BY "starts_at" LIMIT 1000`, [now])) as MaintenanceRow[];
    return rows.map(toWindow);
  }

  async listNotices(q: MaintenanceNoticeQuery): Promise<readonly MaintenanceWindow[]> {
    const rows = (await this.dataSource.query(
      `SELECT * FROM "maintenance_window" WHERE ($2 OR "ends_at" > $1) AND ($3 OR "cancelled_at" IS NULL) ORDER BY "starts_at" DESC, "id" LIMIT $4`,
      [q.now, q.includeEnded, q.includeCancelled, q.limit],
    )) as MaintenanceRow[];
    return rows.map(toWindow);
  }

  async get(id: string): Promise<MaintenanceWindow | undefined> {
    const [row] = (await this.dataSource.query(`SELECT * FROM "maintenance_window" WHERE "id" = $1`, [id])) as MaintenanceRow[];
    return row ? toWindow(row) : undefined;
  }

  async cancel(id: string, cancelledAt: Date, cancelledBy: string, correlationId: string, record?: AdminRecord): Promise<boolean> {
    return this.dataSource.transaction(async (m) => {
      // TypeORM answers an UPDATE with [rows, affected].
      const [rows] = (await m.query(`UPDATE "maintenance_window" SET "cancelled_at" = $2, "cancelled_by" = $3 WHERE "id" = $1 AND "cancelled_at" IS NULL RETURNING *`, [id, cancelledAt, cancelledBy])) as [MaintenanceRow[], number];
      const row = rows[0];
      if (!row) return false;
      await enqueue(m, [maintenanceScheduledEntry(toWindow(row), correlationId, this.topicName)]);
      if (record) await recordAdminAction(m, record);
      return true;
    });
  }
}

interface PendingRow {
  event_id: string;
  withdrawal_id: string;
  topic: string;
  payload: Record<string, unknown>;
  arrival: string;
}

/** intake_pending_event: callers hold the withdrawal's row lock (store.transition's FOR UPDATE). */
export class PostgresPendingPipelineEvents implements PendingPipelineEvents {
  constructor(
    private readonly dataSource: DataSource,
    private readonly clock: () => Date,
  ) {}

  inTransaction<T>(work: (tx: Tx) => Promise<T>, tx?: Tx): Promise<T> {
    return tx ? work(tx) : this.dataSource.transaction((m) => work(m));
  }

  async park(event: ParkedPipelineEvent, tx: Tx): Promise<void> {
    await (tx as EntityManager).query(
      `INSERT INTO "intake_pending_event" ("event_id", "withdrawal_id", "topic", "payload", "arrival", "parked_at")
       SELECT $1, $2, $3, $4::jsonb, COALESCE(MAX("arrival"), 0) + 1, $5 FROM "intake_pending_event" WHERE "withdrawal_id" = $2
       ON CONFLICT ("event_id") DO NOTHING`,
      [event.eventId, event.withdrawalId, event.topic, JSON.stringify(event.payload), this.clock()],
    );
  }

  async parked(withdrawalId: string, tx: Tx): Promise<readonly ParkedPipelineEvent[]> {
    const rows = (await (tx as EntityManager).query(
      `SELECT "event_id", "withdrawal_id", "topic", "payload", "arrival" FROM "intake_pending_event" WHERE "withdrawal_id" = $1 ORDER BY "arrival"`,
      [withdrawalId],
    )) as PendingRow[];
    return rows.map((r) => {
      const p = r.payload;
      const to = String(p['to']);
      if (!isWithdrawalState(to)) throw new Error(`parked event ${r.event_id} has an unknown state`);
      return {
        eventId: r.event_id,
        withdrawalId: r.withdrawal_id,
        topic: r.topic,
        arrival: Number(r.arrival),
        payload: {
          to: to as WithdrawalStateName,
          reasonCode: String(p['reasonCode'] ?? ''),
          reasonDetail: String(p['reasonDetail'] ?? ''),
          correlationId: String(p['correlationId'] ?? ''),
          ...(typeof p['txHash'] === 'string' ? { txHash: p['txHash'] } : {}),
          ...(typeof p['confirmations'] === 'number' ? { confirmations: p['confirmations'] } : {}),
        },
      };
    });
  }

  async remove(eventIds: readonly string[], tx: Tx): Promise<void> {
    if (eventIds.length === 0) return;
    await (tx as EntityManager).query(`DELETE FROM "intake_pending_event" WHERE "event_id" = ANY($1::text[])`, [eventIds]);
  }
}
