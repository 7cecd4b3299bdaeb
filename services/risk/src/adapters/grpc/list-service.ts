// gRPC adapter of custody.risk.v1.ScreeningListService (proto/custody/risk/v1/lists.proto),
// served with the ts-proto definition from @custody/contracts beside CaseService. Every call
// needs an authenticated operator (the same OperatorAuthenticator as CaseService); the
// operator identity is what the use cases audit, and every change carries the call's facts
// (certificate fingerprint, peer IP, correlation id) into the operator audit record first.
import type { Metadata, ServerUnaryCall } from '@grpc/grpc-js';
import {
  ImportEntryOutcome,
  InternalList,
  ListState,
  OfacListFormat,
  ScreeningListServiceService,
  timestampFromDate,
  timestampToDate,
  type InternalEntry,
  type ScreeningListServiceServer,
} from '@custody/contracts';
import { unaryHandler } from '@custody/platform';
import { addInternalEntry } from '../../application/admin.js';
import { importInternalEntries, type ImportOutcome } from '../../application/import-entries.js';
import { importListContent, isActive, listInternalEntries, listStatus, removeInternalEntryById, type ListAdminDeps, type PublishedListFormat } from '../../application/list-admin.js';
import type { InternalListEntryRecord } from '../../application/ports.js';
import { RiskError } from '../../domain/errors.js';
import type { ListFormat } from '../../domain/lists.js';
import { RISK_GRPC_CODES, type OperatorAuthenticator } from './case-service.js';
import { operatorCallContext } from './customer-profile-service.js';

export const SCREENING_LIST_SERVICE_NAME = 'custody.risk.v1.ScreeningListService';

export function screeningListServiceDefinition(): typeof ScreeningListServiceService {
  return ScreeningListServiceService;
}

const FORMAT_FROM_WIRE: Readonly<Partial<Record<OfacListFormat, PublishedListFormat>>> = {
  [OfacListFormat.OFAC_LIST_FORMAT_SDN_ADVANCED_XML]: 'sdn_advanced_xml',
  [OfacListFormat.OFAC_LIST_FORMAT_SDN_XML]: 'sdn_xml',
  [OfacListFormat.OFAC_LIST_FORMAT_SDN_CSV]: 'sdn_csv',
};
const FORMAT_TO_WIRE: Readonly<Record<ListFormat, OfacListFormat>> = {
  sdn_advanced_xml: OfacListFormat.OFAC_LIST_FORMAT_SDN_ADVANCED_XML,
  sdn_xml: OfacListFormat.OFAC_LIST_FORMAT_SDN_XML,
  sdn_csv: OfacListFormat.OFAC_LIST_FORMAT_SDN_CSV,
  synthetic: OfacListFormat.OFAC_LIST_FORMAT_UNSPECIFIED,
};

function listFromWire(list: InternalList, required: boolean): 'block' | 'allow' | undefined {
  if (list === InternalList.INTERNAL_LIST_BLOCK) return 'block';
  if (list === InternalList.INTERNAL_LIST_ALLOW) return 'allow';
  if (required || list !== InternalList.INTERNAL_LIST_UNSPECIFIED) throw new RiskError('INVALID_ARGUMENT', 'list must be INTERNAL_LIST_BLOCK or INTERNAL_LIST_ALLOW');
  return undefined;
}

const OUTCOME_TO_WIRE: Readonly<Record<ImportOutcome, ImportEntryOutcome>> = {
  added: ImportEntryOutcome.IMPORT_ENTRY_OUTCOME_ADDED,
  already_active: ImportEntryOutcome.IMPORT_ENTRY_OUTCOME_ALREADY_ACTIVE,
  rejected: ImportEntryOutcome.IMPORT_ENTRY_OUTCOME_REJECTED,
  would_add: ImportEntryOutcome.IMPORT_ENTRY_OUTCOME_WOULD_ADD,
};

const duration = (ms: number): { seconds: string; nanos: number } => {
  const whole = Math.trunc(ms / 1000);
  return { seconds: String(whole), nanos: Math.trunc(ms - whole * 1000) * 1_000_000 };
};

function entryToWire(e: InternalListEntryRecord, now: Date): InternalEntry {
  return {
    entryId: e.id,
    list: e.list === 'block' ? InternalList.INTERNAL_LIST_BLOCK : InternalList.INTERNAL_LIST_ALLOW,
    addressKey: e.addressKey,
    reason: e.reason,
    expiresAt: e.expiresAt ? timestampFromDate(e.expiresAt) : undefined,
    createdBy: e.createdBy,
    createdAt: timestampFromDate(e.createdAt),
    removedAt: e.removedAt ? timestampFromDate(e.removedAt) : undefined,
    removedBy: e.removedBy ?? '',
    active: isActive(e, now),
  };
}

export function screeningListServiceImplementation(deps: ListAdminDeps, authenticate: OperatorAuthenticator, onError?: (err: unknown) => void): ScreeningListServiceServer {
  const opts = { codeMap: RISK_GRPC_CODES, domain: 'risk.custody', ...(onError ? { onError: (e: unknown) => onError(e) } : {}) };
  const operatorOf = (call: ServerUnaryCall<unknown, unknown>): string => {
    const op = authenticate(call as unknown as { metadata: Metadata; getAuthContext?: () => unknown });
    if (!op) throw new RiskError('OPERATOR_UNAUTHENTICATED', 'compliance operator authentication required');
    return op;
  };
  const callOf = (call: unknown): ServerUnaryCall<unknown, unknown> => call as ServerUnaryCall<unknown, unknown>;
  return {
    importOfacList: unaryHandler(async (req, call) => {
      const operator = operatorOf(callOf(call));
      const formatHint = req.format === OfacListFormat.OFAC_LIST_FORMAT_UNSPECIFIED ? undefined : FORMAT_FROM_WIRE[req.format];
      if (req.format !== OfacListFormat.OFAC_LIST_FORMAT_UNSPECIFIED && !formatHint) throw new RiskError('INVALID_ARGUMENT', 'unknown format');
      const r = await importListContent(deps, { content: req.content, formatHint, note: req.note, operator, context: operatorCallContext(callOf(call)) });
      return {
        version: r.version,
        added: r.added.length,
        removed: r.removed.length,
        total: r.entryCount,
        importedAt: timestampFromDate(r.importedAt),
        changed: r.changed,
        previousVersion: r.previousVersion ?? '',
        format: FORMAT_TO_WIRE[r.format],
        warnings: r.warnings.slice(0, 100),
      };
    }, opts),
    getListStatus: unaryHandler(async (_req, call) => {
      operatorOf(callOf(call));
      const s = await listStatus(deps);
      const maxAge = duration(s.maxAgeSeconds * 1000);
      if (s.state === 'missing') return { source: s.source, version: '', state: ListState.LIST_STATE_MISSING, stale: true, maxAge, total: 0, format: OfacListFormat.OFAC_LIST_FORMAT_UNSPECIFIED };
      return {
        source: s.source,
        version: s.current.version,
        state: s.state === 'fresh' ? ListState.LIST_STATE_FRESH : ListState.LIST_STATE_STALE,
        stale: s.state === 'stale',
        importedAt: timestampFromDate(s.current.importedAt),
        checkedAt: timestampFromDate(s.current.checkedAt),
        age: duration(s.ageMs),
        maxAge,
        total: s.current.entryCount,
        format: FORMAT_TO_WIRE[s.current.format],
        publishedAt: s.current.publishedAt ? timestampFromDate(s.current.publishedAt) : undefined,
      };
    }, opts),
    addInternalEntry: unaryHandler(async (req, call) => {
      const operator = operatorOf(callOf(call));
      const list = listFromWire(req.list, true) ?? 'block';
      const expiresAt = req.expiresAt ? timestampToDate(req.expiresAt) : undefined;
      if (expiresAt && Number.isNaN(expiresAt.getTime())) throw new RiskError('INVALID_ARGUMENT', 'expires_at is not a valid timestamp');
      const entry = await addInternalEntry(deps, { list, chain: req.chain, address: req.address, reason: req.reason, expiresAt, by: operator, context: operatorCallContext(callOf(call)) });
      return { entry: entryToWire(entry, deps.clock.now()) };
    }, opts),
    removeInternalEntry: unaryHandler(async (req, call) => {
      const operator = operatorOf(callOf(call));
      const entry = await removeInternalEntryById(deps, req.entryId, operator, req.reason, operatorCallContext(callOf(call)));
      return { entry: entryToWire(entry, deps.clock.now()) };
    }, opts),
    listInternalEntries: unaryHandler(async (req, call) => {
      operatorOf(callOf(call));
      const page = await listInternalEntries(deps, { pageSize: req.pageSize, pageToken: req.pageToken, list: listFromWire(req.list, false), includeInactive: req.includeInactive });
      const now = deps.clock.now();
      return { entries: page.entries.map((e) => entryToWire(e, now)), nextPageToken: page.nextPageToken };
    }, opts),
    importInternalEntries: unaryHandler(async (req, call) => {
      const operator = operatorOf(callOf(call));
      const entries = req.entries.map((e) => ({
        line: e.line,
        list: e.list === InternalList.INTERNAL_LIST_BLOCK ? ('block' as const) : e.list === InternalList.INTERNAL_LIST_ALLOW ? ('allow' as const) : undefined,
        chain: e.chain,
        address: e.address,
        reason: e.reason,
        expiresAt: e.expiresAt ? timestampToDate(e.expiresAt) : undefined,
      }));
      const r = await importInternalEntries(deps, { entries, dryRun: req.dryRun, operator, context: operatorCallContext(callOf(call)) });
      return {
        results: r.results.map((x) => ({ line: x.line, outcome: OUTCOME_TO_WIRE[x.outcome], entryId: x.entryId, addressKey: x.addressKey, reasonCode: x.reasonCode, message: x.message })),
        added: r.added,
        alreadyActive: r.alreadyActive,
        rejected: r.rejected,
      };
    }, opts),
  };
}
