// TypeORM table definitions of the risk schema (EntitySchema: plain rows, not the domain
// objects). The migrations in migrations.ts create exactly these; a test asserts it.
import { EntitySchema } from 'typeorm';

const ts = { type: 'timestamptz' as const };
const tsNull = { type: 'timestamptz' as const, nullable: true };
const text = { type: 'text' as const };
const textNull = { type: 'text' as const, nullable: true };

export const CustomerEntity = new EntitySchema({
  name: 'RiskCustomer',
  tableName: 'risk_customer',
  columns: {
    customer_account: { type: 'text', primary: true },
    kyc_status: text,
    jurisdiction: text,
    opened_at: ts,
    updated_by: text,
    updated_at: ts,
    /** Optimistic concurrency of operator upserts (CustomerProfileService): 1, +1 per change. */
    version: { type: 'int', default: 1 },
  },
});

export const LockRowEntity = new EntitySchema({
  name: 'RiskLockRow',
  tableName: 'risk_lock_row',
  columns: {
    kind: { type: 'text', primary: true },
    key: { type: 'text', primary: true },
    touched_at: ts,
  },
});

export const MovementEntity = new EntitySchema({
  name: 'RiskMovement',
  tableName: 'risk_movement',
  columns: {
    id: { type: 'uuid', primary: true },
    subject_id: text,
    customer_account: text,
    counterparty_key: text,
    asset: text,
    amount: { type: 'numeric', precision: 78, scale: 0 },
    occurred_at: ts,
  },
  indices: [
    { name: 'risk_movement_customer_idx', columns: ['customer_account', 'occurred_at'] },
    { name: 'risk_movement_counterparty_idx', columns: ['counterparty_key', 'occurred_at'] },
    { name: 'risk_movement_pair_idx', columns: ['customer_account', 'counterparty_key'] },
  ],
});

export const ScreenedSubjectEntity = new EntitySchema({
  name: 'RiskScreenedSubject',
  tableName: 'risk_screened_subject',
  columns: {
    subject_kind: { type: 'text', primary: true },
    subject_id: { type: 'text', primary: true },
    screened_at: ts,
  },
});

export const AssessmentEntity = new EntitySchema({
  name: 'RiskAssessment',
  tableName: 'risk_assessment',
  columns: {
    id: { type: 'uuid', primary: true },
    subject_kind: text,
    subject_id: text,
    customer_account: text,
    verdict: text,
    score: { type: 'integer' },
    reasons: { type: 'jsonb' },
    list_version: text,
    lists_updated_at: tsNull,
    travel_rule_required: { type: 'boolean' },
    case_id: { type: 'uuid', nullable: true },
    resolved_by: textNull,
    supersedes_id: { type: 'uuid', nullable: true },
    assessed_at: ts,
  },
  indices: [{ name: 'risk_assessment_subject_idx', columns: ['subject_kind', 'subject_id'] }],
});

export const CaseEntity = new EntitySchema({
  name: 'RiskCase',
  tableName: 'risk_case',
  columns: {
    id: { type: 'uuid', primary: true },
    assessment_id: { type: 'uuid' },
    subject_kind: text,
    subject_id: text,
    customer_account: text,
    score: { type: 'integer' },
    reasons: { type: 'jsonb' },
    status: text,
    opened_at: ts,
    resolution: textNull,
    note: textNull,
    resolved_by: textNull,
    resolved_at: tsNull,
    correlation_id: text,
  },
  indices: [{ name: 'risk_case_queue_idx', columns: ['status', 'opened_at', 'id'] }],
});

export const ListVersionEntity = new EntitySchema({
  name: 'RiskListVersion',
  tableName: 'risk_list_version',
  columns: {
    version: { type: 'text', primary: true },
    source: text,
    format: text,
    published_at: tsNull,
    imported_at: ts,
    imported_by: text,
    entry_count: { type: 'integer' },
    added: { type: 'integer' },
    removed: { type: 'integer' },
    previous_version: textNull,
    checked_at: ts,
    is_current: { type: 'boolean' },
  },
  indices: [{ name: 'risk_list_version_current_idx', columns: ['source', 'is_current'] }],
});

export const ListEntryEntity = new EntitySchema({
  name: 'RiskListEntry',
  tableName: 'risk_list_entry',
  columns: {
    version: { type: 'text', primary: true },
    address_key: { type: 'text', primary: true },
    currency: text,
    address: text,
    party_ref: text,
    party_name: text,
  },
});

export const InternalEntryEntity = new EntitySchema({
  name: 'RiskInternalEntry',
  tableName: 'risk_internal_entry',
  columns: {
    id: { type: 'uuid', primary: true },
    list: text,
    address_key: text,
    reason: text,
    expires_at: tsNull,
    created_by: text,
    created_at: ts,
    removed_at: tsNull,
    removed_by: textNull,
  },
  indices: [
    { name: 'risk_internal_entry_key_idx', columns: ['address_key'] },
    // One unremoved entry per (list, address key): concurrent adds of the same address cannot both land.
    { name: 'risk_internal_entry_active_key', columns: ['list', 'address_key'], unique: true, where: '"removed_at" IS NULL' },
  ],
});

export const AuditLogEntity = new EntitySchema({
  name: 'RiskAuditLog',
  tableName: 'risk_audit_log',
  columns: {
    id: { type: 'uuid', primary: true },
    at: ts,
    actor: text,
    action: text,
    subject: text,
    detail: { type: 'jsonb' },
  },
  indices: [{ name: 'risk_audit_log_subject_idx', columns: ['subject', 'at'] }],
});

export const RISK_ENTITIES = [
  CustomerEntity,
  LockRowEntity,
  MovementEntity,
  ScreenedSubjectEntity,
  AssessmentEntity,
  CaseEntity,
  ListVersionEntity,
  ListEntryEntity,
  InternalEntryEntity,
  AuditLogEntity,
];
