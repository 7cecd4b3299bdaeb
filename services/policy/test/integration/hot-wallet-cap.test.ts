// Hot-wallet cap and rebalancing over REAL Kafka, PostgreSQL and the compiled Wasm bundle
// (policies/ as shipped: limits.json ETH hot_wallet_cap 50 ETH, treasury.json target 30 ETH,
// floor 5 ETH, grace 900 s). The ledger's GetWalletBalances answer is the monitor's
// WalletBalanceSource port, set per step here (its gRPC adapter is unit-tested:
// src/adapters/facts/ledger-wallet-balances.spec.ts); everything after it is the service.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { ed25519 } from '@noble/curves/ed25519.js';
import {
  IncidentSeverity,
  PolicyDecision,
  RiskAssessed,
  RiskVerdict,
  Topics,
  TxState,
  TxStatus,
  WithdrawalRequested,
  decodePayload,
  encodeEvent,
  timestampFromDate,
  topicVersion,
  type EventMessages,
  type EventType,
  type IncidentRaised,
  type PolicyDecided,
} from '@custody/contracts';
import { KafkaBus, createEnvelope, createKafkaClient, protobufEnvelopeCodec, type Subscription } from '@custody/event-bus';
import { expirePending, subjectOf } from '../../src/application/decisions.js';
import type { WalletBalanceFact } from '../../src/application/treasury.js';
import type { TransferBooking } from '../../src/domain/treasury.js';
import { approvalSigningBytes, localDecisionSigner, prefixedTopics, startPolicy, verifyDecisionToken, type PolicyHandle, type WithdrawalFactsProvider } from '../../src/index.js';
import { TestClock, buildBundles, createPrefixedTopics, createTestDatabase, deletePrefixedTopics, directoryOf, newOperator, quietLogger, rand, requireEnv, waitFor, type Bundles, type TestDatabase, type TestOperator } from './support.js';

const prefix = `ph${rand()}.`;
const clock = new TestClock(new Date('2025-06-02T10:00:00Z'));
const consumerGroupId = `policy-${rand()}`;
const ETH = 10n ** 18n;
const HOT = { id: 'eth-hot-01', address: '0x00000000000000000000000000000000000a1101' };
const WARM = { id: 'eth-warm-01', address: '0x00000000000000000000000000000000000a2201' };
const COLD = { id: 'eth-cold-01', address: '0x00000000000000000000000000000000000a3301' };
const CUSTOMER_DEST = '0x2222222222222222222222222222222222222222';
const ALICE = newOperator('op-alice', ['compliance']);
const BOB = newOperator('op-bob', ['treasury']);
const DAVE = newOperator('op-dave', ['treasury']);
const signer = localDecisionSigner('policy-hw-k1', ed25519.utils.randomSecretKey());

/** What the ledger reports, per asset (set by each step). */
const ledger = new Map<string, WalletBalanceFact[]>();
const setBalances = (asset: string, hot: bigint, warm = 100n * ETH, deposits?: bigint): void => {
  ledger.set(asset, [
    ...(deposits !== undefined ? [{ walletId: 'deposits', chain: '', available: deposits }] : []),
    { walletId: asset === 'ETH' ? HOT.id : 'btc-hot-01', chain: asset === 'ETH' ? 'ethereum-mainnet' : 'bitcoin-mainnet', available: hot },
    { walletId: asset === 'ETH' ? WARM.id : 'btc-warm-01', chain: asset === 'ETH' ? 'ethereum-mainnet' : 'bitcoin-mainnet', available: warm },
  ]);
};

/** What the ledger's GetTransferBooking answers per transfer id ('down': the call fails). */
const bookings = new Map<string, TransferBooking | 'down'>();
const transferBooking = (id: string): Promise<TransferBooking> => {
  const b = bookings.get(id) ?? 'not_known';
  return b === 'down' ? Promise.reject(new Error('14 UNAVAILABLE: ledger unreachable')) : Promise.resolve(b);
};

const facts: WithdrawalFactsProvider = {
  factsFor: (r) =>
    Promise.resolve({
      account: { id: 'acct-inst-1', tier: 'institutional', openedAt: '2023-01-01T00:00:00Z' },
      sourceWallet: { id: HOT.id, tier: 'hot' as const },
      ledgerHold: { id: `hold-${r.withdrawalId}`, amount: r.amount },
    }),
};

let db: TestDatabase;
let bundles: Bundles;
let bus: KafkaBus;
let policy: PolicyHandle;
let observer: Subscription;
const decided: PolicyDecided[] = [];
const incidents: IncidentRaised[] = [];

async function publish<K extends EventType>(type: K, key: string, message: EventMessages[K]): Promise<string> {
  const envelope = createEnvelope({ type, key, correlationId: `corr-${rand()}`, producer: 'test', schemaVersion: topicVersion(type), payload: encodeEvent(type, message) });
  await bus.publish([{ topic: `${prefix}${type}`, key, value: protobufEnvelopeCodec.encode(envelope) }]);
  return envelope.id;
}

async function withdrawEth(amount: bigint): Promise<PolicyDecided> {
  const id = `wd-${rand()}`;
  await publish(
    Topics.withdrawalRequested,
    id,
    WithdrawalRequested.fromPartial({ withdrawalId: id, clientId: 'client-acme', customerAccount: 'acct-inst-1', asset: 'ETH', chain: 'ethereum-mainnet', amount: amount.toString(), destinationAddress: CUSTOMER_DEST, requestedAt: timestampFromDate(clock.now()) }),
  );
  await publish(Topics.riskAssessed, id, RiskAssessed.fromPartial({ assessmentId: `as-${id}`, withdrawalId: id, verdict: RiskVerdict.RISK_VERDICT_CLEAR, score: 5, assessedAt: timestampFromDate(new Date(clock.now().getTime() - 60_000)) }));
  return decisionFor(id);
}

async function decisionFor(id: string, outcome?: PolicyDecision): Promise<PolicyDecided> {
  const match = (d: PolicyDecided): boolean => d.withdrawalId === id && (outcome === undefined || d.decision === outcome);
  await waitFor(() => decided.some(match), 20_000, () => `policy.decided for ${id}`);
  return decided.find(match)!;
}

async function transferStatus(id: string): Promise<{ status: string; close_reason: string; booked?: boolean } | undefined> {
  const [row] = await db.admin<{ status: string; close_reason: string; booked: boolean }>(`SELECT "status", "close_reason", "booked_at" IS NOT NULL AS booked FROM treasury_transfer WHERE transfer_id = $1`, [id]);
  if (!row) return undefined;
  // booked: the settling guard's mark (only meaningful for a transfer closed as final).
  return row.close_reason === 'final' ? row : { status: row.status, close_reason: row.close_reason };
}

async function vote(op: TestOperator, decisionId: string, role: string) {
  const record = await policy.store.transaction((tx) => policy.store.getDecision(tx, decisionId, false));
  const subject = subjectOf(record!);
  const signature = ed25519.sign(approvalSigningBytes(subject, op.id, role, 'approve'), op.secret);
  return policy.decisions.vote({ decisionId, operatorId: op.id, role, keyId: op.keyId, signature, verdict: 'approve' }, { correlationId: `vote-${rand()}` });
}


beforeAll(async () => {
  [db, bundles] = await Promise.all([createTestDatabase(), buildBundles()]);
  await createPrefixedTopics(prefix);
  bus = new KafkaBus({ kafka: createKafkaClient({ brokers: requireEnv('KAFKA_BROKERS').split(','), clientId: `policy-hw-${rand()}`, logLevel: 'nothing' }) });
  policy = await startPolicy({
    bus,
    database: { url: db.appUrl, schema: db.schema },
    logger: quietLogger(),
    clock,
    grpc: { port: 0, credentials: { kind: 'insecure' } },
    bootstrapBundle: bundles.current,
    signer,
    operators: directoryOf([ALICE, BOB, DAVE]),
    facts,
    topicName: prefixedTopics(prefix),
    consumerGroupId,
    outboxPollIntervalMs: 50,
    // Rounds are driven by the test (policy.treasury.round); the timer is bounded and slow.
    treasury: { balances: { walletBalances: (asset) => Promise.resolve(ledger.get(asset) ?? []), transferBooking }, intervalMs: 3_600_000 },
  });
  observer = await bus.subscribe({
    groupId: `observer-${rand()}`,
    topics: [`${prefix}${Topics.policyDecided}`, `${prefix}${Topics.incidentRaised}`],
    handler: async (message) => {
      const event = decodePayload(protobufEnvelopeCodec.decode(message.value));
      if (event.type === Topics.policyDecided) decided.push(event.message);
      if (event.type === Topics.incidentRaised) incidents.push(event.message);
    },
  });
}, 180_000);

afterAll(async () => {
  await observer?.stop();
  await policy?.stop();
  await bus?.close();
  await deletePrefixedTopics(prefix).catch(() => undefined);
  await db?.drop();
  await bundles?.cleanup();
}, 60_000);

describe('C-9.3.7.1-a hot-wallet cap with automatic sweeping: above cap → sweep to our own cold wallet; breach > T → incident + hot withdrawals paused', () => {
  let sweepId = '';

  it('deposits push the ETH hot exposure (hot wallet + deposit addresses) above its cap → a sweep hot → own cold address of balance − target, allowed with a bound decision token', async () => {
    setBalances('ETH', 50n * ETH, 100n * ETH, 0n);
    expect((await policy.treasury.round('ETH')).proposed).toEqual([]); // at the cap: nothing
    expect(await policy.registry.getSingleMetricAsString('custody_policy_hot_wallet_cap_ratio')).toMatch(/custody_policy_hot_wallet_cap_ratio\{asset="ETH",service="policy"\} 1$/m);
    setBalances('ETH', 45n * ETH, 100n * ETH, 15n * ETH); // a 15 ETH deposit: 60 ETH online
    const round = await policy.treasury.round('ETH');
    expect(await policy.registry.getSingleMetricAsString('custody_policy_hot_wallet_cap_ratio')).toMatch(/custody_policy_hot_wallet_cap_ratio\{asset="ETH",service="policy"\} 1\.2$/m);
    expect(round.proposed).toHaveLength(1);
    sweepId = round.proposed[0]!.transferId;
    expect(sweepId).toMatch(/^treasury:sweep:ETH:/);
    const d = await decisionFor(sweepId);
    expect(d.decision).toBe(PolicyDecision.POLICY_DECISION_ALLOW);
    expect({ asset: d.asset, chain: d.chain, amount: d.amount, source: d.sourceWallet, dest: d.destinationAddress }).toEqual({
      asset: 'ETH',
      chain: 'ethereum-mainnet',
      amount: (30n * ETH).toString(),
      source: HOT.id,
      dest: COLD.address,
    });
    expect(d.treasuryTransfer).toEqual({ direction: 'sweep', destinationWallet: COLD.id, sourceTier: 'hot', destinationTier: 'cold' });
    const token = Buffer.from(d.decisionToken).toString('utf8');
    const expected = { withdrawalId: sweepId, asset: 'ETH', sourceWallet: HOT.id, destination: { address: COLD.address }, amount: 30n * ETH, bundleDigests: [d.bundleDigest] };
    expect(verifyDecisionToken(token, { trustedKeys: new Map([[signer.keyId, signer.publicKey]]), clock, expected })).toMatchObject({ ok: true, claims: { approvals: { quorum: 0, roles: [] } } });
    // Bound: the same token for another destination (a foreign address) does not verify.
    expect(verifyDecisionToken(token, { trustedKeys: new Map([[signer.keyId, signer.publicKey]]), clock, expected: { ...expected, destination: { address: CUSTOMER_DEST } } })).toMatchObject({ ok: false, reason: 'binding_mismatch' });
    // Stored like any decision: input (kind treasury_transfer), output, bundle digest.
    const [row] = await db.admin<{ input: { kind: string; direction: string }; bundle_digest: string }>(`SELECT input, bundle_digest FROM decision WHERE withdrawal_id = $1`, [sweepId]);
    expect(row?.input).toMatchObject({ kind: 'treasury_transfer', direction: 'sweep' });
    expect(row?.bundle_digest).toBe(d.bundleDigest);
    expect(await transferStatus(sweepId)).toEqual({ status: 'open', close_reason: '' });
  });

  it('no second proposal while the sweep is in flight (the balance the ledger reports has not moved yet)', async () => {
    clock.advance(60_000);
    setBalances('ETH', 70n * ETH);
    const round = await policy.treasury.round('ETH');
    expect(round.proposed).toEqual([]);
    expect(await db.admin(`SELECT 1 FROM treasury_transfer WHERE asset = 'ETH' AND direction = 'sweep'`)).toHaveLength(1);
    expect(await db.admin(`SELECT 1 FROM decision WHERE withdrawal_id LIKE 'treasury:sweep:ETH:%'`)).toHaveLength(1);
  });

  it('a breach lasting longer than T raises HOT_WALLET_CAP_BREACH once and pauses ETH hot withdrawals (deny hot_wallet_paused)', async () => {
    // Before T: a hot withdrawal runs.
    expect((await withdrawEth(ETH)).decision).toBe(PolicyDecision.POLICY_DECISION_ALLOW);
    clock.advance(900_000); // 60 s + 900 s since the breach started: past the grace period
    const round = await policy.treasury.round('ETH');
    expect(round).toMatchObject({ incident: true, paused: true, proposed: [] });
    await waitFor(() => incidents.some((i) => i.asset === 'ETH'), 20_000, () => 'incident.raised for ETH');
    const incident = incidents.find((i) => i.asset === 'ETH')!;
    expect(incident).toMatchObject({ source: 'policy', kind: 'HOT_WALLET_CAP_BREACH', severity: IncidentSeverity.INCIDENT_SEVERITY_CRITICAL, chain: 'ethereum-mainnet', wallet: HOT.id });
    expect(JSON.parse(incident.evidenceJson)).toMatchObject({ hot: (70n * ETH).toString(), cap: (50n * ETH).toString(), open_sweeps: 1 });
    const paused = await withdrawEth(ETH);
    expect(paused.decision).toBe(PolicyDecision.POLICY_DECISION_DENY);
    expect(paused.reasons.map((r) => r.code)).toEqual(['hot_wallet_paused']);
    // Once per breach: the next round raises nothing new.
    clock.advance(60_000);
    expect(await policy.treasury.round('ETH')).toMatchObject({ incident: false, paused: true });
  });

  it('race: the sweep FINAL consumed by policy but not yet booked by the ledger → the round reads the old balance and proposes nothing (settling); ledger unreachable → nothing either', async () => {
    await publish(Topics.txStatus, HOT.id, TxStatus.fromPartial({ withdrawalId: sweepId, chain: 'ethereum-mainnet', sourceWallet: HOT.id, txHash: '0xabc', state: TxState.TX_STATE_FINAL, confirmations: 64, feePaid: '21000000000000' }));
    await waitFor(async () => (await transferStatus(sweepId))?.status === 'closed', 20_000, () => `transfer ${sweepId} closed`);
    expect(await transferStatus(sweepId)).toEqual({ status: 'closed', close_reason: 'final', booked: false });
    // The ledger's consumer has not booked the TRANSFER yet: its balance is still the pre-sweep 70 ETH.
    bookings.set(sweepId, 'pending');
    clock.advance(60_000);
    expect(await policy.treasury.round('ETH')).toMatchObject({ hot: 70n * ETH, proposed: [] });
    bookings.set(sweepId, 'down');
    clock.advance(60_000);
    expect(await policy.treasury.round('ETH')).toMatchObject({ hot: 70n * ETH, proposed: [] });
    bookings.delete(sweepId); // NOT_KNOWN (decision not consumed by the ledger yet): not booked either
    expect((await policy.treasury.round('ETH')).proposed).toEqual([]);
    expect(await transferStatus(sweepId)).toEqual({ status: 'closed', close_reason: 'final', booked: false });
    expect(await db.admin(`SELECT 1 FROM decision WHERE withdrawal_id LIKE 'treasury:sweep:ETH:%'`)).toHaveLength(1);
  });

  it('after the ledger booked it the next round proposes only if still above the cap; back under the cap the pause lifts and hot withdrawals run again', async () => {
    bookings.set(sweepId, 'booked');
    setBalances('ETH', 40n * ETH);
    clock.advance(60_000);
    expect(await policy.treasury.round('ETH')).toMatchObject({ incident: false, paused: false, proposed: [] });
    expect(await transferStatus(sweepId)).toEqual({ status: 'closed', close_reason: 'final', booked: true });
    expect((await withdrawEth(ETH)).decision).toBe(PolicyDecision.POLICY_DECISION_ALLOW);
    // Above the cap again: a new sweep may be proposed now that the first one is closed.
    setBalances('ETH', 51n * ETH);
    const again = await policy.treasury.round('ETH');
    expect(again.proposed.map((t) => t.amount)).toEqual([21n * ETH]);
  });
});

describe('C-9.3.7.1-b replenishment warm → hot needs a human quorum and goes only to our own hot wallet', () => {
  it('hot below the floor → a replenishment from our warm wallet is proposed as REQUIRE_APPROVAL (dual); one vote is not enough, the quorum allows it', async () => {
    // Close the ETH sweep of the previous block so only the floor matters here.
    const open = await db.admin<{ transfer_id: string }>(`SELECT transfer_id FROM treasury_transfer WHERE asset = 'ETH' AND status = 'open'`);
    for (const t of open) await publish(Topics.txStatus, HOT.id, TxStatus.fromPartial({ withdrawalId: t.transfer_id, state: TxState.TX_STATE_FINAL, sourceWallet: HOT.id }));
    await waitFor(async () => (await db.admin(`SELECT 1 FROM treasury_transfer WHERE asset = 'ETH' AND status = 'open'`)).length === 0, 20_000, () => 'ETH transfers closed');
    setBalances('ETH', 1n * ETH, 100n * ETH);
    const round = await policy.treasury.round('ETH');
    expect(round.proposed).toHaveLength(1);
    const id = round.proposed[0]!.transferId;
    const pending = await decisionFor(id, PolicyDecision.POLICY_DECISION_REQUIRE_APPROVAL);
    expect(pending.requiredApprovals).toEqual({ quorum: 2, roles: ['compliance', 'treasury'] });
    expect(pending.reasons.map((r) => r.code)).toEqual(['treasury_transfer_requires_approval']);
    expect({ amount: pending.amount, source: pending.sourceWallet, dest: pending.destinationAddress }).toEqual({ amount: (29n * ETH).toString(), source: WARM.id, dest: HOT.address });
    expect(pending.decisionToken).toHaveLength(0);
    // No second replenishment while this one waits.
    expect((await policy.treasury.round('ETH')).proposed).toEqual([]);

    expect((await vote(ALICE, pending.decisionId, 'compliance')).quorumReached).toBe(false);
    const done = await vote(BOB, pending.decisionId, 'treasury');
    expect(done.quorumReached).toBe(true);
    const allowed = await decisionFor(id, PolicyDecision.POLICY_DECISION_ALLOW);
    expect(allowed.approvals.map((a) => a.operatorId).sort()).toEqual(['op-alice', 'op-bob']);
    expect(allowed.treasuryTransfer).toMatchObject({ direction: 'replenish', destinationWallet: HOT.id, sourceTier: 'warm' });
    const token = Buffer.from(allowed.decisionToken).toString('utf8');
    expect(
      verifyDecisionToken(token, { trustedKeys: new Map([[signer.keyId, signer.publicKey]]), clock, expected: { withdrawalId: id, asset: 'ETH', sourceWallet: WARM.id, destination: { address: HOT.address }, amount: 29n * ETH } }),
    ).toMatchObject({ ok: true, claims: { approvals: { quorum: 2, roles: ['compliance', 'treasury'] } } });
  });

  it('an operator replenishment to an address that is not our own hot wallet is denied (and closed at once)', async () => {
    const t = await policy.treasury.proposeReplenishment({ asset: 'BTC', amount: 10_000_000n, sourceWallet: 'btc-warm-01', destinationWallet: 'btc-hot-01', destinationAddress: 'bc1qinstitutionalvaultxxxxxxxxxxxxxxxxxx', requestedBy: DAVE.id, chain: 'bitcoin-mainnet' });
    const d = await decisionFor(t.transferId);
    expect(d.decision).toBe(PolicyDecision.POLICY_DECISION_DENY);
    expect(d.reasons.map((r) => r.code)).toEqual(['treasury_destination_not_own']);
    expect(d.decisionToken).toHaveLength(0);
    expect(t).toMatchObject({ status: 'closed', closeReason: 'decision_deny' });
  });

  it('an operator replenishment to our own hot wallet waits for the quorum; the requester cannot approve it; without the quorum it ends denied (expired) and is closed', async () => {
    const t = await policy.treasury.proposeReplenishment({ asset: 'BTC', amount: 10_000_000n, sourceWallet: 'btc-warm-01', destinationWallet: 'btc-hot-01', destinationAddress: 'bc1qtreasuryhot01xxxxxxxxxxxxxxxxxxxxxxxx', requestedBy: DAVE.id, chain: 'bitcoin-mainnet' });
    const d = await decisionFor(t.transferId);
    expect(d.decision).toBe(PolicyDecision.POLICY_DECISION_REQUIRE_APPROVAL);
    await expect(vote(DAVE, d.decisionId, 'treasury')).rejects.toMatchObject({ code: 'SELF_APPROVAL' });
    await expect(policy.treasury.proposeReplenishment({ asset: 'BTC', amount: 1n, sourceWallet: 'btc-warm-01', destinationWallet: 'btc-hot-01', destinationAddress: 'bc1qtreasuryhot01xxxxxxxxxxxxxxxxxxxxxxxx', requestedBy: DAVE.id, chain: 'bitcoin-mainnet' })).rejects.toMatchObject({
      code: 'TRANSFER_IN_FLIGHT',
    });
    // No quorum within the approval window: DENY approval_expired, never ALLOW; the transfer closes and a new one may be proposed.
    clock.advance(14_400_000 + 1_000);
    expect(await expirePending(policy.store, clock)).toBeGreaterThanOrEqual(1);
    const expired = await decisionFor(t.transferId, PolicyDecision.POLICY_DECISION_DENY);
    expect(expired.reasons.map((r) => r.code)).toEqual(['approval_expired']);
    expect(decided.some((x) => x.withdrawalId === t.transferId && x.decision === PolicyDecision.POLICY_DECISION_ALLOW)).toBe(false);
    setBalances('BTC', 150_000_000n, 0n);
    await policy.treasury.round('BTC');
    expect(await transferStatus(t.transferId)).toEqual({ status: 'closed', close_reason: 'decision_expired' });
    const next = await policy.treasury.proposeReplenishment({ asset: 'BTC', amount: 1n, sourceWallet: 'btc-warm-01', destinationWallet: 'btc-hot-01', destinationAddress: 'bc1qtreasuryhot01xxxxxxxxxxxxxxxxxxxxxxxx', requestedBy: DAVE.id, chain: 'bitcoin-mainnet' });
    expect(next.status).toBe('open');
  });
});
