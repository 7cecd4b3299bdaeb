// Postgres adapter for the risk ports: screening/case transactions (with the inbox and the
// outbox of @custody/event-bus), sanctions list versions, internal lists, customers, the
// case queue and the audit log. Raw SQL over TypeORM's EntityManager; every table is in
// the service schema (search_path).
import { randomUUID } from 'node:crypto';
import type { DataSource, EntityManager } from 'typeorm';
import { createEnvelope, enqueue, handleOnce } from '@custody/event-bus';
import { encodeEvent, RiskAssessed, RiskVerdict, timestampFromDate, Topics } from '@custody/contracts';
import type { ListEntry, ListFormat } from '../../domain/lists.js';
import type { Movement } from '../../domain/rules.js';
import type { CustomerProfileRecord } from '../../domain/customer-profile.js';
import type { CustomerProfile, KycStatus } from '../../domain/screening.js';
import type { Reason, Verdict } from '../../domain/verdict.js';
import type {
  Assessment,
  AuditEntry,
  BehaviourRows,
  CaseQuery,
  ComplianceCase,
  CurrentList,
  CurrentListRecord,
  CustomerStore,
  EventMeta,
  InternalListEntry,
  InternalListEntryRecord,
  InternalListMatch,
  InternalListPageQuery,
  InternalListStore,
  ListImportRecord,
  ListStore,
  RiskTx,
  RiskUnitOfWork,
  SubjectKind,
} from '../../application/ports.js';

export const RISK_PRODUCER = 'risk';

const VERDICT_WIRE: Readonly<Record<Verdict, RiskVerdict>> = { CLEAR: RiskVerdict.RISK_VERDICT_CLEAR, REVIEW: RiskVerdict.RISK_VERDICT_REVIEW, BLOCK: RiskVerdict.RISK_VERDICT_BLOCK };

/** The RiskAssessed message for an assessment (also used by tests to check the wire form). */
export function toRiskAssessed(a: Assessment): RiskAssessed {
  return RiskAssessed.fromPartial({
    assessmentId: a.id,
    withdrawalId: a.subjectKind === 'withdrawal' ? a.subjectId : '',
    depositId: a.subjectKind === 'deposit' ? a.subjectId : '',
    verdict: VERDICT_WIRE[a.verdict],
    score: a.score,
    reasons: a.reasons.map((r) => ({ code: r.code, detail: r.detail })),
    listVersion: a.listVersion,
    listsUpdatedAt: a.listsUpdatedAt ? timestampFromDate(a.listsUpdatedAt) : undefined,
    assessedAt: timestampFromDate(a.assessedAt),
    customerAccount: a.customerAccount,
    travelRuleRequired: a.travelRuleRequired,
    caseId: a.caseId ?? '',
    resolvedBy: a.resolvedBy ?? '',
    supersedesAssessmentId: a.supersedesAssessmentId ?? '',
  });
}

interface CaseRow {
  id: string;
  assessment_id: string;
  subject_kind: SubjectKind;
  subject_id: string;
  customer_account: string;
  score: number;
  reasons: Reason[];
  status: 'OPEN' | 'RESOLVED';
  opened_at: Date;
  resolution: 'CLEAR' | 'BLOCK' | null;
  note: string | null;
  resolved_by: string | null;
  resolved_at: Date | null;
  correlation_id: string;
}

function caseFromRow(r: CaseRow): ComplianceCase {
  return {
    id: r.id,
    assessmentId: r.assessment_id,
    subjectKind: r.subject_kind,
    subjectId: r.subject_id,
    customerAccount: r.customer_account,
    score: r.score,
    reasons: r.reasons,
    status: r.status,
    openedAt: r.opened_at,
    resolution: r.resolution ?? undefined,
    note: r.note ?? undefined,
    resolvedBy: r.resolved_by ?? undefined,
    resolvedAt: r.resolved_at ?? undefined,
    correlationId: r.correlation_id,
  };
}

async function writeAudit(m: EntityManager, entry: AuditEntry, at: Date): Promise<void> {
  await m.query(`INSERT INTO "risk_audit_log" ("id", "at", "actor", "action", "subject", "detail") VALUES ($1, $2, $3, $4, $5, $6)`, [randomUUID(), at, entry.actor, entry.action, entry.subject, JSON.stringify(entry.detail)]);
}

class PgRiskTx implements RiskTx {
  constructor(
    private readonly m: EntityManager,
    private readonly assessedTopic: string,
  ) {}

  async claimSubject(kind: SubjectKind, subjectId: string): Promise<boolean> {
    const rows = (await this.m.query(`INSERT INTO "risk_screened_subject" ("subject_kind", "subject_id", "screened_at") VALUES ($1, $2, now()) ON CONFLICT DO NOTHING RETURNING "subject_id"`, [kind, subjectId])) as unknown[];
    return rows.length === 1;
  }

  async currentList(source: string): Promise<CurrentList | undefined> {
    const [row] = (await this.m.query(`SELECT "version", "checked_at" FROM "risk_list_version" WHERE "source" = $1 AND "is_current"`, [source])) as { version: string; checked_at: Date }[];
    return row ? { version: row.version, checkedAt: row.checked_at } : undefined;
  }

  async customer(customerAccount: string): Promise<CustomerProfile | undefined> {
    const [row] = (await this.m.query(`SELECT "customer_account", "kyc_status", "jurisdiction", "opened_at" FROM "risk_customer" WHERE "customer_account" = $1`, [customerAccount])) as { customer_account: string; kyc_status: KycStatus; jurisdiction: string; opened_at: Date }[];
    return row ? { customerAccount: row.customer_account, kycStatus: row.kyc_status, jurisdiction: row.jurisdiction, openedAt: row.opened_at } : undefined;
  }

  async internalLists(keys: readonly string[], at: Date): Promise<InternalListMatch> {
    const rows = (await this.m.query(
      `SELECT "list", "reason", "expires_at" FROM "risk_internal_entry"
        WHERE "address_key" = ANY($1::text[]) AND "removed_at" IS NULL AND ("expires_at" IS NULL OR "expires_at" > $2)
        ORDER BY "created_at"`,
      [keys, at],
    )) as { list: 'block' | 'allow'; reason: string; expires_at: Date | null }[];
    const block = rows.find((r) => r.list === 'block');
    return { block: block ? { reason: block.reason, expiresAt: block.expires_at ?? undefined } : undefined, allow: rows.some((r) => r.list === 'allow') };
  }

  private async lockRow(kind: string, key: string): Promise<void> {
    await this.m.query(`INSERT INTO "risk_lock_row" ("kind", "key", "touched_at") VALUES ($1, $2, now()) ON CONFLICT DO NOTHING`, [kind, key]);
    await this.m.query(`SELECT 1 FROM "risk_lock_row" WHERE "kind" = $1 AND "key" = $2 FOR UPDATE`, [kind, key]);
  }

  lockCustomer(customerAccount: string): Promise<void> {
    return this.lockRow('customer', customerAccount);
  }

  lockCounterparty(counterpartyKey: string): Promise<void> {
    return this.lockRow('counterparty', counterpartyKey);
  }

  async behaviour(customerAccount: string, counterpartyKey: string, since: Date): Promise<BehaviourRows> {
    type Row = { occurred_at: Date; asset: string; amount: string; customer_account: string; counterparty_key: string };
    const toMovement = (r: Row): Movement => ({ at: r.occurred_at, asset: r.asset, amount: BigInt(r.amount), customerAccount: r.customer_account, counterpartyKey: r.counterparty_key });
    const cols = `"occurred_at", "asset", "amount"::text AS "amount", "customer_account", "counterparty_key"`;
    const customerRows = (await this.m.query(`SELECT ${cols} FROM "risk_movement" WHERE "customer_account" = $1 AND "occurred_at" > $2`, [customerAccount, since])) as Row[];
    const counterpartyRows = (await this.m.query(`SELECT ${cols} FROM "risk_movement" WHERE "counterparty_key" = $1 AND "occurred_at" > $2`, [counterpartyKey, since])) as Row[];
    const [seen] = (await this.m.query(`SELECT EXISTS (SELECT 1 FROM "risk_movement" WHERE "customer_account" = $1 AND "counterparty_key" = $2) AS "seen"`, [customerAccount, counterpartyKey])) as { seen: boolean }[];
    const [last] = (await this.m.query(`SELECT max("occurred_at") AS "at" FROM "risk_movement" WHERE "customer_account" = $1`, [customerAccount])) as { at: Date | null }[];
    return { customerMovements: customerRows.map(toMovement), counterpartyMovements: counterpartyRows.map(toMovement), counterpartySeenBefore: seen?.seen ?? false, lastCustomerMovementAt: last?.at ?? undefined };
  }

  async recordMovement(mv: Movement & { readonly subjectId: string }): Promise<void> {
    await this.m.query(`INSERT INTO "risk_movement" ("id", "subject_id", "customer_account", "counterparty_key", "asset", "amount", "occurred_at") VALUES ($1, $2, $3, $4, $5, $6, $7)`, [randomUUID(), mv.subjectId, mv.customerAccount, mv.counterpartyKey, mv.asset, mv.amount.toString(), mv.at]);
  }

  async saveAssessment(a: Assessment): Promise<void> {
    await this.m.query(
      `INSERT INTO "risk_assessment" ("id", "subject_kind", "subject_id", "customer_account", "verdict", "score", "reasons", "list_version", "lists_updated_at", "travel_rule_required", "case_id", "resolved_by", "supersedes_id", "assessed_at")
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)`,
      [a.id, a.subjectKind, a.subjectId, a.customerAccount, a.verdict, a.score, JSON.stringify(a.reasons), a.listVersion, a.listsUpdatedAt ?? null, a.travelRuleRequired, a.caseId ?? null, a.resolvedBy ?? null, a.supersedesAssessmentId ?? null, a.assessedAt],
    );
  }

  async assessment(id: string): Promise<Assessment | undefined> {
    const [r] = (await this.m.query(`SELECT * FROM "risk_assessment" WHERE "id" = $1`, [id])) as Record<string, unknown>[];
    if (!r) return undefined;
    return {
      id: r['id'] as string,
      subjectKind: r['subject_kind'] as SubjectKind,
      subjectId: r['subject_id'] as string,
      customerAccount: r['customer_account'] as string,
      verdict: r['verdict'] as Verdict,
      score: r['score'] as number,
      reasons: r['reasons'] as Reason[],
      listVersion: r['list_version'] as string,
      listsUpdatedAt: (r['lists_updated_at'] as Date | null) ?? undefined,
      travelRuleRequired: r['travel_rule_required'] as boolean,
      caseId: (r['case_id'] as string | null) ?? undefined,
      resolvedBy: (r['resolved_by'] as string | null) ?? undefined,
      supersedesAssessmentId: (r['supersedes_id'] as string | null) ?? undefined,
      assessedAt: r['assessed_at'] as Date,
    };
  }

  async openCase(c: ComplianceCase): Promise<void> {
    await this.m.query(
      `INSERT INTO "risk_case" ("id", "assessment_id", "subject_kind", "subject_id", "customer_account", "score", "reasons", "status", "opened_at", "correlation_id")
       VALUES ($1, $2, $3, $4, $5, $6, $7, 'OPEN', $8, $9)`,
      [c.id, c.assessmentId, c.subjectKind, c.subjectId, c.customerAccount, c.score, JSON.stringify(c.reasons), c.openedAt, c.correlationId],
    );
  }

  async openCaseExists(kind: SubjectKind, subjectId: string): Promise<boolean> {
    const rows = (await this.m.query(`SELECT 1 FROM "risk_case" WHERE "subject_kind" = $1 AND "subject_id" = $2 AND "status" = 'OPEN' LIMIT 1`, [kind, subjectId])) as unknown[];
    return rows.length > 0;
  }

  async caseForUpdate(caseId: string): Promise<ComplianceCase | undefined> {
    const [r] = (await this.m.query(`SELECT * FROM "risk_case" WHERE "id" = $1 FOR UPDATE`, [caseId])) as CaseRow[];
    return r ? caseFromRow(r) : undefined;
  }

  async resolveCase(caseId: string, resolution: 'CLEAR' | 'BLOCK', note: string, operator: string, at: Date): Promise<void> {
    await this.m.query(`UPDATE "risk_case" SET "status" = 'RESOLVED', "resolution" = $2, "note" = $3, "resolved_by" = $4, "resolved_at" = $5 WHERE "id" = $1 AND "status" = 'OPEN'`, [caseId, resolution, note, operator, at]);
  }

  async emitAssessed(a: Assessment, meta: EventMeta): Promise<void> {
    const envelope = createEnvelope({
      type: Topics.riskAssessed,
      key: a.subjectId,
      correlationId: meta.correlationId,
      causationId: meta.causationId,
      producer: RISK_PRODUCER,
      schemaVersion: 1,
      payload: encodeEvent(Topics.riskAssessed, toRiskAssessed(a)),
      occurredAt: a.assessedAt,
    });
    await enqueue(this.m, [{ topic: this.assessedTopic, envelope }]);
  }

  audit(entry: AuditEntry, at: Date): Promise<void> {
    return writeAudit(this.m, entry, at);
  }
}

const INSERT_CHUNK = 5000;

export interface PgRiskStoreOptions {
  /** Topic the assessments are published on (default custody.risk.assessed.v1; tests use a prefixed copy). */
  readonly assessedTopic?: string;
}

interface CustomerRow {
  customer_account: string;
  kyc_status: KycStatus;
  jurisdiction: string;
  opened_at: Date;
  updated_by: string;
  updated_at: Date;
  version: number;
}

const customerRecord = (r: CustomerRow): CustomerProfileRecord => ({
  customerAccount: r.customer_account,
  kycStatus: r.kyc_status,
  jurisdiction: r.jurisdiction,
  openedAt: r.opened_at,
  updatedBy: r.updated_by,
  updatedAt: r.updated_at,
  version: Number(r.version),
});

/** removed_by of an entry retired because it had expired when the same key was added again. */
export const EXPIRED_BY = 'system:expired';

export class PgRiskStore implements RiskUnitOfWork, ListStore, InternalListStore, CustomerStore, CaseQuery {
  private readonly assessedTopic: string;

  constructor(
    private readonly ds: DataSource,
    options: PgRiskStoreOptions = {},
  ) {
    this.assessedTopic = options.assessedTopic ?? Topics.riskAssessed;
  }

  async once<T>(groupId: string, eventId: string, fn: (tx: RiskTx) => Promise<T>): Promise<{ status: 'handled'; result: T } | { status: 'duplicate' }> {
    return handleOnce(this.ds, groupId, { id: eventId }, (m) => fn(new PgRiskTx(m, this.assessedTopic)));
  }

  run<T>(fn: (tx: RiskTx) => Promise<T>): Promise<T> {
    return this.ds.transaction((m) => fn(new PgRiskTx(m, this.assessedTopic)));
  }

  // --- lists -------------------------------------------------------------------------
  async current(source: string): Promise<CurrentList | undefined> {
    const [row] = (await this.ds.query(`SELECT "version", "checked_at" FROM "risk_list_version" WHERE "source" = $1 AND "is_current"`, [source])) as { version: string; checked_at: Date }[];
    return row ? { version: row.version, checkedAt: row.checked_at } : undefined;
  }

  async currentRecord(source: string): Promise<CurrentListRecord | undefined> {
    const [r] = (await this.ds.query(`SELECT * FROM "risk_list_version" WHERE "source" = $1 AND "is_current"`, [source])) as Record<string, unknown>[];
    return r ? { ...versionRecord(r), checkedAt: r['checked_at'] as Date } : undefined;
  }

  async entries(version: string): Promise<ListEntry[]> {
    const rows = (await this.ds.query(`SELECT "address_key", "currency", "address", "party_ref", "party_name" FROM "risk_list_entry" WHERE "version" = $1`, [version])) as { address_key: string; currency: string; address: string; party_ref: string; party_name: string }[];
    return rows.map((r) => ({ key: r.address_key, currency: r.currency, address: r.address, partyRef: r.party_ref, partyName: r.party_name }));
  }

  async entryKeys(version: string): Promise<Set<string>> {
    const rows = (await this.ds.query(`SELECT "address_key" FROM "risk_list_entry" WHERE "version" = $1`, [version])) as { address_key: string }[];
    return new Set(rows.map((r) => r.address_key));
  }

  async saveVersion(record: ListImportRecord, entries: readonly ListEntry[], audit: AuditEntry): Promise<void> {
    await this.ds.transaction(async (m) => {
      // Serialise imports of one source: the "current" flag moves exactly once per import.
      await m.query(`SELECT pg_advisory_xact_lock(hashtextextended($1, 0))`, [`risk.list-import:${record.source}`]);
      const exists = (await m.query(`SELECT 1 FROM "risk_list_version" WHERE "version" = $1`, [record.version])) as unknown[];
      if (exists.length === 0) {
        for (let i = 0; i < entries.length; i += INSERT_CHUNK) {
          const chunk = entries.slice(i, i + INSERT_CHUNK);
          await m.query(
            `INSERT INTO "risk_list_entry" ("version", "address_key", "currency", "address", "party_ref", "party_name")
             SELECT $1, * FROM unnest($2::text[], $3::text[], $4::text[], $5::text[], $6::text[])`,
            [record.version, chunk.map((e) => e.key), chunk.map((e) => e.currency), chunk.map((e) => e.address), chunk.map((e) => e.partyRef), chunk.map((e) => e.partyName)],
          );
        }
      }
      await m.query(`UPDATE "risk_list_version" SET "is_current" = false WHERE "source" = $1 AND "is_current"`, [record.source]);
      await m.query(
        `INSERT INTO "risk_list_version" ("version", "source", "format", "published_at", "imported_at", "imported_by", "entry_count", "added", "removed", "previous_version", "checked_at", "is_current")
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $5, true)
         ON CONFLICT ("version") DO UPDATE SET "is_current" = true, "checked_at" = EXCLUDED."checked_at", "previous_version" = EXCLUDED."previous_version", "added" = EXCLUDED."added", "removed" = EXCLUDED."removed"`,
        [record.version, record.source, record.format, record.publishedAt ?? null, record.importedAt, record.importedBy, record.entryCount, record.added, record.removed, record.previousVersion ?? null],
      );
      await writeAudit(m, audit, record.importedAt);
    });
  }

  async confirmCurrent(source: string, version: string, at: Date, audit: AuditEntry): Promise<void> {
    await this.ds.transaction(async (m) => {
      await m.query(`UPDATE "risk_list_version" SET "checked_at" = $3 WHERE "source" = $1 AND "version" = $2 AND "is_current"`, [source, version, at]);
      await writeAudit(m, audit, at);
    });
  }

  async history(source: string): Promise<ListImportRecord[]> {
    const rows = (await this.ds.query(`SELECT * FROM "risk_list_version" WHERE "source" = $1 ORDER BY "imported_at"`, [source])) as Record<string, unknown>[];
    return rows.map(versionRecord);
  }

  // --- internal lists, customers --------------------------------------------------------
  async add(e: InternalListEntry, audit: AuditEntry): Promise<string> {
    return this.ds.transaction(async (m) => {
      // An expired entry still holds the unique key of unremoved entries (list, address_key):
      // it is retired as of its expiry (it was already inactive since then) so the new one can take it.
      await m.query(
        `UPDATE "risk_internal_entry" SET "removed_at" = "expires_at", "removed_by" = $4
          WHERE "list" = $1 AND "address_key" = $2 AND "removed_at" IS NULL AND "expires_at" IS NOT NULL AND "expires_at" <= $3`,
        [e.list, e.addressKey, e.createdAt, EXPIRED_BY],
      );
      // Idempotent under concurrency: a concurrent add of the same key waits for the first and then inserts nothing.
      const inserted = (await m.query(
        `INSERT INTO "risk_internal_entry" ("id", "list", "address_key", "reason", "expires_at", "created_by", "created_at") VALUES ($1, $2, $3, $4, $5, $6, $7)
          ON CONFLICT ("list", "address_key") WHERE "removed_at" IS NULL DO NOTHING RETURNING "id"`,
        [e.id, e.list, e.addressKey, e.reason, e.expiresAt ?? null, e.createdBy, e.createdAt],
      )) as Array<{ id: string }>;
      if (inserted.length > 0) {
        await writeAudit(m, audit, e.createdAt);
        return e.id;
      }
      const [holder] = (await m.query(`SELECT "id" FROM "risk_internal_entry" WHERE "list" = $1 AND "address_key" = $2 AND "removed_at" IS NULL`, [e.list, e.addressKey])) as Array<{ id: string }>;
      if (!holder) throw new Error(`internal list entry ${e.list}/${e.addressKey}: conflict without a holding entry`);
      return holder.id;
    });
  }

  async remove(id: string, by: string, at: Date, audit: AuditEntry): Promise<boolean> {
    return this.ds.transaction(async (m) => {
      const rows = (await m.query(`UPDATE "risk_internal_entry" SET "removed_at" = $2, "removed_by" = $3 WHERE "id" = $1 AND "removed_at" IS NULL RETURNING "id"`, [id, at, by])) as [unknown[], number] | unknown[];
      const count = Array.isArray(rows[0]) ? (rows as [unknown[], number])[1] : rows.length;
      if (count > 0) await writeAudit(m, audit, at);
      return count > 0;
    });
  }

  async entry(id: string): Promise<InternalListEntryRecord | undefined> {
    const [r] = (await this.ds.query(`SELECT * FROM "risk_internal_entry" WHERE "id" = $1`, [id])) as InternalEntryRow[];
    return r ? internalEntryRecord(r) : undefined;
  }

  async page(limit: number, q: InternalListPageQuery): Promise<InternalListEntryRecord[]> {
    const where: string[] = [];
    const params: unknown[] = [];
    const param = (v: unknown): string => `$${params.push(v)}`;
    if (q.list) where.push(`"list" = ${param(q.list)}`);
    if (!q.includeInactive) where.push(`"removed_at" IS NULL AND ("expires_at" IS NULL OR "expires_at" > ${param(q.at)})`);
    if (q.after) where.push(`("created_at", "id") > (${param(q.after.at)}, ${param(q.after.id)}::uuid)`);
    const rows = (await this.ds.query(
      `SELECT * FROM "risk_internal_entry" ${where.length ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY "created_at", "id" LIMIT ${param(limit)}`,
      params,
    )) as InternalEntryRow[];
    return rows.map(internalEntryRecord);
  }

  async upsert(p: CustomerProfile & { readonly updatedBy: string }, audit: AuditEntry, at: Date): Promise<void> {
    await this.ds.transaction(async (m) => {
      await m.query(
        `INSERT INTO "risk_customer" ("customer_account", "kyc_status", "jurisdiction", "opened_at", "updated_by", "updated_at", "version") VALUES ($1, $2, $3, $4, $5, $6, 1)
         ON CONFLICT ("customer_account") DO UPDATE SET "kyc_status" = EXCLUDED."kyc_status", "jurisdiction" = EXCLUDED."jurisdiction", "opened_at" = EXCLUDED."opened_at", "updated_by" = EXCLUDED."updated_by", "updated_at" = EXCLUDED."updated_at", "version" = "risk_customer"."version" + 1`,
        [p.customerAccount, p.kycStatus, p.jurisdiction, p.openedAt, p.updatedBy, at],
      );
      await writeAudit(m, audit, at);
    });
  }

  async save(p: CustomerProfile & { readonly updatedBy: string }, expectedVersion: number, audit: AuditEntry, at: Date): Promise<CustomerProfileRecord | undefined> {
    return this.ds.transaction(async (m) => {
      const rows = (await (expectedVersion === 0
        ? m.query(
            `INSERT INTO "risk_customer" ("customer_account", "kyc_status", "jurisdiction", "opened_at", "updated_by", "updated_at", "version") VALUES ($1, $2, $3, $4, $5, $6, 1)
             ON CONFLICT ("customer_account") DO NOTHING RETURNING *`,
            [p.customerAccount, p.kycStatus, p.jurisdiction, p.openedAt, p.updatedBy, at],
          )
        : m.query(
            `UPDATE "risk_customer" SET "kyc_status" = $2, "jurisdiction" = $3, "opened_at" = $4, "updated_by" = $5, "updated_at" = $6, "version" = "version" + 1
             WHERE "customer_account" = $1 AND "version" = $7 RETURNING *`,
            [p.customerAccount, p.kycStatus, p.jurisdiction, p.openedAt, p.updatedBy, at, expectedVersion],
          ))) as CustomerRow[] | [CustomerRow[], number];
      const list = Array.isArray(rows[0]) ? (rows as [CustomerRow[], number])[0] : (rows as CustomerRow[]);
      const [row] = list;
      if (!row) return undefined;
      await writeAudit(m, audit, at);
      return customerRecord(row);
    });
  }

  async profile(customerAccount: string): Promise<CustomerProfileRecord | undefined> {
    const [row] = (await this.ds.query(`SELECT * FROM "risk_customer" WHERE "customer_account" = $1`, [customerAccount])) as CustomerRow[];
    return row ? customerRecord(row) : undefined;
  }

  async profiles(limit: number, after?: string): Promise<CustomerProfileRecord[]> {
    const rows = (await (after === undefined
      ? this.ds.query(`SELECT * FROM "risk_customer" ORDER BY "customer_account" COLLATE "C" LIMIT $1`, [limit])
      : this.ds.query(`SELECT * FROM "risk_customer" WHERE "customer_account" COLLATE "C" > $2 ORDER BY "customer_account" COLLATE "C" LIMIT $1`, [limit, after]))) as CustomerRow[];
    return rows.map(customerRecord);
  }

  // --- case queue ------------------------------------------------------------------------
  async listOpen(limit: number, after?: { at: Date; id: string }): Promise<ComplianceCase[]> {
    const rows = (await (after
      ? this.ds.query(`SELECT * FROM "risk_case" WHERE "status" = 'OPEN' AND ("opened_at", "id") > ($2, $3::uuid) ORDER BY "opened_at", "id" LIMIT $1`, [limit, after.at, after.id])
      : this.ds.query(`SELECT * FROM "risk_case" WHERE "status" = 'OPEN' ORDER BY "opened_at", "id" LIMIT $1`, [limit]))) as CaseRow[];
    return rows.map(caseFromRow);
  }
}

function versionRecord(r: Record<string, unknown>): ListImportRecord {
  return {
    version: r['version'] as string,
    source: r['source'] as string,
    format: r['format'] as ListFormat,
    publishedAt: (r['published_at'] as Date | null) ?? undefined,
    importedAt: r['imported_at'] as Date,
    importedBy: r['imported_by'] as string,
    entryCount: r['entry_count'] as number,
    added: r['added'] as number,
    removed: r['removed'] as number,
    previousVersion: (r['previous_version'] as string | null) ?? undefined,
  };
}

interface InternalEntryRow {
  id: string;
  list: 'block' | 'allow';
  address_key: string;
  reason: string;
  expires_at: Date | null;
  created_by: string;
  created_at: Date;
  removed_at: Date | null;
  removed_by: string | null;
}

function internalEntryRecord(r: InternalEntryRow): InternalListEntryRecord {
  return {
    id: r.id,
    list: r.list,
    addressKey: r.address_key,
    reason: r.reason,
    expiresAt: r.expires_at ?? undefined,
    createdBy: r.created_by,
    createdAt: r.created_at,
    removedAt: r.removed_at ?? undefined,
    removedBy: r.removed_by ?? undefined,
  };
}
