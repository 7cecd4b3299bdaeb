// Postgres implementations of the policy service's stores (raw SQL through TypeORM; the
// search_path selects the service schema). policy.decided goes to the outbox in the same
// transaction as the decision it describes.
import { createHash } from 'node:crypto';
import { enqueue } from '@custody/event-bus';
import type { DataSource, EntityManager } from 'typeorm';
import type { BundleStore, StoredBundle } from '../../application/bundle-registry.js';
import type { AdminSignature } from '../../domain/approval.js';
import type { DecisionRecord, DecisionStatus, EventContext, PolicyStore, Vote } from '../../application/decisions.js';
import type { PolicyBundle } from '../../application/policy-evaluator.js';
import type { Tx } from '../../application/ports.js';
import type { Decision } from '../../domain/decision.js';
import type { PolicyInput, StoredAssessment, StoredRequest } from '../../domain/policy-input.js';
import { policyDecidedEntry, type TopicNamer } from '../events.js';

const m = (tx: Tx): EntityManager => tx as EntityManager;

interface DecisionRow {
  id: string;
  withdrawal_id: string;
  assessment_id: string;
  status: string;
  requested_by: string;
  account_id: string;
  asset: string;
  chain: string;
  amount: string;
  source_wallet: string;
  destination_address: string;
  destination_tag: string;
  input: PolicyInput;
  output: Decision;
  bundle_digest: string;
  quorum: number;
  roles: string[];
  expires_at: Date | null;
  decision_token: string | null;
  decided_at: Date;
  updated_at: Date;
}

const STATUSES: readonly DecisionStatus[] = ['allow', 'deny', 'require_approval', 'hold', 'rejected', 'expired'];

function toRecord(r: DecisionRow): DecisionRecord {
  if (!(STATUSES as readonly string[]).includes(r.status)) throw new Error(`decision ${r.id} has unknown status ${r.status}`);
  return Object.freeze({
    id: r.id,
    withdrawalId: r.withdrawal_id,
    assessmentId: r.assessment_id,
    status: r.status as DecisionStatus,
    requestedBy: r.requested_by,
    accountId: r.account_id,
    asset: r.asset,
    chain: r.chain,
    amount: BigInt(r.amount),
    sourceWallet: r.source_wallet,
    destinationAddress: r.destination_address,
    destinationTag: r.destination_tag,
    input: r.input,
    output: r.output,
    bundleDigest: r.bundle_digest,
    quorum: r.quorum,
    roles: r.roles,
    expiresAt: r.expires_at ?? undefined,
    decisionToken: r.decision_token ?? undefined,
    decidedAt: r.decided_at,
    updatedAt: r.updated_at,
  });
}

const DECISION_COLUMNS = `"id", "withdrawal_id", "assessment_id", "status", "requested_by", "account_id", "asset", "chain", "amount"::text AS "amount",
  "source_wallet", "destination_address", "destination_tag", "input", "output", "bundle_digest", "quorum", "roles", "expires_at",
  "decision_token", "decided_at", "updated_at"`;

function lockKey(withdrawalId: string): string {
  return createHash('sha256').update(withdrawalId).digest().readBigInt64BE(0).toString();
}

export class PostgresPolicyStore implements PolicyStore {
  constructor(
    private readonly dataSource: DataSource,
    private readonly topicName: TopicNamer,
  ) {}

  transaction<T>(fn: (tx: Tx) => Promise<T>): Promise<T> {
    return this.dataSource.transaction((manager) => fn(manager));
  }

  async lockWithdrawal(tx: Tx, withdrawalId: string): Promise<void> {
    await m(tx).query(`SELECT pg_advisory_xact_lock($1::bigint)`, [lockKey(withdrawalId)]);
  }

  async saveRequest(tx: Tx, r: StoredRequest): Promise<void> {
    await m(tx).query(
      `INSERT INTO "withdrawal_request" ("withdrawal_id", "client_id", "customer_account", "asset", "chain", "amount", "destination_address", "destination_tag", "requested_at")
       VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9) ON CONFLICT ("withdrawal_id") DO NOTHING`,
      [r.withdrawalId, r.clientId, r.customerAccount, r.asset, r.chain, r.amount.toString(), r.destinationAddress, r.destinationTag, r.requestedAt],
    );
  }

  async getRequest(tx: Tx, withdrawalId: string): Promise<StoredRequest | undefined> {
    const [r] = (await m(tx).query(`SELECT *, "amount"::text AS "amount" FROM "withdrawal_request" WHERE "withdrawal_id" = $1`, [withdrawalId])) as Record<string, unknown>[];
    if (!r) return undefined;
    return {
      withdrawalId: String(r['withdrawal_id']),
      clientId: String(r['client_id']),
      customerAccount: String(r['customer_account']),
      asset: String(r['asset']),
      chain: String(r['chain']),
      amount: BigInt(String(r['amount'])),
      destinationAddress: String(r['destination_address']),
      destinationTag: String(r['destination_tag']),
      requestedAt: r['requested_at'] as Date,
    };
  }

  async saveAssessment(tx: Tx, a: StoredAssessment): Promise<void> {
    await m(tx).query(
      `INSERT INTO "risk_assessment" ("withdrawal_id", "assessment_id", "verdict", "score", "sanctions_hit", "assessed_at") VALUES ($1,$2,$3,$4,$5,$6)
       ON CONFLICT ("withdrawal_id") DO UPDATE SET "assessment_id" = EXCLUDED."assessment_id", "verdict" = EXCLUDED."verdict", "score" = EXCLUDED."score",
         "sanctions_hit" = EXCLUDED."sanctions_hit", "assessed_at" = EXCLUDED."assessed_at"
       WHERE "risk_assessment"."assessed_at" <= EXCLUDED."assessed_at"`,
      [a.withdrawalId, a.assessmentId, a.verdict, a.score, a.sanctionsHit, a.assessedAt],
    );
  }

  async getAssessment(tx: Tx, withdrawalId: string): Promise<StoredAssessment | undefined> {
    const [r] = (await m(tx).query(`SELECT * FROM "risk_assessment" WHERE "withdrawal_id" = $1`, [withdrawalId])) as Record<string, unknown>[];
    if (!r) return undefined;
    const verdict = String(r['verdict']);
    return {
      withdrawalId,
      assessmentId: String(r['assessment_id']),
      verdict: verdict === 'ALLOW' || verdict === 'REVIEW' || verdict === 'BLOCK' ? verdict : 'UNKNOWN',
      score: Number(r['score']),
      sanctionsHit: r['sanctions_hit'] === true,
      assessedAt: r['assessed_at'] as Date,
    };
  }

  async hasDecision(tx: Tx, withdrawalId: string, assessmentId: string): Promise<boolean> {
    const rows = (await m(tx).query(`SELECT 1 FROM "decision" WHERE "withdrawal_id" = $1 AND "assessment_id" = $2`, [withdrawalId, assessmentId])) as unknown[];
    return rows.length > 0;
  }

  async recentOutflow(tx: Tx, accountId: string, asset: string, since: Date, excludeWithdrawalId: string): Promise<bigint> {
    const [r] = (await m(tx).query(
      `SELECT COALESCE(SUM("amount"), 0)::text AS "total" FROM (
         SELECT DISTINCT ON ("withdrawal_id") "withdrawal_id", "amount", "status" FROM "decision"
         WHERE "account_id" = $1 AND "asset" = $2 AND "decided_at" >= $3 AND "withdrawal_id" <> $4
         ORDER BY "withdrawal_id", "decided_at" DESC) latest
       WHERE "status" IN ('allow', 'require_approval', 'hold')`,
      [accountId, asset, since, excludeWithdrawalId],
    )) as { total: string }[];
    return BigInt(r?.total ?? '0');
  }

  private params(d: DecisionRecord): unknown[] {
    return [
      d.id, d.withdrawalId, d.assessmentId, d.status, d.requestedBy, d.accountId, d.asset, d.chain, d.amount.toString(), d.sourceWallet,
      d.destinationAddress, d.destinationTag, JSON.stringify(d.input), JSON.stringify(d.output), d.bundleDigest, d.quorum, [...d.roles],
      d.expiresAt ?? null, d.decisionToken ?? null, d.decidedAt, d.updatedAt,
    ];
  }

  async insertDecision(tx: Tx, d: DecisionRecord): Promise<void> {
    await m(tx).query(
      `INSERT INTO "decision" ("id", "withdrawal_id", "assessment_id", "status", "requested_by", "account_id", "asset", "chain", "amount", "source_wallet",
         "destination_address", "destination_tag", "input", "output", "bundle_digest", "quorum", "roles", "expires_at", "decision_token", "decided_at", "updated_at")
       VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$11,$12,$13,$14,$15,$16,$17,$18,$19,$20,$21)`,
      this.params(d),
    );
  }

  async updateDecision(tx: Tx, d: DecisionRecord): Promise<void> {
    await m(tx).query(
      `UPDATE "decision" SET "status" = $2, "input" = $3, "output" = $4, "bundle_digest" = $5, "decision_token" = $6, "updated_at" = $7 WHERE "id" = $1`,
      [d.id, d.status, JSON.stringify(d.input), JSON.stringify(d.output), d.bundleDigest, d.decisionToken ?? null, d.updatedAt],
    );
  }

  async recordEvaluation(tx: Tx, e: { decisionId: string; trigger: string; input: PolicyInput; output: Decision; bundleDigest: string; at: Date }): Promise<void> {
    await m(tx).query(
      `INSERT INTO "decision_evaluation" ("id", "decision_id", "trigger", "input", "output", "bundle_digest", "evaluated_at") VALUES (gen_random_uuid(), $1, $2, $3, $4, $5, $6)`,
      [e.decisionId, e.trigger, JSON.stringify(e.input), JSON.stringify(e.output), e.bundleDigest, e.at],
    );
  }

  async getDecision(tx: Tx, id: string, forUpdate: boolean): Promise<DecisionRecord | undefined> {
    if (!/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i.test(id)) return undefined;
    const [r] = (await m(tx).query(`SELECT ${DECISION_COLUMNS} FROM "decision" WHERE "id" = $1${forUpdate ? ' FOR UPDATE' : ''}`, [id])) as DecisionRow[];
    return r ? toRecord(r) : undefined;
  }

  async listPending(now: Date, limit: number, after?: { decidedAt: Date; id: string }): Promise<readonly DecisionRecord[]> {
    const rows = (await this.dataSource.query(
      `SELECT ${DECISION_COLUMNS} FROM "decision" WHERE "status" = 'require_approval' AND "expires_at" > $1
         AND ($2::timestamptz IS NULL OR ("decided_at", "id") > ($2::timestamptz, $3::uuid))
       ORDER BY "decided_at", "id" LIMIT $4`,
      [now, after?.decidedAt ?? null, after?.id ?? null, limit],
    )) as DecisionRow[];
    return rows.map(toRecord);
  }

  async expiredPending(tx: Tx, now: Date, limit: number): Promise<readonly DecisionRecord[]> {
    const rows = (await m(tx).query(
      `SELECT ${DECISION_COLUMNS} FROM "decision" WHERE "status" = 'require_approval' AND "expires_at" <= $1 ORDER BY "expires_at", "id" LIMIT $2 FOR UPDATE SKIP LOCKED`,
      [now, limit],
    )) as DecisionRow[];
    return rows.map(toRecord);
  }

  async votes(tx: Tx, decisionId: string): Promise<readonly Vote[]> {
    const rows = (await m(tx).query(`SELECT * FROM "approval_vote" WHERE "decision_id" = $1 ORDER BY "voted_at", "operator_id"`, [decisionId])) as {
      operator_id: string;
      role: string;
      verdict: string;
      key_id: string;
      signature: Buffer;
      voted_at: Date;
      device_id: string | null;
      sign_count: string | null;
    }[];
    return rows.map((r) => ({
      decisionId,
      operatorId: r.operator_id,
      role: r.role,
      verdict: r.verdict === 'approve' ? 'approve' : 'reject',
      keyId: r.key_id,
      signature: new Uint8Array(r.signature),
      votedAt: r.voted_at,
      ...(r.device_id !== null && r.sign_count !== null ? { deviceId: r.device_id, signCount: Number(r.sign_count) } : {}),
    }));
  }

  async insertVote(tx: Tx, v: Vote): Promise<void> {
    await m(tx).query(`INSERT INTO "approval_vote" ("decision_id", "operator_id", "role", "verdict", "key_id", "signature", "voted_at", "device_id", "sign_count") VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9)`, [
      v.decisionId, v.operatorId, v.role, v.verdict, v.keyId, Buffer.from(v.signature), v.votedAt, v.deviceId ?? null, v.signCount ?? null,
    ]);
  }

  async lockDeviceCounter(tx: Tx, deviceId: string, operatorId: string): Promise<number> {
    await m(tx).query(`INSERT INTO "approval_device_counter" ("device_id", "operator_id", "sign_count", "updated_at") VALUES ($1, $2, 0, now()) ON CONFLICT ("device_id") DO NOTHING`, [deviceId, operatorId]);
    const rows = (await m(tx).query(`SELECT "sign_count" FROM "approval_device_counter" WHERE "device_id" = $1 FOR UPDATE`, [deviceId])) as { sign_count: string }[];
    return Number(rows[0]?.sign_count ?? 0);
  }

  async setDeviceCounter(tx: Tx, deviceId: string, signCount: number, at: Date): Promise<void> {
    await m(tx).query(`UPDATE "approval_device_counter" SET "sign_count" = $2, "updated_at" = $3 WHERE "device_id" = $1`, [deviceId, signCount, at]);
  }

  async publishDecided(tx: Tx, d: DecisionRecord, approvals: readonly Vote[], ctx: EventContext): Promise<void> {
    await enqueue(m(tx), [policyDecidedEntry(d, approvals, ctx, this.topicName)]);
  }
}

interface SignatureJson {
  adminId: string;
  keyId: string;
  signature: string;
}

const toJsonSignatures = (s: readonly AdminSignature[]): SignatureJson[] => s.map((x) => ({ adminId: x.adminId, keyId: x.keyId, signature: Buffer.from(x.signature).toString('hex') }));

function fromJsonSignatures(raw: unknown): AdminSignature[] {
  if (!Array.isArray(raw)) return [];
  return raw
    .filter((x): x is SignatureJson => typeof x === 'object' && x !== null && typeof (x as SignatureJson).adminId === 'string' && typeof (x as SignatureJson).keyId === 'string' && typeof (x as SignatureJson).signature === 'string')
    .map((x) => ({ adminId: x.adminId, keyId: x.keyId, signature: new Uint8Array(Buffer.from(x.signature, 'hex')) }));
}

export class PostgresBundleStore implements BundleStore {
  constructor(
    private readonly dataSource: DataSource,
    private readonly parse: (archive: Uint8Array) => PolicyBundle,
  ) {}

  private async load(state: string): Promise<StoredBundle | undefined> {
    const [r] = (await this.dataSource.query(`SELECT "archive", "signatures" FROM "policy_bundle" WHERE "state" = $1 ORDER BY "activated_at" DESC LIMIT 1`, [state])) as { archive: Buffer; signatures: unknown }[];
    if (!r) return undefined;
    const archive = new Uint8Array(r.archive);
    return { archive, bundle: this.parse(archive), signatures: fromJsonSignatures(r.signatures) };
  }

  loadActive(): Promise<StoredBundle | undefined> {
    return this.load('active');
  }

  loadPrevious(): Promise<StoredBundle | undefined> {
    return this.load('previous');
  }

  async saveActive(archive: Uint8Array, digest: string, activatedBy: readonly string[], signatures: readonly AdminSignature[], at: Date): Promise<void> {
    await this.dataSource.transaction(async (tx) => {
      await tx.query(`UPDATE "policy_bundle" SET "state" = 'retired' WHERE "state" = 'previous'`);
      await tx.query(`UPDATE "policy_bundle" SET "state" = 'previous' WHERE "state" = 'active' AND "digest" <> $1`, [digest]);
      await tx.query(
        `INSERT INTO "policy_bundle" ("digest", "archive", "state", "activated_by", "signatures", "activated_at") VALUES ($1, $2, 'active', $3, $4, $5)
         ON CONFLICT ("digest") DO UPDATE SET "state" = 'active', "activated_by" = EXCLUDED."activated_by", "signatures" = EXCLUDED."signatures", "activated_at" = EXCLUDED."activated_at"`,
        [digest, Buffer.from(archive), [...activatedBy], JSON.stringify(toJsonSignatures(signatures)), at],
      );
    });
  }

  async nextStaged(): Promise<{ id: string; archive: Uint8Array; signatures: AdminSignature[] } | undefined> {
    const [r] = (await this.dataSource.query(`SELECT "id", "archive", "signatures" FROM "bundle_activation_request" WHERE "state" = 'requested' ORDER BY "requested_at", "id" LIMIT 1`)) as {
      id: string;
      archive: Buffer;
      signatures: unknown;
    }[];
    return r ? { id: r.id, archive: new Uint8Array(r.archive), signatures: fromJsonSignatures(r.signatures) } : undefined;
  }

  async closeStaged(id: string, outcome: { activated: boolean; digest: string; reason: string }, at: Date): Promise<void> {
    await this.dataSource.query(`UPDATE "bundle_activation_request" SET "state" = $2, "digest" = $3, "outcome" = $4, "closed_at" = $5 WHERE "id" = $1`, [
      id,
      outcome.activated ? 'activated' : 'refused',
      outcome.digest,
      outcome.reason,
      at,
    ]);
  }
}

/** Stages an activation request (the policy-bundle CLI); the running service verifies it. */
export async function stageBundleActivation(dataSource: DataSource, archive: Uint8Array, signatures: readonly AdminSignature[], requestedBy: string, at: Date): Promise<string> {
  const [r] = (await dataSource.query(
    `INSERT INTO "bundle_activation_request" ("id", "archive", "signatures", "state", "digest", "outcome", "requested_by", "requested_at")
     VALUES (gen_random_uuid(), $1, $2, 'requested', '', '', $3, $4) RETURNING "id"`,
    [Buffer.from(archive), JSON.stringify(toJsonSignatures(signatures)), requestedBy, at],
  )) as { id: string }[];
  if (!r) throw new Error('activation request not stored');
  return r.id;
}

/** Stored evaluations for the backtest, newest first. */
export async function loadEvaluations(dataSource: DataSource, options: { limit: number; since?: Date }): Promise<import('../../application/backtest.js').StoredEvaluation[]> {
  const rows = (await dataSource.query(
    `SELECT e."id", e."decision_id", d."withdrawal_id", e."input", e."output", e."bundle_digest", e."evaluated_at"
       FROM "decision_evaluation" e JOIN "decision" d ON d."id" = e."decision_id"
      WHERE ($1::timestamptz IS NULL OR e."evaluated_at" >= $1) ORDER BY e."evaluated_at" DESC, e."id" LIMIT $2`,
    [options.since ?? null, options.limit],
  )) as { id: string; decision_id: string; withdrawal_id: string; input: PolicyInput; output: Decision; bundle_digest: string; evaluated_at: Date }[];
  return rows.map((r) => ({ id: r.id, decisionId: r.decision_id, withdrawalId: r.withdrawal_id, input: r.input, output: r.output, bundleDigest: r.bundle_digest, evaluatedAt: r.evaluated_at }));
}
