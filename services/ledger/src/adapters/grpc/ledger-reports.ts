// LedgerService handlers for customer statements and proof of liabilities (spread into
// createLedgerService). Timestamps: booking times are whole milliseconds, so a period
// [from, to) given in nanoseconds is [ceil_ms(from), ceil_ms(to)) on them. Building a
// snapshot needs an authenticated operator (mTLS client certificate CN by default).
import { status, type Metadata } from '@grpc/grpc-js';
import { EntryKind, timestampFromDate, timestampToMillis, type LedgerServiceServer } from '@custody/contracts';
import { unaryHandler, type GrpcCodeMap, type UnaryHandlerOptions } from '@custody/platform';
import type { LiabilitiesProofs, StoredSnapshot } from '../../application/liabilities.js';
import type { LedgerStatements } from '../../application/statements.js';
import { InvalidArgumentError } from '../../domain/errors.js';
import type { EntryKind as DomainKind } from '../../domain/postings.js';
import { referenceKind, type StatementBalance } from '../../domain/statement.js';

export const REPORT_ERROR_CODES: GrpcCodeMap = Object.freeze({
  ASSET_INVALID: status.INVALID_ARGUMENT,
  PERIOD_INVALID: status.INVALID_ARGUMENT,
  PERIOD_TOO_LONG: status.INVALID_ARGUMENT,
  TIMESTAMP_INVALID: status.INVALID_ARGUMENT,
  SNAPSHOT_ID_INVALID: status.INVALID_ARGUMENT,
  SNAPSHOT_NOT_FOUND: status.NOT_FOUND,
  LEAF_NOT_FOUND: status.NOT_FOUND,
  LIABILITIES_NO_CUSTOMERS: status.FAILED_PRECONDITION,
  OPERATOR_UNAUTHENTICATED: status.UNAUTHENTICATED,
  // The books or a stored snapshot do not add up: never answered with wrong figures.
  STATEMENT_INCONSISTENT: status.INTERNAL,
  LIABILITIES_BOOKS_INCONSISTENT: status.INTERNAL,
  LIABILITIES_SNAPSHOT_CORRUPT: status.INTERNAL,
  LIABILITIES_TREE_INVALID: status.INTERNAL,
});

/** Who is calling; undefined when the caller is not an authenticated operator. */
export type OperatorAuthenticator = (call: { readonly metadata: Metadata; getAuthContext?: () => unknown }) => string | undefined;

/** mTLS: the operator id is the client certificate's subject CN (the server must require client certificates). */
export const mtlsOperator: OperatorAuthenticator = (call) => {
  const ctx = call.getAuthContext?.() as { sslPeerCertificate?: { subject?: { CN?: string } } } | undefined;
  const cn = ctx?.sslPeerCertificate?.subject?.CN;
  return typeof cn === 'string' && /^[A-Za-z0-9._@-]{1,128}$/.test(cn) ? cn : undefined;
};

const KIND: Readonly<Record<DomainKind, EntryKind>> = {
  DEPOSIT: EntryKind.ENTRY_KIND_DEPOSIT,
  DEPOSIT_REVERSAL: EntryKind.ENTRY_KIND_DEPOSIT_REVERSAL,
  HOLD: EntryKind.ENTRY_KIND_HOLD,
  RELEASE: EntryKind.ENTRY_KIND_RELEASE,
  SETTLE: EntryKind.ENTRY_KIND_SETTLE,
  REVERSAL: EntryKind.ENTRY_KIND_REVERSAL,
  TRANSFER: EntryKind.ENTRY_KIND_TRANSFER,
};

const balance = (b: StatementBalance) => ({ available: b.available.toString(), held: b.held.toString(), total: (b.available + b.held).toString() });

/** A Timestamp rounded UP to the millisecond (undefined if absent). */
function ceilMillis(field: string, ts: { seconds: string; nanos: number } | undefined): Date | undefined {
  if (!ts) return undefined;
  let ms: number;
  try {
    ms = timestampToMillis(ts) + (ts.nanos % 1_000_000 === 0 ? 0 : 1);
  } catch {
    throw new InvalidArgumentError(field, 'TIMESTAMP_INVALID', 'is not a valid timestamp');
  }
  const d = new Date(ms);
  if (Number.isNaN(d.getTime())) throw new InvalidArgumentError(field, 'TIMESTAMP_INVALID', 'is out of range');
  return d;
}

function snapshotToWire(s: StoredSnapshot) {
  return {
    snapshotId: s.snapshotId,
    asset: s.asset,
    scheme: s.scheme,
    rootHash: s.rootHash,
    total: s.total.toString(),
    leafCount: s.leafCount.toString(),
    asOfSequence: s.asOfSequence.toString(),
    asOf: timestampFromDate(s.asOf),
    builtBy: s.builtBy,
  };
}

export function createReportHandlers(deps: {
  readonly statements: LedgerStatements;
  readonly liabilities: LiabilitiesProofs;
  readonly operator: OperatorAuthenticator;
  readonly clock: () => Date;
  readonly options: UnaryHandlerOptions;
}): Pick<LedgerServiceServer, 'getStatement' | 'buildLiabilitiesSnapshot' | 'getLiabilitiesProof'> {
  const { options } = deps;
  return {
    getStatement: unaryHandler(async (req) => {
      const generatedAt = deps.clock();
      const s = await deps.statements.statement({
        clientId: req.clientId,
        customerAccount: req.customerAccount,
        asset: req.asset,
        from: ceilMillis('from', req.from),
        to: ceilMillis('to', req.to),
        pageSize: req.pageSize,
        pageToken: req.pageToken,
      });
      return {
        account: s.account,
        asset: s.asset,
        from: timestampFromDate(s.from),
        to: timestampFromDate(s.to),
        opening: balance(s.opening),
        closing: balance(s.closing),
        lines: s.lines.map((l) => ({
          sequence: l.sequence.toString(),
          lineNo: l.lineNo,
          entryId: l.entryId,
          kind: KIND[l.kind],
          causeEventId: l.causeEventId,
          bucket: l.bucket,
          amount: l.amount.toString(),
          bookedAt: timestampFromDate(l.bookedAt),
          withdrawalId: referenceKind(l.kind) === 'withdrawal' ? l.referenceId : '',
          depositId: referenceKind(l.kind) === 'deposit' ? l.referenceId : '',
          correlationId: l.correlationId,
          balanceAfter: balance(l.balanceAfter),
        })),
        pageOpening: balance(s.pageOpening),
        pageClosing: balance(s.pageClosing),
        nextPageToken: s.nextPageToken,
        generatedAt: timestampFromDate(generatedAt),
      };
    }, options),
    buildLiabilitiesSnapshot: unaryHandler(async (req, call) => {
      const snapshot = await deps.liabilities.build(req.asset, deps.operator(call) ?? '');
      return { snapshot: snapshotToWire(snapshot) };
    }, options),
    getLiabilitiesProof: unaryHandler(async (req) => {
      const p = await deps.liabilities.proof(req.snapshotId, req.clientId, req.customerAccount);
      return {
        snapshot: snapshotToWire(p.snapshot),
        clientId: p.clientId,
        customerAccount: p.customerAccount,
        leafSalt: p.salt,
        balance: p.balance.toString(),
        leafIndex: p.leafIndex.toString(),
        leafHash: p.leafHash,
        path: p.document.path.map((s) => ({ side: s.side, hash: s.hash, sum: s.sum })),
        proofJson: JSON.stringify(p.document),
      };
    }, options),
  };
}
