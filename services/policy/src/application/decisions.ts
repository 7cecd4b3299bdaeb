/**
 * Deciding withdrawals and collecting approvals.
 *
 * Join: the policy needs the withdrawal (withdrawal.requested) and its screening
 * (risk.assessed); they arrive on two topics in any order. Each is stored; whichever
 * arrives second triggers the decision, under a per-withdrawal lock so two concurrent
 * handlers cannot both miss (or both make) it. One decision per (withdrawal, assessment):
 * a superseding assessment (a resolved case) gets its own decision.
 *
 * Every evaluation is recorded (input, output, bundle digest, time) and the resulting
 * policy.decided goes to the outbox in the same transaction. An ALLOW carries the decision
 * token. A REQUIRE_APPROVAL waits for operator votes (vote()): each verified vote is
 * recorded, the input is re-evaluated with the votes so far, and the quorum the Rego
 * counts turns it into ALLOW (token + approval signatures attached); a reject is a DENY.
 */
import { randomUUID } from 'node:crypto';
import { DomainError } from '@custody/platform';
import { approvalSigningBytes, checkVote, type ApprovalSubject, type Verdict, type VoteRefusal } from '../domain/approval.js';
import { DEVICE_REFUSAL_TEXT, checkDeviceAssertion, findDevice, signCountAdvances, type DeviceAssertion, type DeviceAssertionPolicy } from '../domain/device-assertion.js';
import type { Decision } from '../domain/decision.js';
import { buildPolicyInput, withApprovals, type PolicyInput, type StoredAssessment, type StoredRequest } from '../domain/policy-input.js';
import type { Clock } from '../domain/clock.js';
import { maintenanceWindowsInput } from '../domain/maintenance.js';
import { toCanonicalTimestamp } from '../domain/timestamp.js';
import type { BundleRegistry } from './bundle-registry.js';
import type { MaintenanceWindowStore } from './maintenance.js';
import type { PolicyEvaluator } from './policy-evaluator.js';
import type { DecisionSigner, OperatorDirectory, Tx, WithdrawalFactsProvider } from './ports.js';

export type DecisionStatus = 'allow' | 'deny' | 'require_approval' | 'hold' | 'rejected' | 'expired';

export interface DecisionRecord {
  readonly id: string;
  readonly withdrawalId: string;
  readonly assessmentId: string;
  readonly status: DecisionStatus;
  readonly requestedBy: string;
  readonly accountId: string;
  readonly asset: string;
  readonly chain: string;
  readonly amount: bigint;
  readonly sourceWallet: string;
  readonly destinationAddress: string;
  readonly destinationTag: string;
  readonly input: PolicyInput;
  readonly output: Decision;
  readonly bundleDigest: string;
  readonly quorum: number;
  readonly roles: readonly string[];
  readonly expiresAt: Date | undefined;
  readonly decisionToken: string | undefined;
  readonly decidedAt: Date;
  readonly updatedAt: Date;
}

export interface Vote {
  readonly decisionId: string;
  readonly operatorId: string;
  readonly role: string;
  readonly verdict: Verdict;
  readonly keyId: string;
  readonly signature: Uint8Array;
  readonly votedAt: Date;
  /** The registered authenticator that asserted the vote and its signature counter (C-8.2.2.5-e). */
  readonly deviceId?: string | undefined;
  readonly signCount?: number | undefined;
}

export interface EventContext {
  readonly correlationId: string;
  readonly causationId?: string | undefined;
}

export interface PolicyStore {
  transaction<T>(fn: (tx: Tx) => Promise<T>): Promise<T>;
  lockWithdrawal(tx: Tx, withdrawalId: string): Promise<void>;
  saveRequest(tx: Tx, r: StoredRequest): Promise<void>;
  getRequest(tx: Tx, withdrawalId: string): Promise<StoredRequest | undefined>;
  /** Keeps the newest assessment (by assessed_at) per withdrawal. */
  saveAssessment(tx: Tx, a: StoredAssessment): Promise<void>;
  getAssessment(tx: Tx, withdrawalId: string): Promise<StoredAssessment | undefined>;
  hasDecision(tx: Tx, withdrawalId: string, assessmentId: string): Promise<boolean>;
  /** Sum of amounts not denied/rejected for the account and asset decided since `since`, other withdrawals only. */
  recentOutflow(tx: Tx, accountId: string, asset: string, since: Date, excludeWithdrawalId: string): Promise<bigint>;
  insertDecision(tx: Tx, d: DecisionRecord): Promise<void>;
  updateDecision(tx: Tx, d: DecisionRecord): Promise<void>;
  recordEvaluation(tx: Tx, e: { decisionId: string; trigger: string; input: PolicyInput; output: Decision; bundleDigest: string; at: Date }): Promise<void>;
  getDecision(tx: Tx, id: string, forUpdate: boolean): Promise<DecisionRecord | undefined>;
  listPending(now: Date, limit: number, after?: { decidedAt: Date; id: string }): Promise<readonly DecisionRecord[]>;
  /** Pending decisions whose approval window closed, locked (SKIP LOCKED) in `tx`. */
  expiredPending(tx: Tx, now: Date, limit: number): Promise<readonly DecisionRecord[]>;
  votes(tx: Tx, decisionId: string): Promise<readonly Vote[]>;
  insertVote(tx: Tx, v: Vote): Promise<void>;
  /** The stored signature counter of an approver device (0 when first seen), row-locked in `tx`. */
  lockDeviceCounter(tx: Tx, deviceId: string, operatorId: string): Promise<number>;
  setDeviceCounter(tx: Tx, deviceId: string, signCount: number, at: Date): Promise<void>;
  /** policy.decided into the outbox, in `tx`. */
  publishDecided(tx: Tx, d: DecisionRecord, approvals: readonly Vote[], ctx: EventContext): Promise<void>;
}

export class VoteRefusedError extends DomainError {
  constructor(code: VoteRefusal, message: string) {
    super(code, message);
  }
}

export class NotFoundError extends DomainError {}
export class NotPendingError extends DomainError {}
export class InvalidArgumentError extends DomainError {}

export interface DecisionServiceDeps {
  readonly store: PolicyStore;
  readonly registry: BundleRegistry;
  readonly evaluator: PolicyEvaluator;
  readonly facts: WithdrawalFactsProvider;
  readonly signer: DecisionSigner;
  readonly operators: OperatorDirectory;
  readonly clock: Clock;
  /** Announced maintenance windows; read in the decision's transaction (a failed read fails the decision). */
  readonly maintenance: MaintenanceWindowStore;
  /** Lifetime of a decision token (default 600 s). */
  readonly tokenTtlSeconds?: number;
  /**
   * The hot-wallet pause of an asset (application/treasury.ts; undefined: not paused), read in
   * the decision's transaction: while paused the input carries `hot_wallet_pause` and
   * treasury/hot_pause.rego denies withdrawals from the hot wallet. Absent: never paused.
   */
  readonly hotWalletPause?: (tx: Tx, asset: string) => Promise<{ readonly since: Date } | undefined>;
}

const DAY_MS = 86_400_000;
const seconds = (d: Date): number => Math.floor(d.getTime() / 1000);

export class DecisionService {
  constructor(private readonly deps: DecisionServiceDeps) {}

  async onWithdrawalRequested(tx: Tx, r: StoredRequest, ctx: EventContext): Promise<string> {
    await this.deps.store.lockWithdrawal(tx, r.withdrawalId);
    await this.deps.store.saveRequest(tx, r);
    return this.tryDecide(tx, r.withdrawalId, ctx);
  }

  async onRiskAssessed(tx: Tx, a: StoredAssessment, ctx: EventContext): Promise<string> {
    await this.deps.store.lockWithdrawal(tx, a.withdrawalId);
    await this.deps.store.saveAssessment(tx, a);
    return this.tryDecide(tx, a.withdrawalId, ctx);
  }

  private async tryDecide(tx: Tx, withdrawalId: string, ctx: EventContext): Promise<string> {
    const { store } = this.deps;
    const request = await store.getRequest(tx, withdrawalId);
    const assessment = await store.getAssessment(tx, withdrawalId);
    if (!request || !assessment) return 'waiting';
    if (await store.hasDecision(tx, withdrawalId, assessment.assessmentId)) return 'already-decided';
    // Taken once: a bundle activated while this runs is used from the next message on.
    const bundle = this.deps.registry.current();
    const now = this.deps.clock.now();
    const facts = await this.deps.facts.factsFor({
      withdrawalId,
      clientId: request.clientId,
      customerAccount: request.customerAccount,
      asset: request.asset,
      amount: request.amount,
      at: now,
    });
    const accountId = facts.account?.id ?? request.customerAccount;
    // The larger of the policy's own record and the ledger's booked outflow (docs/policies.md
    // "Rolling 24 h from the ledger"): neither can under-count the other's blind spots, and
    // adding them would count every withdrawal twice.
    const policyPrior = await store.recentOutflow(tx, accountId, request.asset, new Date(now.getTime() - DAY_MS), withdrawalId);
    const ledgerPrior = facts.ledgerOutflow?.known ? facts.ledgerOutflow.total : 0n;
    const prior = ledgerPrior > policyPrior ? ledgerPrior : policyPrior;
    const maintenanceWindows = maintenanceWindowsInput(await this.deps.maintenance.windowsAt(tx, now), now);
    const built = buildPolicyInput({ request, assessment, facts, rolling24hTotal: prior + request.amount, now, approvals: [], maintenanceWindows });
    const pause = this.deps.hotWalletPause ? await this.deps.hotWalletPause(tx, request.asset) : undefined;
    const input = pause ? Object.freeze({ ...built, hot_wallet_pause: { paused: true, since: toCanonicalTimestamp(pause.since) } }) : built;
    const { decision } = await this.deps.evaluator.evaluate(bundle, input);
    const id = randomUUID();
    const base: DecisionRecord = {
      id,
      withdrawalId,
      assessmentId: assessment.assessmentId,
      status: decision.outcome,
      requestedBy: request.clientId,
      accountId,
      asset: request.asset,
      chain: request.chain,
      amount: request.amount,
      sourceWallet: facts.sourceWallet?.id ?? '',
      destinationAddress: request.destinationAddress,
      destinationTag: request.destinationTag,
      input,
      output: decision,
      bundleDigest: bundle.digest,
      quorum: decision.approvals.quorum,
      roles: decision.approvals.roles,
      expiresAt: decision.outcome === 'require_approval' ? new Date((seconds(now) + decision.approvals.expiresInSeconds) * 1000) : undefined,
      decisionToken: undefined,
      decidedAt: now,
      updatedAt: now,
    };
    const record = decision.outcome === 'allow' ? this.withToken(base, now) : base;
    await store.insertDecision(tx, record);
    await store.recordEvaluation(tx, { decisionId: id, trigger: 'risk.assessed', input, output: record.output, bundleDigest: bundle.digest, at: now });
    await store.publishDecided(tx, record, [], ctx);
    return record.status;
  }

  /** An ALLOW with its decision token; a token that cannot be made turns it into a deny (also used for treasury transfers). */
  withToken(d: DecisionRecord, now: Date): DecisionRecord {
    const issuedAt = seconds(now);
    try {
      const token = this.deps.signer.sign({
        decisionId: d.id,
        withdrawalId: d.withdrawalId,
        asset: d.asset,
        sourceWallet: d.sourceWallet,
        destination: d.destinationTag ? { address: d.destinationAddress, tag: d.destinationTag } : { address: d.destinationAddress },
        amount: d.amount,
        bundleDigest: d.bundleDigest,
        approvals: { quorum: d.quorum, roles: d.roles },
        issuedAt,
        expiresAt: issuedAt + (this.deps.tokenTtlSeconds ?? 600),
      });
      return { ...d, status: 'allow', decisionToken: token };
    } catch (error) {
      const detail = error instanceof Error ? error.message : 'decision token could not be made';
      return { ...d, status: 'deny', output: { outcome: 'deny', reasons: [{ code: 'decision_token_unavailable', detail }], approvals: { quorum: 0, roles: [], expiresInSeconds: 0 } } };
    }
  }

  async listPending(pageSize: number, after?: { decidedAt: Date; id: string }): Promise<readonly { record: DecisionRecord; votes: readonly Vote[] }[]> {
    const limit = pageSize <= 0 ? 100 : Math.min(pageSize, 500);
    const records = await this.deps.store.listPending(this.deps.clock.now(), limit, after);
    const out = [];
    for (const record of records) out.push({ record, votes: await this.deps.store.transaction((tx) => this.deps.store.votes(tx, record.id)) });
    return out;
  }

  /**
   * One operator's vote. Refusals (VoteRefusedError) store nothing. An approve that
   * completes the quorum emits the ALLOW; a reject emits a DENY.
   */
  async vote(args: { decisionId: string; operatorId: string; role: string; keyId: string; signature: Uint8Array; verdict: Verdict; reason?: string; assertion?: DeviceAssertion | undefined }, ctx: EventContext): Promise<{ record: DecisionRecord; votes: readonly Vote[]; quorumReached: boolean }> {
    const { store } = this.deps;
    return store.transaction(async (tx) => {
      const record = await store.getDecision(tx, args.decisionId, true);
      if (!record) throw new NotFoundError('DECISION_NOT_FOUND', `no decision ${args.decisionId}`);
      if (record.status !== 'require_approval' || !record.expiresAt) throw new NotPendingError('DECISION_NOT_PENDING', `decision ${record.id} is ${record.status}, not waiting for approvals`);
      const now = this.deps.clock.now();
      const votes = await store.votes(tx, record.id);
      const refusal = checkVote({
        subject: subjectOf(record),
        requestedBy: record.requestedBy,
        operator: this.deps.operators.operators.get(args.operatorId),
        operatorId: args.operatorId,
        keyId: args.keyId,
        role: args.role,
        verdict: args.verdict,
        signature: args.signature,
        voted: votes.map((v) => v.operatorId),
        now: seconds(now),
      });
      if (refusal) throw new VoteRefusedError(refusal, REFUSAL_TEXT[refusal]);
      const device = await this.checkDevice(tx, record, args, now);
      const vote: Vote = { decisionId: record.id, operatorId: args.operatorId, role: args.role, verdict: args.verdict, keyId: args.keyId, signature: args.signature, votedAt: now, ...device };
      await store.insertVote(tx, vote);
      const all = [...votes, vote];
      const approvals = all.filter((v) => v.verdict === 'approve');

      if (args.verdict === 'reject') {
        const detail = `rejected by ${args.operatorId} (${args.role})${args.reason ? `: ${args.reason.slice(0, 500)}` : ''}`;
        const rejected: DecisionRecord = { ...record, status: 'rejected', output: { outcome: 'deny', reasons: [{ code: 'approval_rejected', detail }], approvals: { quorum: 0, roles: [], expiresInSeconds: 0 } }, updatedAt: now };
        await store.updateDecision(tx, rejected);
        await store.publishDecided(tx, rejected, all, ctx);
        return { record: rejected, votes: all, quorumReached: false };
      }

      const bundle = this.deps.registry.current();
      const maintenanceWindows = maintenanceWindowsInput(await this.deps.maintenance.windowsAt(tx, now), now);
      const input = withApprovals(record.input, approvals.map((v) => ({ operatorId: v.operatorId, role: v.role, approvedAt: v.votedAt })), now, maintenanceWindows);
      const { decision } = await this.deps.evaluator.evaluate(bundle, input);
      await store.recordEvaluation(tx, { decisionId: record.id, trigger: `vote:${args.operatorId}`, input, output: decision, bundleDigest: bundle.digest, at: now });
      if (decision.outcome === 'require_approval') return { record, votes: all, quorumReached: false };
      // Quorum met (allow) or the situation changed (deny / hold): the decision is final.
      const next: DecisionRecord = { ...record, status: decision.outcome, input, output: decision, bundleDigest: bundle.digest, updatedAt: now };
      const final = decision.outcome === 'allow' ? this.withToken(next, now) : next;
      await store.updateDecision(tx, final);
      await store.publishDecided(tx, final, approvals, ctx);
      return { record: final, votes: all, quorumReached: final.status === 'allow' };
    });
  }

  /**
   * The device factor of a vote (C-8.2.2.5-e, domain/device-assertion.ts): the assertion is
   * verified against the operator registry, then its signature counter must pass the stored
   * one of that device (row-locked here, so two votes with one counter value cannot both count).
   */
  private async checkDevice(tx: Tx, record: DecisionRecord, args: { operatorId: string; role: string; verdict: Verdict; assertion?: DeviceAssertion | undefined }, now: Date): Promise<{ deviceId?: string; signCount?: number }> {
    const { operators } = this.deps;
    const result = checkDeviceAssertion({
      policy: operators.deviceAssertions ?? DEVICES_OFF,
      assertion: args.assertion,
      operatorId: args.operatorId,
      registered: args.assertion ? findDevice(operators.operators.values(), args.assertion.credentialId) : undefined,
      signingBytes: approvalSigningBytes(subjectOf(record), args.operatorId, args.role, args.verdict),
      now: seconds(now),
    });
    if (!result.ok) throw new VoteRefusedError(result.refusal, REFUSAL_TEXT[result.refusal]);
    if (!result.verified) return {};
    const stored = await this.deps.store.lockDeviceCounter(tx, result.verified.deviceId, args.operatorId);
    if (!signCountAdvances(stored, result.verified.signCount)) throw new VoteRefusedError('DEVICE_SIGN_COUNT_NOT_INCREASING', REFUSAL_TEXT.DEVICE_SIGN_COUNT_NOT_INCREASING);
    await this.deps.store.setDeviceCounter(tx, result.verified.deviceId, result.verified.signCount, now);
    return { deviceId: result.verified.deviceId, signCount: result.verified.signCount };
  }
}

const DEVICES_OFF: DeviceAssertionPolicy = Object.freeze({ required: false, origins: [], allowedKinds: [] });

/** Closes approval requests whose window passed: each becomes a DENY `approval_expired` (with the votes it had). */
export async function expirePending(store: PolicyStore, clock: Clock, limit = 100): Promise<number> {
  return store.transaction(async (tx) => {
    const now = clock.now();
    const expired = await store.expiredPending(tx, now, limit);
    for (const record of expired) {
      const votes = await store.votes(tx, record.id);
      const detail = `the approval window closed at ${record.expiresAt?.toISOString() ?? '?'} with ${votes.filter((v) => v.verdict === 'approve').length} of ${record.quorum} approvals`;
      const closed: DecisionRecord = { ...record, status: 'expired', output: { outcome: 'deny', reasons: [{ code: 'approval_expired', detail }], approvals: { quorum: 0, roles: [], expiresInSeconds: 0 } }, updatedAt: now };
      await store.updateDecision(tx, closed);
      await store.publishDecided(tx, closed, votes, { correlationId: `approval-expiry-${record.id}` });
    }
    return expired.length;
  });
}

export function subjectOf(d: DecisionRecord): ApprovalSubject {
  return {
    decisionId: d.id,
    withdrawalId: d.withdrawalId,
    asset: d.asset,
    sourceWallet: d.sourceWallet,
    destinationAddress: d.destinationAddress,
    destinationTag: d.destinationTag,
    amount: d.amount,
    bundleDigest: d.bundleDigest,
    quorum: d.quorum,
    roles: d.roles,
    expiresAt: d.expiresAt ? seconds(d.expiresAt) : 0,
  };
}

const REFUSAL_TEXT: Readonly<Record<VoteRefusal, string>> = {
  UNKNOWN_OPERATOR: 'operator_id is not a registered operator',
  UNKNOWN_OPERATOR_KEY: 'key_id is not a key of this operator',
  BAD_APPROVAL_SIGNATURE: 'signature does not verify over this decision, operator, role and verdict',
  SELF_APPROVAL: 'the requester of a withdrawal cannot vote on it',
  DUPLICATE_VOTE: 'this operator has already voted on this decision',
  ROLE_NOT_HELD: 'the operator does not hold the role the vote is cast in',
  ROLE_NOT_REQUIRED: 'the quorum of this decision does not ask for this role',
  APPROVAL_EXPIRED: 'the approval request has expired',
  ...DEVICE_REFUSAL_TEXT,
};
