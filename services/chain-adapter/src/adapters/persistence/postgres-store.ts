// ChainStore on PostgreSQL (TypeORM, raw SQL). Nonce allocation: one row per (chain,
// wallet), SELECT … FOR UPDATE in the same transaction that records the prepared tx and its
// outbox event, so concurrent withdrawals and restarts can neither reuse nor skip a nonce.
import { enqueue } from '@custody/event-bus';
import type { DataSource, EntityManager } from 'typeorm';
import type { AdminActionRow, AttemptRow, ChainStore, DepositRow, IncidentRow, OutEvent, RefusalRow, StoreScope, StoredBlock, WithdrawalRow, WithdrawalState } from '../../application/store.js';
import type { BreakerRow } from '../../domain/breaker.js';
import { allocateNonce, type NonceAllocation } from '../../domain/nonce-allocation.js';
import type { WalletRow, WalletState } from '../../domain/wallet-registry.js';
import { incidentEvent, incidentIdOf } from '../../application/incidents.js';
import { outboxEntry, type TopicNamer } from '../events.js';

type Row = Record<string, unknown>;
const bi = (v: unknown): bigint => BigInt(v as string);
const nbi = (v: unknown): bigint | null => (v === null || v === undefined ? null : BigInt(v as string));
const buf = (v: unknown): Uint8Array => new Uint8Array(v as Buffer);

function toWithdrawal(r: Row): WithdrawalRow {
  return {
    withdrawalId: r['withdrawal_id'] as string,
    decisionId: r['decision_id'] as string,
    chain: r['chain'] as string,
    asset: r['asset'] as string,
    walletId: (r['wallet_id'] as string | undefined) ?? '',
    wallet: r['wallet'] as string,
    destination: r['destination'] as string,
    amount: bi(r['amount']),
    nonce: bi(r['nonce']),
    state: r['state'] as WithdrawalState,
    correlationId: r['correlation_id'] as string,
    txHash: (r['tx_hash'] as string | null) ?? null,
    blockHeight: nbi(r['block_height']),
    blockHash: (r['block_hash'] as string | null) ?? null,
    confirmations: Number(r['confirmations']),
    template: buf(r['template']),
    reasonCode: r['reason_code'] as string,
    updatedAt: r['updated_at'] as Date,
    nonceReleased: r['nonce_released'] === true,
  };
}

function toAttempt(r: Row): AttemptRow {
  return {
    withdrawalId: r['withdrawal_id'] as string,
    attempt: Number(r['attempt']),
    maxFeePerGas: bi(r['max_fee_per_gas']),
    maxPriorityFeePerGas: bi(r['max_priority_fee_per_gas']),
    gasLimit: bi(r['gas_limit']),
    unsignedTx: buf(r['unsigned_tx']),
    signedTx: r['signed_tx'] == null ? null : buf(r['signed_tx']),
    txHash: (r['tx_hash'] as string | null) ?? null,
    createdAt: r['created_at'] as Date,
  };
}

function toDeposit(r: Row): DepositRow {
  return {
    depositId: r['deposit_id'] as string,
    chain: r['chain'] as string,
    asset: r['asset'] as string,
    address: r['address'] as string,
    txHash: r['tx_hash'] as string,
    outputIndex: Number(r['output_index']),
    amount: bi(r['amount']),
    fromAddress: r['from_address'] as string,
    blockHeight: bi(r['block_height']),
    blockHash: r['block_hash'] as string,
    confirmations: Number(r['confirmations']),
    state: r['state'] as DepositRow['state'],
    detectedAt: r['detected_at'] as Date,
  };
}

const toWallet = (r: Row): WalletRow => ({
  walletId: r['wallet_id'] as string,
  chain: r['chain'] as string,
  address: r['address'] as string,
  keyId: r['key_id'] as string,
  state: r['state'] as WalletState,
  updatedAt: r['updated_at'] as Date,
});

const toBlock = (r: Row): StoredBlock => ({ chain: r['chain'] as string, height: bi(r['height']), hash: r['hash'] as string, parentHash: r['parent_hash'] as string });

const COLUMN: Record<string, string> = {
  decisionId: 'decision_id', chain: 'chain', asset: 'asset', walletId: 'wallet_id', wallet: 'wallet', destination: 'destination', amount: 'amount', nonce: 'nonce',
  state: 'state', correlationId: 'correlation_id', txHash: 'tx_hash', blockHeight: 'block_height', blockHash: 'block_hash',
  confirmations: 'confirmations', template: 'template', reasonCode: 'reason_code', updatedAt: 'updated_at',
};

const sqlValue = (v: unknown): unknown => (typeof v === 'bigint' ? v.toString() : v instanceof Uint8Array ? Buffer.from(v) : v);

const ndate = (v: unknown): Date | null => (v === null || v === undefined ? null : new Date(v as string));
function toBreaker(r: Row): BreakerRow {
  return {
    chain: r['chain'] as string,
    state: r['state'] as BreakerRow['state'],
    tripKind: r['trip_kind'] as string,
    tripDetail: r['trip_detail'] as string,
    trippedAt: ndate(r['tripped_at']),
    depthFactor: Number(r['depth_factor']),
    resumedBy: r['resumed_by'] as string,
    resumeReason: r['resume_reason'] as string,
    resumedAt: ndate(r['resumed_at']),
  };
}

class PostgresScope implements StoreScope {
  constructor(private readonly m: EntityManager, private readonly topicName: TopicNamer, private readonly now: () => Date) {}

  async allocateNonce(chain: string, wallet: string, floor: bigint, confirmedCount?: bigint): Promise<NonceAllocation> {
    await this.m.query(`INSERT INTO "wallet_nonce" ("chain", "wallet", "next_nonce", "updated_at") VALUES ($1, $2, $3, $4) ON CONFLICT DO NOTHING`, [chain, wallet, floor.toString(), this.now()]);
    // The allocator row lock also guards the wallet's free list (releaseNonce takes it too).
    const rows = (await this.m.query(`SELECT "next_nonce"::text AS n FROM "wallet_nonce" WHERE "chain" = $1 AND "wallet" = $2 FOR UPDATE`, [chain, wallet])) as Row[];
    const released = ((await this.m.query(`SELECT "nonce"::text AS n FROM "wallet_nonce_free" WHERE "chain" = $1 AND "wallet" = $2 ORDER BY "nonce"`, [chain, wallet])) as Row[]).map((r) => bi(r['n']));
    const a = allocateNonce({ next: bi(rows[0]?.['n']), released, ...(confirmedCount !== undefined ? { confirmedCount } : {}) });
    const taken = [...a.usedOnChain, ...(a.source === 'released' ? [a.nonce] : [])];
    if (taken.length > 0) {
      const deleted = (await this.m.query(`DELETE FROM "wallet_nonce_free" WHERE "chain" = $1 AND "wallet" = $2 AND "nonce" = ANY($3::bigint[]) RETURNING "nonce"`, [chain, wallet, taken.map(String)])) as [Row[], number] | Row[];
      const count = Array.isArray(deleted[0]) ? (deleted[0] as Row[]).length : (deleted as Row[]).length;
      if (count !== taken.length) throw new Error(`wallet_nonce_free changed under the allocator lock (${count}/${taken.length})`);
    }
    if (a.source === 'counter') {
      await this.m.query(`UPDATE "wallet_nonce" SET "next_nonce" = $3, "updated_at" = $4 WHERE "chain" = $1 AND "wallet" = $2`, [chain, wallet, a.next.toString(), this.now()]);
    }
    return a;
  }

  async releaseNonce(withdrawalId: string, chain: string, wallet: string, nonce: bigint, reasonCode: string): Promise<void> {
    await this.m.query(`SELECT 1 FROM "wallet_nonce" WHERE "chain" = $1 AND "wallet" = $2 FOR UPDATE`, [chain, wallet]);
    const updated = (await this.m.query(
      `UPDATE "withdrawal_tx" SET "nonce_released" = true WHERE "withdrawal_id" = $1 AND "chain" = $2 AND "wallet" = $3 AND "nonce" = $4 AND "nonce_released" = false RETURNING "withdrawal_id"`,
      [withdrawalId, chain, wallet, nonce.toString()],
    )) as [Row[], number] | Row[];
    const count = Array.isArray(updated[0]) ? (updated[0] as Row[]).length : (updated as Row[]).length;
    if (count !== 1) throw new Error(`withdrawal ${withdrawalId} does not hold nonce ${nonce} of ${wallet}`);
    // PK (chain, wallet, nonce): a nonce can be on the free list once.
    await this.m.query(`INSERT INTO "wallet_nonce_free" ("chain", "wallet", "nonce", "released_by", "reason_code", "released_at") VALUES ($1,$2,$3,$4,$5,$6)`, [
      chain, wallet, nonce.toString(), withdrawalId, reasonCode, this.now(),
    ]);
  }

  async recordRefusal(r: RefusalRow): Promise<void> {
    await this.m.query(
      `INSERT INTO "signer_refusal" ("event_id", "withdrawal_id", "decision_id", "reason_code", "decision_consumed", "outcome", "received_at") VALUES ($1,$2,$3,$4,$5,$6,$7)`,
      [r.eventId, r.withdrawalId, r.decisionId, r.reasonCode, r.decisionConsumed, r.outcome, this.now()],
    );
  }

  async insertWithdrawal(w: WithdrawalRow): Promise<boolean> {
    const rows = (await this.m.query(
      `INSERT INTO "withdrawal_tx" ("withdrawal_id", "decision_id", "chain", "asset", "wallet", "destination", "amount", "nonce", "state", "correlation_id",
        "tx_hash", "block_height", "block_hash", "confirmations", "template", "reason_code", "created_at", "updated_at", "wallet_id")
       VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$11,$12,$13,$14,$15,$16,$17,$17,$18) ON CONFLICT ("withdrawal_id") DO NOTHING RETURNING "withdrawal_id"`,
      [w.withdrawalId, w.decisionId, w.chain, w.asset, w.wallet, w.destination, w.amount.toString(), w.nonce.toString(), w.state, w.correlationId,
        w.txHash, w.blockHeight?.toString() ?? null, w.blockHash, w.confirmations, Buffer.from(w.template), w.reasonCode, w.updatedAt, w.walletId],
    )) as Row[];
    return rows.length === 1;
  }

  async insertAttempt(a: AttemptRow): Promise<void> {
    await this.m.query(
      `INSERT INTO "tx_attempt" ("withdrawal_id", "attempt", "max_fee_per_gas", "max_priority_fee_per_gas", "gas_limit", "unsigned_tx", "signed_tx", "tx_hash", "created_at")
       VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9)`,
      [a.withdrawalId, a.attempt, a.maxFeePerGas.toString(), a.maxPriorityFeePerGas.toString(), a.gasLimit.toString(), Buffer.from(a.unsignedTx), a.signedTx ? Buffer.from(a.signedTx) : null, a.txHash, a.createdAt],
    );
  }

  async withdrawal(id: string, lock = false): Promise<WithdrawalRow | undefined> {
    const rows = (await this.m.query(`SELECT * FROM "withdrawal_tx" WHERE "withdrawal_id" = $1${lock ? ' FOR UPDATE' : ''}`, [id])) as Row[];
    return rows[0] ? toWithdrawal(rows[0]) : undefined;
  }

  async attempts(id: string): Promise<AttemptRow[]> {
    return ((await this.m.query(`SELECT * FROM "tx_attempt" WHERE "withdrawal_id" = $1 ORDER BY "attempt"`, [id])) as Row[]).map(toAttempt);
  }

  async updateWithdrawal(id: string, patch: Partial<Omit<WithdrawalRow, 'withdrawalId'>>): Promise<void> {
    const entries = Object.entries(patch).filter(([k]) => COLUMN[k]);
    if (entries.length === 0) return;
    const sets = entries.map(([k], i) => `"${COLUMN[k] as string}" = $${i + 2}`).join(', ');
    await this.m.query(`UPDATE "withdrawal_tx" SET ${sets} WHERE "withdrawal_id" = $1`, [id, ...entries.map(([, v]) => sqlValue(v))]);
  }

  async setSigned(id: string, attempt: number, signedTx: Uint8Array, txHash: string): Promise<void> {
    await this.m.query(`UPDATE "tx_attempt" SET "signed_tx" = $3, "tx_hash" = $4 WHERE "withdrawal_id" = $1 AND "attempt" = $2`, [id, attempt, Buffer.from(signedTx), txHash]);
  }

  async putBlock(b: StoredBlock): Promise<void> {
    await this.m.query(
      `INSERT INTO "chain_block" ("chain", "height", "hash", "parent_hash", "seen_at") VALUES ($1,$2,$3,$4,$5)
       ON CONFLICT ("chain", "height") DO UPDATE SET "hash" = EXCLUDED."hash", "parent_hash" = EXCLUDED."parent_hash", "seen_at" = EXCLUDED."seen_at"`,
      [b.chain, b.height.toString(), b.hash, b.parentHash, this.now()],
    );
  }

  async deleteBlocksAbove(chain: string, height: bigint): Promise<void> {
    await this.m.query(`DELETE FROM "chain_block" WHERE "chain" = $1 AND "height" > $2`, [chain, height.toString()]);
  }

  async upsertDeposit(d: DepositRow): Promise<void> {
    await this.m.query(
      `INSERT INTO "deposit" ("deposit_id", "chain", "asset", "address", "tx_hash", "output_index", "amount", "from_address", "block_height", "block_hash", "confirmations", "state", "detected_at")
       VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$11,$12,$13)
       ON CONFLICT ("deposit_id") DO UPDATE SET "block_height" = EXCLUDED."block_height", "block_hash" = EXCLUDED."block_hash",
         "confirmations" = EXCLUDED."confirmations", "state" = EXCLUDED."state"`,
      [d.depositId, d.chain, d.asset, d.address, d.txHash, d.outputIndex, d.amount.toString(), d.fromAddress, d.blockHeight.toString(), d.blockHash, d.confirmations, d.state, d.detectedAt],
    );
  }

  async recordIncident(i: IncidentRow): Promise<boolean> {
    const incidentId = incidentIdOf(i);
    const inserted = (await this.m.query(
      `INSERT INTO "chain_incident" ("incident_id", "chain", "kind", "detail", "wallet", "tx_hash", "created_at") VALUES ($1,$2,$3,$4,$5,$6,$7)
       ON CONFLICT ("incident_id") DO NOTHING RETURNING "id"`,
      [incidentId, i.chain, i.kind, i.detail, i.wallet, i.txHash, this.now()],
    )) as Row[];
    if (inserted.length === 0) return false;
    // custody.incident.raised.v1 through the outbox, in this transaction.
    await this.emit([incidentEvent({ ...i, incidentId }, this.now())]);
    return true;
  }

  async emit(events: readonly OutEvent[]): Promise<void> {
    if (events.length === 0) return;
    const now = this.now();
    await enqueue(this.m, events.map((e) => outboxEntry(e, now, this.topicName)));
  }

  async wallet(chain: string, walletId: string, lock = false): Promise<WalletRow | undefined> {
    const rows = (await this.m.query(`SELECT * FROM "custody_wallet" WHERE "chain" = $1 AND "wallet_id" = $2${lock ? ' FOR UPDATE' : ''}`, [chain, walletId])) as Row[];
    return rows[0] ? toWallet(rows[0]) : undefined;
  }

  async breaker(chain: string, lock: boolean | 'update' = false): Promise<BreakerRow | undefined> {
    const suffix = lock === 'update' ? ' FOR UPDATE' : lock ? ' FOR SHARE' : '';
    const rows = (await this.m.query(`SELECT * FROM "chain_breaker" WHERE "chain" = $1${suffix}`, [chain])) as Row[];
    return rows[0] ? toBreaker(rows[0]) : undefined;
  }

  async tripBreaker(chain: string, kind: string, detail: string, depthFactor: number): Promise<boolean> {
    const rows = (await this.m.query(
      `INSERT INTO "chain_breaker" ("chain", "state", "trip_kind", "trip_detail", "tripped_at", "depth_factor", "resumed_by", "resume_reason", "resumed_at", "updated_at")
       VALUES ($1, 'TRIPPED', $2, $3, $4, $5, '', '', NULL, $4)
       ON CONFLICT ("chain") DO UPDATE SET "state" = 'TRIPPED', "trip_kind" = EXCLUDED."trip_kind", "trip_detail" = EXCLUDED."trip_detail", "tripped_at" = EXCLUDED."tripped_at",
         "depth_factor" = EXCLUDED."depth_factor", "updated_at" = EXCLUDED."updated_at"
       WHERE "chain_breaker"."state" = 'CLEAR' RETURNING "chain"`,
      [chain, kind, detail, this.now(), depthFactor],
    )) as Row[];
    return rows.length === 1;
  }

  async resumeBreaker(chain: string, operatorId: string, reason: string): Promise<BreakerRow | undefined> {
    const rows = (await this.m.query(
      `UPDATE "chain_breaker" SET "state" = 'CLEAR', "resumed_by" = $2, "resume_reason" = $3, "resumed_at" = $4, "updated_at" = $4
       WHERE "chain" = $1 AND "state" = 'TRIPPED' RETURNING *`,
      [chain, operatorId, reason, this.now()],
    )) as [Row[], number] | Row[];
    const list = Array.isArray(rows[0]) ? (rows[0] as Row[]) : (rows as Row[]);
    return list[0] ? toBreaker(list[0]) : undefined;
  }

  async recordAdminAction(a: AdminActionRow): Promise<boolean> {
    const rows = (await this.m.query(
      `INSERT INTO "chain_admin_action" ("operator_id", "nonce", "method", "target", "reason", "outcome", "certificate_sha256", "signature", "created_at")
       VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9) ON CONFLICT DO NOTHING RETURNING "nonce"`,
      [a.operatorId, a.nonce, a.method, a.target, a.reason, a.outcome, a.certificateSha256, Buffer.from(a.signature), this.now()],
    )) as Row[];
    return rows.length === 1;
  }

  async putWallet(w: WalletRow): Promise<void> {
    await this.m.query(
      `INSERT INTO "custody_wallet" ("wallet_id", "chain", "address", "key_id", "state", "updated_at") VALUES ($1,$2,$3,$4,$5,$6)
       ON CONFLICT ("wallet_id", "chain") DO UPDATE SET "address" = EXCLUDED."address", "key_id" = EXCLUDED."key_id", "state" = EXCLUDED."state", "updated_at" = EXCLUDED."updated_at"`,
      [w.walletId, w.chain, w.address, w.keyId, w.state, w.updatedAt],
    );
  }
}

export class PostgresChainStore implements ChainStore {
  constructor(private readonly ds: DataSource, private readonly topicName: TopicNamer, private readonly now: () => Date) {}

  /** The scope of a transaction someone else opened (the inbox's handleOnce). */
  within(manager: EntityManager): StoreScope {
    return new PostgresScope(manager, this.topicName, this.now);
  }

  transaction<T>(fn: (scope: StoreScope) => Promise<T>): Promise<T> {
    return this.ds.transaction((m) => fn(new PostgresScope(m, this.topicName, this.now)));
  }

  private async rows(sql: string, params: unknown[]): Promise<Row[]> {
    return (await this.ds.query(sql, params)) as Row[];
  }

  async nextNonce(chain: string, wallet: string): Promise<bigint | undefined> {
    const r = (await this.rows(`SELECT "next_nonce"::text AS n FROM "wallet_nonce" WHERE "chain" = $1 AND "wallet" = $2`, [chain, wallet]))[0];
    return r ? bi(r['n']) : undefined;
  }

  async releasedNonces(chain: string, wallet: string): Promise<bigint[]> {
    return (await this.rows(`SELECT "nonce"::text AS n FROM "wallet_nonce_free" WHERE "chain" = $1 AND "wallet" = $2 ORDER BY "nonce"`, [chain, wallet])).map((r) => bi(r['n']));
  }

  async withdrawalsIn(chain: string, states: readonly WithdrawalState[]): Promise<WithdrawalRow[]> {
    return (await this.rows(`SELECT * FROM "withdrawal_tx" WHERE "chain" = $1 AND "state" = ANY($2) ORDER BY "nonce"`, [chain, [...states]])).map(toWithdrawal);
  }

  /** When the first attempt of the oldest withdrawal broadcast but not yet final was created (metrics). */
  async oldestUnfinalSince(chain: string): Promise<Date | undefined> {
    const r = (
      await this.rows(
        `SELECT min(a."created_at") AS since FROM "withdrawal_tx" w JOIN "tx_attempt" a ON a."withdrawal_id" = w."withdrawal_id" AND a."attempt" = 1
         WHERE w."chain" = $1 AND w."state" IN ('BROADCAST', 'CONFIRMED')`,
        [chain],
      )
    )[0];
    const since = r?.['since'];
    return since ? new Date(since as string | Date) : undefined;
  }

  async withdrawalsAbove(chain: string, height: bigint): Promise<WithdrawalRow[]> {
    return (await this.rows(`SELECT * FROM "withdrawal_tx" WHERE "chain" = $1 AND "block_height" > $2 ORDER BY "nonce"`, [chain, height.toString()])).map(toWithdrawal);
  }

  async attemptByHash(hash: string): Promise<AttemptRow | undefined> {
    const r = (await this.rows(`SELECT * FROM "tx_attempt" WHERE "tx_hash" = $1`, [hash]))[0];
    return r ? toAttempt(r) : undefined;
  }

  async attempts(id: string): Promise<AttemptRow[]> {
    return (await this.rows(`SELECT * FROM "tx_attempt" WHERE "withdrawal_id" = $1 ORDER BY "attempt"`, [id])).map(toAttempt);
  }

  async block(chain: string, height: bigint): Promise<StoredBlock | undefined> {
    const r = (await this.rows(`SELECT * FROM "chain_block" WHERE "chain" = $1 AND "height" = $2`, [chain, height.toString()]))[0];
    return r ? toBlock(r) : undefined;
  }

  async topBlock(chain: string): Promise<StoredBlock | undefined> {
    const r = (await this.rows(`SELECT * FROM "chain_block" WHERE "chain" = $1 ORDER BY "height" DESC LIMIT 1`, [chain]))[0];
    return r ? toBlock(r) : undefined;
  }

  async depositsActive(chain: string): Promise<DepositRow[]> {
    return (await this.rows(`SELECT * FROM "deposit" WHERE "chain" = $1 AND "state" = 'PENDING'`, [chain])).map(toDeposit);
  }

  async depositsAbove(chain: string, height: bigint): Promise<DepositRow[]> {
    return (await this.rows(`SELECT * FROM "deposit" WHERE "chain" = $1 AND "block_height" > $2`, [chain, height.toString()])).map(toDeposit);
  }

  async deposit(id: string): Promise<DepositRow | undefined> {
    const r = (await this.rows(`SELECT * FROM "deposit" WHERE "deposit_id" = $1`, [id]))[0];
    return r ? toDeposit(r) : undefined;
  }

  async wallet(chain: string, walletId: string): Promise<WalletRow | undefined> {
    const r = (await this.rows(`SELECT * FROM "custody_wallet" WHERE "chain" = $1 AND "wallet_id" = $2`, [chain, walletId]))[0];
    return r ? toWallet(r) : undefined;
  }

  /** Every registered wallet of the chain (outflow monitor, diagnostics). */
  async wallets(chain: string): Promise<WalletRow[]> {
    return (await this.rows(`SELECT * FROM "custody_wallet" WHERE "chain" = $1 ORDER BY "wallet_id"`, [chain])).map(toWallet);
  }

  /** A CLEAR row for the chain unless one exists (never changes an existing one). */
  async ensureBreaker(chain: string): Promise<void> {
    await this.ds.query(
      `INSERT INTO "chain_breaker" ("chain", "state", "trip_kind", "trip_detail", "tripped_at", "depth_factor", "resumed_by", "resume_reason", "resumed_at", "updated_at")
       VALUES ($1, 'CLEAR', '', '', NULL, 1, '', '', NULL, $2) ON CONFLICT DO NOTHING`,
      [chain, this.now()],
    );
  }

  async breaker(chain: string): Promise<BreakerRow | undefined> {
    const r = (await this.rows(`SELECT * FROM "chain_breaker" WHERE "chain" = $1`, [chain]))[0];
    return r ? toBreaker(r) : undefined;
  }

  async incidents(chain: string): Promise<IncidentRow[]> {
    return (await this.rows(`SELECT "chain", "kind", "detail", "wallet", "tx_hash" AS "txHash", "incident_id" AS "incidentId" FROM "chain_incident" WHERE "chain" = $1 ORDER BY "id"`, [chain])) as unknown as IncidentRow[];
  }
}
