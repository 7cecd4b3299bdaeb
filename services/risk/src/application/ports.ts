// Ports of the risk application layer. Adapters implement them (Postgres, HTTP provider,
// Kafka); tests use fakes of these interfaces.
import type { ListEntry, ListFormat } from '../domain/lists.js';
import type { Movement } from '../domain/rules.js';
import type { CustomerProfileRecord } from '../domain/customer-profile.js';
import type { CustomerProfile, KycStatus } from '../domain/screening.js';
import type { Reason, Verdict } from '../domain/verdict.js';

export interface Clock {
  now(): Date;
}

export type SubjectKind = 'withdrawal' | 'deposit' | 'own_address';

export interface Assessment {
  readonly id: string;
  readonly subjectKind: SubjectKind;
  readonly subjectId: string;
  readonly customerAccount: string;
  readonly verdict: Verdict;
  readonly score: number;
  readonly reasons: readonly Reason[];
  readonly listVersion: string;
  readonly listsUpdatedAt?: Date | undefined;
  readonly travelRuleRequired: boolean;
  readonly caseId?: string | undefined;
  readonly resolvedBy?: string | undefined;
  readonly supersedesAssessmentId?: string | undefined;
  readonly assessedAt: Date;
}

export type CaseStatus = 'OPEN' | 'RESOLVED';

export interface ComplianceCase {
  readonly id: string;
  readonly assessmentId: string;
  readonly subjectKind: SubjectKind;
  readonly subjectId: string;
  readonly customerAccount: string;
  readonly score: number;
  readonly reasons: readonly Reason[];
  readonly status: CaseStatus;
  readonly openedAt: Date;
  readonly resolution?: 'CLEAR' | 'BLOCK' | undefined;
  readonly note?: string | undefined;
  readonly resolvedBy?: string | undefined;
  readonly resolvedAt?: Date | undefined;
  readonly correlationId: string;
}

export interface EventMeta {
  readonly correlationId: string;
  readonly causationId?: string | undefined;
}

export interface CurrentList {
  readonly version: string;
  readonly checkedAt: Date;
}

export interface InternalListMatch {
  readonly block?: { readonly reason: string; readonly expiresAt?: Date | undefined } | undefined;
  readonly allow: boolean;
}

export interface BehaviourRows {
  readonly customerMovements: readonly Movement[];
  readonly counterpartyMovements: readonly Movement[];
  readonly counterpartySeenBefore: boolean;
  readonly lastCustomerMovementAt?: Date | undefined;
}

export interface AuditEntry {
  readonly actor: string;
  readonly action: string;
  readonly subject: string;
  readonly detail: Record<string, unknown>;
}

/** Everything one screening or case transaction does; all of it commits or none of it. */
export interface RiskTx {
  /** Records that a subject was screened; false if it already was (re-published event). */
  claimSubject(kind: SubjectKind, subjectId: string): Promise<boolean>;
  currentList(source: string): Promise<CurrentList | undefined>;
  customer(customerAccount: string): Promise<CustomerProfile | undefined>;
  internalLists(keys: readonly string[], at: Date): Promise<InternalListMatch>;
  /** Row lock on the customer's counter row (created on demand): serialises a customer's screenings. */
  lockCustomer(customerAccount: string): Promise<void>;
  /** Row lock on the counterparty's counter row: serialises per-destination sums. */
  lockCounterparty(counterpartyKey: string): Promise<void>;
  behaviour(customerAccount: string, counterpartyKey: string, since: Date): Promise<BehaviourRows>;
  recordMovement(movement: Movement & { readonly subjectId: string }): Promise<void>;
  saveAssessment(assessment: Assessment): Promise<void>;
  openCase(c: ComplianceCase): Promise<void>;
  openCaseExists(kind: SubjectKind, subjectId: string): Promise<boolean>;
  caseForUpdate(caseId: string): Promise<ComplianceCase | undefined>;
  resolveCase(caseId: string, resolution: 'CLEAR' | 'BLOCK', note: string, operator: string, at: Date): Promise<void>;
  assessment(id: string): Promise<Assessment | undefined>;
  /** custody.risk.assessed.v1 into the outbox, in this transaction. */
  emitAssessed(assessment: Assessment, meta: EventMeta): Promise<void>;
  audit(entry: AuditEntry, at: Date): Promise<void>;
}

export interface RiskUnitOfWork {
  /** Runs fn at most once per (group, event id) (inbox), in one transaction. */
  once<T>(groupId: string, eventId: string, fn: (tx: RiskTx) => Promise<T>): Promise<{ status: 'handled'; result: T } | { status: 'duplicate' }>;
  run<T>(fn: (tx: RiskTx) => Promise<T>): Promise<T>;
}

export interface ListImportRecord {
  readonly version: string;
  readonly source: string;
  readonly format: ListFormat;
  readonly publishedAt?: Date | undefined;
  readonly importedAt: Date;
  readonly importedBy: string;
  readonly entryCount: number;
  readonly added: number;
  readonly removed: number;
  readonly previousVersion?: string | undefined;
}

/** The current version's import record with its freshness (checked_at). */
export interface CurrentListRecord extends ListImportRecord {
  readonly checkedAt: Date;
}

export interface ListStore {
  current(source: string): Promise<CurrentList | undefined>;
  currentRecord(source: string): Promise<CurrentListRecord | undefined>;
  entries(version: string): Promise<ListEntry[]>;
  entryKeys(version: string): Promise<Set<string>>;
  /** Stores a new version (entries + record), makes it current and audits it, in one transaction. */
  saveVersion(record: ListImportRecord, entries: readonly ListEntry[], audit: AuditEntry): Promise<void>;
  /** Same content re-imported: confirm the current version is still current (freshness) and audit it. */
  confirmCurrent(source: string, version: string, at: Date, audit: AuditEntry): Promise<void>;
  history(source: string): Promise<ListImportRecord[]>;
}

export interface InternalListEntry {
  readonly id: string;
  readonly list: 'block' | 'allow';
  readonly addressKey: string;
  readonly reason: string;
  readonly expiresAt?: Date | undefined;
  readonly createdBy: string;
  readonly createdAt: Date;
}

/** An internal list entry as stored, including its removal (soft delete). */
export interface InternalListEntryRecord extends InternalListEntry {
  readonly removedAt?: Date | undefined;
  readonly removedBy?: string | undefined;
}

export interface InternalListPageQuery {
  readonly list?: 'block' | 'allow' | undefined;
  /** false: only entries neither removed nor expired at `at`. */
  readonly includeInactive: boolean;
  readonly at: Date;
  /** Keyset: entries created after this (created_at, id). */
  readonly after?: { readonly at: Date; readonly id: string } | undefined;
}

export interface InternalListStore {
  /**
   * Adds the entry with its audit row, unless an unremoved entry of the same list holds the
   * address key (unique): then nothing is written. An expired holder is retired first (as of
   * its expiry). Returns the id of the entry holding the key afterwards (entry.id = added).
   */
  add(entry: InternalListEntry, audit: AuditEntry): Promise<string>;
  remove(id: string, by: string, at: Date, audit: AuditEntry): Promise<boolean>;
  entry(id: string): Promise<InternalListEntryRecord | undefined>;
  /** Oldest first (created_at, id), at most `limit`. */
  page(limit: number, query: InternalListPageQuery): Promise<InternalListEntryRecord[]>;
}

export interface CustomerStore {
  /** Unconditional upsert (in-process recordCustomerProfile): the version goes up by one. */
  upsert(profile: CustomerProfile & { readonly updatedBy: string }, audit: AuditEntry, at: Date): Promise<void>;
  /**
   * Conditional write (operator API): creates the profile when expectedVersion is 0 and none
   * exists, else updates it only if it is at expectedVersion (version + 1) — with its audit-log
   * row, in one transaction. undefined = the condition did not hold (nothing written).
   */
  save(profile: CustomerProfile & { readonly updatedBy: string }, expectedVersion: number, audit: AuditEntry, at: Date): Promise<CustomerProfileRecord | undefined>;
  profile(customerAccount: string): Promise<CustomerProfileRecord | undefined>;
  /** Ordered by customer account, after `after` (exclusive). */
  profiles(limit: number, after?: string): Promise<CustomerProfileRecord[]>;
}

export interface CaseQuery {
  listOpen(limit: number, afterOpenedAt?: { at: Date; id: string }): Promise<ComplianceCase[]>;
}

export interface AddressRiskQuery {
  readonly chain: string;
  readonly address: string;
}

export type ProviderAnswer =
  | { readonly status: 'ok'; readonly score: number; readonly riskLabel: string; readonly categories: readonly string[] }
  | { readonly status: 'unavailable'; readonly detail: string };

/** External blockchain-analytics provider (address risk score and exposure). */
export interface AddressRiskProvider {
  readonly name: string;
  assess(query: AddressRiskQuery, signal: AbortSignal): Promise<ProviderAnswer>;
}

export type { KycStatus };
