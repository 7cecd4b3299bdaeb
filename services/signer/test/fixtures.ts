// Shared test fixtures: a policy key, operators, an asset profile, and builders for a valid
// tx.prepared (decision token + approvals + unsigned EIP-1559 tx) that tests then mutate.
import { randomUUID } from 'node:crypto';
import { ed25519 } from '@noble/curves/ed25519.js';
import { hex } from '@scure/base';
import { approvalSigningBytes, signDecisionToken, type UnsignedDecisionToken } from '@custody/decision-token';
import { TxPrepared, timestampFromDate } from '@custody/contracts';
import type { EvmAssetProfile } from '../src/application/sign-transaction.js';
import { eip1559UnsignedPayload, type Eip1559Transaction } from '../src/domain/crypto/evm.js';
import { keyTransitionSigningBytes, type KeyTransitionRequest, type Operator, type OperatorSignature } from '../src/domain/operators.js';

export const POLICY_KEY_ID = 'policy-test-1';
export const policySeed = ed25519.utils.randomSecretKey();
export const trustedPolicyKeys = new Map([[POLICY_KEY_ID, ed25519.getPublicKey(policySeed)]]);
export const BUNDLE = 'ab'.repeat(32);

export interface TestOperator {
  readonly operatorId: string;
  readonly role: string;
  readonly keyId: string;
  readonly secret: Uint8Array;
}

function newOperator(operatorId: string, role: string): TestOperator {
  return { operatorId, role, keyId: `${operatorId}-k1`, secret: ed25519.utils.randomSecretKey() };
}

export const ops = {
  alice: newOperator('alice', 'treasury'),
  bob: newOperator('bob', 'compliance'),
  carol: newOperator('carol', 'key_custodian'),
  dave: newOperator('dave', 'key_custodian'),
  erin: newOperator('erin', 'security_officer'),
};

export const operators: Map<string, Operator> = new Map(
  Object.values(ops).map((o) => [o.operatorId, { operatorId: o.operatorId, roles: [o.role], keys: new Map([[o.keyId, ed25519.getPublicKey(o.secret)]]) }]),
);

export const ETH: EvmAssetProfile = {
  asset: 'ETH',
  chain: 'ethereum-sepolia',
  kind: 'evm',
  chainId: 11155111n,
  maxFee: 10n ** 16n,
  tierCaps: { hot: 10n * 10n ** 18n, warm: 1000n * 10n ** 18n, cold: 10n ** 24n },
};
export const assets = new Map([[ETH.asset, ETH]]);

export const DESTINATION = '0x2222222222222222222222222222222222222222';
export const OTHER_DESTINATION = '0x3333333333333333333333333333333333333333';
export const AMOUNT = 1_500000000000000000n; // 1.5 ETH

export interface Scenario {
  readonly walletId: string;
  readonly decisionId: string;
  readonly withdrawalId: string;
  readonly tx: Eip1559Transaction;
  readonly claims: UnsignedDecisionToken;
  readonly approvalsExpireAt: number;
}

export function scenario(walletId: string, now: Date, options: { quorum?: number; roles?: string[] } = {}): Scenario {
  const issuedAt = Math.floor(now.getTime() / 1000) - 5;
  const decisionId = `dec-${randomUUID()}`;
  const withdrawalId = `wd-${randomUUID()}`;
  const claims: UnsignedDecisionToken = {
    decisionId,
    withdrawalId,
    asset: 'ETH',
    sourceWallet: walletId,
    destination: { address: DESTINATION },
    amount: AMOUNT,
    bundleDigest: BUNDLE,
    approvals: { quorum: options.quorum ?? 2, roles: options.roles ?? ['compliance', 'treasury'] },
    issuedAt,
    expiresAt: issuedAt + 600,
  };
  const tx: Eip1559Transaction = {
    chainId: ETH.chainId,
    nonce: 7n,
    maxPriorityFeePerGas: 1_000_000_000n,
    maxFeePerGas: 30_000_000_000n,
    gasLimit: 21_000n,
    to: hex.decode(DESTINATION.slice(2)),
    value: AMOUNT,
    data: new Uint8Array(0),
    accessList: [],
  };
  return { walletId, decisionId, withdrawalId, tx, claims, approvalsExpireAt: issuedAt + 3600 };
}

export function approve(s: Scenario, op: TestOperator, overrides: { expiresAt?: number; role?: string } = {}): { operatorId: string; role: string; keyId: string; signature: Buffer } {
  const role = overrides.role ?? op.role;
  const subject = {
    decisionId: s.claims.decisionId,
    withdrawalId: s.claims.withdrawalId,
    asset: s.claims.asset,
    sourceWallet: s.claims.sourceWallet,
    destinationAddress: s.claims.destination.address,
    destinationTag: s.claims.destination.tag ?? '',
    amount: s.claims.amount,
    bundleDigest: s.claims.bundleDigest,
    quorum: s.claims.approvals.quorum,
    roles: s.claims.approvals.roles,
    expiresAt: overrides.expiresAt ?? s.approvalsExpireAt,
  };
  return { operatorId: op.operatorId, role, keyId: op.keyId, signature: Buffer.from(ed25519.sign(approvalSigningBytes(subject, op.operatorId, role, 'approve'), op.secret)) };
}

export interface PreparedOptions {
  readonly token?: string;
  readonly tx?: Partial<Eip1559Transaction>;
  readonly unsignedTx?: Uint8Array;
  readonly approvals?: ReturnType<typeof approve>[];
  readonly approvalsExpireAt?: number | null;
  readonly fields?: Partial<TxPrepared>;
}

export function prepared(s: Scenario, options: PreparedOptions = {}): TxPrepared {
  const token = options.token ?? signDecisionToken(s.claims, { keyId: POLICY_KEY_ID, secretKey: policySeed });
  const unsigned = options.unsignedTx ?? eip1559UnsignedPayload({ ...s.tx, ...options.tx });
  const approvals = options.approvals ?? [approve(s, ops.alice), approve(s, ops.bob)];
  const expire = options.approvalsExpireAt === undefined ? s.approvalsExpireAt : options.approvalsExpireAt;
  return TxPrepared.fromPartial({
    withdrawalId: s.withdrawalId,
    decisionId: s.decisionId,
    chain: ETH.chain,
    asset: 'ETH',
    sourceWallet: s.walletId,
    destinationAddress: DESTINATION,
    destinationTag: '',
    amount: AMOUNT.toString(),
    unsignedTx: Buffer.from(unsigned),
    feeCap: (10n ** 16n).toString(),
    nonce: '7',
    decisionToken: Buffer.from(token, 'latin1'),
    approvals,
    ...(expire === null ? {} : { approvalsExpireAt: timestampFromDate(new Date(expire * 1000)) }),
    preparedAt: timestampFromDate(new Date()),
    ...options.fields,
  });
}

export function signTransition(request: KeyTransitionRequest, op: TestOperator): OperatorSignature {
  return { operatorId: op.operatorId, role: op.role, keyId: op.keyId, signature: ed25519.sign(keyTransitionSigningBytes(request, op.operatorId), op.secret) };
}

export { MemoryStores } from '../src/adapters/offline/memory-stores.js';
