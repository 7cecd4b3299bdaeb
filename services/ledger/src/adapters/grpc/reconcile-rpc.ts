// LedgerService/Reconcile (operators): one reconciliation run now, answered with the stored
// runs. A FAILED run is an answer (outcome FAILED with its reason), not an RPC error.
import { status } from '@grpc/grpc-js';
import { ReconciliationOutcome, timestampFromDate, type LedgerServiceServer } from '@custody/contracts';
import { isDomainError, unaryHandler, type Logger } from '@custody/platform';
import type { Reconciler, RunOutcome } from '../../application/reconciliation.js';

const OUTCOME: Readonly<Record<RunOutcome, ReconciliationOutcome>> = {
  BALANCED: ReconciliationOutcome.RECONCILIATION_OUTCOME_BALANCED,
  DRIFT: ReconciliationOutcome.RECONCILIATION_OUTCOME_DRIFT,
  FAILED: ReconciliationOutcome.RECONCILIATION_OUTCOME_FAILED,
};

export function createReconcileHandler(deps: { readonly reconciler: Reconciler; readonly logger: Logger }): Pick<LedgerServiceServer, 'reconcile'> {
  return {
    reconcile: unaryHandler(
      async (req) => {
        const runs = await deps.reconciler.runOnce(req.assets);
        return {
          results: runs.map((r) => ({
            runId: r.runId,
            asset: r.asset,
            chain: r.chain,
            outcome: OUTCOME[r.outcome],
            ledgerBalance: r.classification?.ledgerBalance.toString() ?? '',
            chainBalance: r.classification?.chainBalance.toString() ?? '',
            inFlightWithdrawals: r.classification?.inFlight.toString() ?? '',
            fees: r.classification?.fees.toString() ?? '',
            pendingDeposits: r.classification?.pendingDeposits.toString() ?? '',
            unexplained: r.classification?.unexplained.toString() ?? '',
            blockHeight: (r.blockHeight ?? 0n).toString(),
            blockHash: r.blockHash ?? '',
            incidentId: r.incidentId,
            failureReason: r.failureReason,
            startedAt: timestampFromDate(r.startedAt),
          })),
        };
      },
      {
        codeMap: { ASSET_NOT_RECONCILED: status.INVALID_ARGUMENT },
        domain: 'custody.ledger',
        onError: (err: unknown) => (isDomainError(err) ? deps.logger.info({ code: err.code }, 'reconcile refused') : deps.logger.error({ err }, 'reconcile failed')),
      },
    ),
  };
}
