// Fixtures shared by the CLI's unit tests.
import { PendingApproval } from '@custody/contracts';
import { approvalSubjectBytes, type ApprovalSubject } from '@custody/decision-token';

export const subject: ApprovalSubject = {
  decisionId: '7d0c8a1e-1111-4222-8333-944445555666',
  withdrawalId: 'wd-1',
  asset: 'BTC',
  sourceWallet: 'btc-hot-01',
  destinationAddress: 'bc1qdest',
  destinationTag: '',
  amount: 150000000n,
  bundleDigest: 'ab'.repeat(32),
  quorum: 2,
  roles: ['treasury', 'compliance'],
  expiresAt: 1748872800,
};

export function pendingOf(s: ApprovalSubject = subject, payload: Uint8Array = approvalSubjectBytes(s)): PendingApproval {
  return PendingApproval.fromPartial({
    decisionId: s.decisionId,
    withdrawalId: s.withdrawalId,
    asset: s.asset,
    amount: s.amount.toString(),
    sourceWallet: s.sourceWallet,
    destinationAddress: s.destinationAddress,
    destinationTag: s.destinationTag,
    bundleDigest: s.bundleDigest,
    quorum: s.quorum,
    roles: [...s.roles].sort(),
    expiresAt: { seconds: String(s.expiresAt), nanos: 0 },
    requestedBy: 'client-acme',
    reasonCodes: ['amount_requires_approval'],
    approvePayload: Buffer.from(payload),
  });
}

