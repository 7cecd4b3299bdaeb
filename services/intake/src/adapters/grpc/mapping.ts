// Domain <-> custody.intake.v1 wire shapes.
import { timestampFromDate, Withdrawal as WireWithdrawal, WithdrawalState } from '@custody/contracts';
import type { Withdrawal } from '../../domain/withdrawal.js';
import type { WithdrawalStateName } from '../../domain/withdrawal-state.js';

export const WIRE_STATE: Readonly<Record<WithdrawalStateName, WithdrawalState>> = {
  REQUESTED: WithdrawalState.WITHDRAWAL_STATE_REQUESTED,
  SCREENED: WithdrawalState.WITHDRAWAL_STATE_SCREENED,
  HELD: WithdrawalState.WITHDRAWAL_STATE_HELD,
  AWAITING_APPROVAL: WithdrawalState.WITHDRAWAL_STATE_PENDING_APPROVAL,
  APPROVED: WithdrawalState.WITHDRAWAL_STATE_APPROVED,
  PREPARED: WithdrawalState.WITHDRAWAL_STATE_SIGNING,
  SIGNED: WithdrawalState.WITHDRAWAL_STATE_SIGNED,
  BROADCAST: WithdrawalState.WITHDRAWAL_STATE_BROADCAST,
  CONFIRMED: WithdrawalState.WITHDRAWAL_STATE_CONFIRMED,
  FINAL: WithdrawalState.WITHDRAWAL_STATE_COMPLETED,
  DENIED: WithdrawalState.WITHDRAWAL_STATE_DENIED,
  CANCELLED: WithdrawalState.WITHDRAWAL_STATE_CANCELLED,
  FAILED: WithdrawalState.WITHDRAWAL_STATE_FAILED,
  REORGED: WithdrawalState.WITHDRAWAL_STATE_REORGED,
};

/** Wire state -> every domain state reported as it (SIGNING covers PREPARED only). */
export function domainStatesFor(wire: WithdrawalState): WithdrawalStateName[] {
  return (Object.entries(WIRE_STATE) as [WithdrawalStateName, WithdrawalState][]).filter(([, w]) => w === wire).map(([d]) => d);
}

export function toWire(w: Withdrawal): WireWithdrawal {
  return WireWithdrawal.fromPartial({
    withdrawalId: w.id,
    customerAccount: w.customerAccount,
    asset: w.asset,
    amount: w.amount.toString(),
    destinationAddress: w.destinationAddress,
    destinationTag: w.destinationTag,
    clientReference: w.clientReference,
    state: WIRE_STATE[w.state],
    reasonCode: w.reasonCode,
    reasonDetail: w.reasonDetail,
    txHash: w.txHash,
    confirmations: w.confirmations,
    createdAt: timestampFromDate(w.createdAt),
    updatedAt: timestampFromDate(w.updatedAt),
  });
}
