// Treasury transfers between our own wallets (hot-wallet sweeps and replenishments, decided by
// policy) over real Kafka + PostgreSQL: policy.decided ALLOW names what moves; tx.status FINAL
// books it (source wallet − amount − fee, destination wallet + amount, network fees + fee) —
// balanced, integers, no customer account touched; exactly once per event and per transfer;
// reversed exactly on a reorg; parked (never guessed) while the decision or a wallet is unknown.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { randomUUID } from 'node:crypto';
import { credentials, Metadata, status, type ServiceError } from '@grpc/grpc-js';
import { DepositDetected, DepositState, LedgerServiceClient, PolicyDecided, PolicyDecision, Topics, TransferBookingState, encodeEvent, topicVersion, type GetTransferBookingResponse, type Topic } from '@custody/contracts';
import { errorReason } from '@custody/platform';
import { KafkaBus, createEnvelope, createKafkaClient, protobufEnvelopeCodec, type Envelope } from '@custody/event-bus';
import { customerAccount, feeAccount, prefixedTopics, startLedger, walletAccount, type LedgerHandle, type PostingOutcome } from '../../src/index.js';
import { HOT_WALLET, KeyTier, TxState, createPrefixedTopics, createTestDatabase, deletePrefixedTopics, keyLifecycle, quietLogger, rand, requireEnv, txStatus, waitFor, type TestDatabase } from './support.js';

const prefix = `tt${rand()}.`;
const topic = prefixedTopics(prefix);
const HOT_ADDRESS = '0x00000000000000000000000000000000000a1101';
const COLD = 'eth-cold-01';
const WARM = 'eth-warm-01';
let db: TestDatabase;
let bus: KafkaBus;
let ledger: LedgerHandle;
let client: LedgerServiceClient;
const outcomes = new Map<string, (PostingOutcome | 'duplicate')[]>();

const publish = async (envelopes: readonly Envelope[]): Promise<void> => {
  for (const e of envelopes) await bus.publish([{ topic: topic(e.type as Topic), key: e.key, value: protobufEnvelopeCodec.encode(e) }]);
};
const seen = (e: Envelope): (PostingOutcome | 'duplicate')[] => outcomes.get(e.id) ?? [];
const processed = (events: readonly Envelope[], times = 1) =>
  waitFor(() => events.every((e) => seen(e).length >= times), 60_000, () => `events processed ${times}x; missing: ${events.filter((e) => seen(e).length < times).map((e) => `${e.type}:${e.key}`).join(', ')}`);
const linesOf = async (reference: string, kind: string): Promise<string[][]> => {
  const entries = await db.admin<{ entry_id: string }>(`SELECT entry_id FROM journal_entry WHERE reference_id = $1 AND kind = $2 ORDER BY seq`, [reference, kind]);
  const out: string[][] = [];
  for (const e of entries) out.push((await db.admin<{ l: string }>(`SELECT account || '/' || bucket || ':' || amount::text AS l FROM journal_line WHERE entry_id = $1 ORDER BY account, bucket`, [e.entry_id])).map((r) => r.l));
  return out;
};
/** LedgerService.GetTransferBooking over grpc-js (what policy's hot-wallet monitor asks). */
const booking = (transferId: string): Promise<GetTransferBookingResponse> =>
  new Promise((resolve, reject) => client.getTransferBooking({ transferId }, new Metadata(), (err, res) => (err ? reject(err) : resolve(res))));
const stateOf = async (transferId: string): Promise<TransferBookingState> => (await booking(transferId)).state;
const { TRANSFER_BOOKING_STATE_NOT_KNOWN: NOT_KNOWN, TRANSFER_BOOKING_STATE_PENDING: PENDING, TRANSFER_BOOKING_STATE_BOOKED: BOOKED } = TransferBookingState;
const available = async (account: string): Promise<bigint> => (await ledger.store.balances(account)).find((b) => b.asset === 'ETH')?.available ?? 0n;

/** policy.decided ALLOW of a treasury transfer, as the policy service emits it. */
function allow(transferId: string, amount: bigint, from: string, to: string, toAddress: string): Envelope {
  const message = PolicyDecided.fromPartial({
    decisionId: randomUUID(),
    withdrawalId: transferId,
    decision: PolicyDecision.POLICY_DECISION_ALLOW,
    asset: 'ETH',
    chain: 'ethereum',
    amount: amount.toString(),
    sourceWallet: from,
    destinationAddress: toAddress,
    treasuryTransfer: { direction: 'sweep', destinationWallet: to, sourceTier: 'hot', destinationTier: 'cold' },
  });
  return createEnvelope({ type: Topics.policyDecided, key: transferId, correlationId: transferId, producer: 'policy', schemaVersion: topicVersion(Topics.policyDecided), payload: encodeEvent(Topics.policyDecided, message) });
}

function depositToHot(id: string, amount: bigint): Envelope {
  const payload = encodeEvent(
    Topics.depositDetected,
    DepositDetected.fromPartial({ depositId: id, chain: 'ethereum', asset: 'ETH', address: HOT_ADDRESS, customerAccount: 'alice', clientId: 'acme', amount: amount.toString(), txHash: `tx-${id}`, state: DepositState.DEPOSIT_STATE_FINAL }),
  );
  return createEnvelope({ type: Topics.depositDetected, key: HOT_ADDRESS, correlationId: `dep-${id}`, producer: 'chain-adapter', schemaVersion: topicVersion(Topics.depositDetected), payload });
}

const hot = walletAccount('ETH', HOT_WALLET);
const cold = walletAccount('ETH', COLD);
const warm = walletAccount('ETH', WARM);
const fees = feeAccount('ETH');
const alice = customerAccount('acme', 'alice');
const sweep = `treasury:sweep:ETH:${randomUUID()}`;
const sweepDecision = allow(sweep, 600n, HOT_WALLET, COLD, '0x00000000000000000000000000000000000a3301');
const sweepFinal = txStatus(sweep, TxState.TX_STATE_FINAL, 'ethereum', '5');

beforeAll(async () => {
  db = await createTestDatabase();
  await createPrefixedTopics(prefix);
  bus = new KafkaBus({ kafka: createKafkaClient({ brokers: requireEnv('KAFKA_BROKERS').split(','), clientId: `ledger-transfers-${rand()}`, logLevel: 'nothing' }) });
  ledger = await startLedger({
    bus,
    database: { url: db.appUrl, schema: db.schema },
    logger: quietLogger(),
    topicName: topic,
    consumerGroupId: `ledger-${rand()}`,
    grpc: { host: '127.0.0.1', port: 0, credentials: { kind: 'insecure' } },
    onPosted: (e, o) => outcomes.set(e.id, [...(outcomes.get(e.id) ?? []), o]),
  });
  client = new LedgerServiceClient(`127.0.0.1:${ledger.grpcPort}`, credentials.createInsecure());
  const wallets = [keyLifecycle(HOT_WALLET, KeyTier.KEY_TIER_HOT, { address: HOT_ADDRESS }), keyLifecycle(COLD, KeyTier.KEY_TIER_COLD)];
  await publish(wallets);
  await processed(wallets);
  const deposit = depositToHot('d-1', 1_000n);
  await publish([deposit]);
  await processed([deposit]);
  expect(await available(hot)).toBe(1_000n);
}, 120_000);

afterAll(async () => {
  client?.close();
  await ledger?.stop();
  await bus?.close();
  await deletePrefixedTopics(prefix).catch(() => undefined);
  await db?.drop();
});

describe('C-9.3.7.1-a sweeps booked as internal transfers: balanced, exactly once, reversed on reorg', () => {
  it('a FINAL that overtakes the decision is parked; the ALLOW books it: hot − 600 − fee 5, cold + 600, network fees + 5, no customer account moves', async () => {
    await publish([sweepFinal]);
    await processed([sweepFinal]);
    expect(seen(sweepFinal)).toEqual(['deferred']);
    expect(await linesOf(sweep, 'TRANSFER')).toEqual([]);
    expect(await stateOf(sweep)).toBe(NOT_KNOWN); // FINAL parked, decision not consumed: not booked
    await publish([sweepDecision]);
    await processed([sweepDecision]);
    expect(seen(sweepDecision)).toEqual(['transfer-authorised']);
    expect(await linesOf(sweep, 'TRANSFER')).toEqual([[`${cold}/available:600`, `${hot}/available:-605`, `${fees}/available:5`]]);
    expect([await available(hot), await available(cold), await available(fees), await available(alice)]).toEqual([395n, 600n, 5n, 1_000n]);
    expect(await db.admin(`SELECT state FROM ledger_transfer WHERE transfer_id = $1`, [sweep])).toEqual([{ state: 'SETTLED' }]);
    const [entry] = await db.admin<{ entry_id: string }>(`SELECT entry_id FROM journal_entry WHERE reference_id = $1 AND kind = 'TRANSFER'`, [sweep]);
    expect(await booking(sweep)).toMatchObject({ transferId: sweep, state: BOOKED, entryId: entry!.entry_id });
  });

  it('every entry balances per asset; a second FINAL of the same transfer and a redelivered decision book nothing', async () => {
    expect(await db.admin(`SELECT asset, sum(amount)::text AS s FROM journal_line GROUP BY asset HAVING sum(amount) <> 0`)).toEqual([]);
    expect(await db.admin(`SELECT e.entry_id FROM journal_entry e JOIN journal_line l USING (entry_id) GROUP BY e.entry_id, l.asset HAVING sum(l.amount) <> 0`)).toEqual([]);
    const again = txStatus(sweep, TxState.TX_STATE_FINAL, 'ethereum', '5');
    await publish([again, sweepDecision]);
    await processed([again, sweepDecision], 1);
    await processed([sweepDecision], 2);
    expect(seen(again)).toEqual(['ignored']);
    expect(seen(sweepDecision)).toEqual(['transfer-authorised', 'duplicate']);
    expect(await linesOf(sweep, 'TRANSFER')).toHaveLength(1);
    expect(await available(hot)).toBe(395n);
  });

  it('a reorg reverses exactly the TRANSFER entry; the next FINAL books it again', async () => {
    const reorg = txStatus(sweep, TxState.TX_STATE_REORGED, 'ethereum');
    await publish([reorg]);
    await processed([reorg]);
    expect(seen(reorg)).toEqual(['transfer-reversed']);
    expect(await linesOf(sweep, 'REVERSAL')).toEqual([[`${cold}/available:-600`, `${hot}/available:605`, `${fees}/available:-5`]]);
    expect([await available(hot), await available(cold), await available(fees)]).toEqual([1_000n, 0n, 0n]);
    expect(await booking(sweep)).toMatchObject({ state: PENDING, entryId: '' }); // reversed: authorised again, not booked
    const refinal = txStatus(sweep, TxState.TX_STATE_FINAL, 'ethereum', '7');
    await publish([refinal]);
    await processed([refinal]);
    expect(seen(refinal)).toEqual(['transfer-settled']);
    expect([await available(hot), await available(cold), await available(fees)]).toEqual([393n, 600n, 7n]);
    expect(await stateOf(sweep)).toBe(BOOKED);
  });

  it('a transfer to a wallet the ledger has not registered is parked (no guessed account) and booked once key.lifecycle registers it', async () => {
    const t2 = `treasury:sweep:ETH:${randomUUID()}`;
    const decision = allow(t2, 100n, HOT_WALLET, WARM, '0x00000000000000000000000000000000000a2201');
    const final = txStatus(t2, TxState.TX_STATE_FINAL, 'ethereum', '');
    await publish([decision]);
    await processed([decision]);
    await publish([final]);
    await processed([final]);
    expect(seen(final)).toEqual(['deferred-wallet-unknown']);
    expect(await available(warm)).toBe(0n);
    expect(await stateOf(t2)).toBe(PENDING); // final on chain, parked here: the balances do not show it
    const register = keyLifecycle(WARM, KeyTier.KEY_TIER_WARM);
    await publish([register]);
    await processed([register]);
    expect(await linesOf(t2, 'TRANSFER')).toEqual([[`${hot}/available:-100`, `${warm}/available:100`]]);
    expect([await available(hot), await available(warm)]).toEqual([293n, 100n]);
    expect(await stateOf(t2)).toBe(BOOKED);
  });

  it('a FAILED transfer books and parks nothing: a later FINAL of the same transfer (same partition, after it) settles at once', async () => {
    const t3 = `treasury:sweep:ETH:${randomUUID()}`;
    const decision = allow(t3, 50n, HOT_WALLET, COLD, '0x00000000000000000000000000000000000a3301');
    await publish([decision]);
    await processed([decision]);
    const failed = txStatus(t3, TxState.TX_STATE_FAILED, 'ethereum');
    const final = txStatus(t3, TxState.TX_STATE_FINAL, 'ethereum', '');
    await publish([failed, final]);
    await processed([final]);
    expect(seen(failed)).toEqual([]); // nothing for the books
    expect(seen(final)).toEqual(['transfer-settled']);
    expect(await linesOf(t3, 'TRANSFER')).toEqual([[`${cold}/available:50`, `${hot}/available:-50`]]);
    expect(await db.admin(`SELECT 1 FROM ledger_pending_event WHERE withdrawal_id = $1`, [t3])).toEqual([]);
    expect(await available(alice)).toBe(1_000n); // the customer's liability never moved
  });
});

describe('C-9.3.7.1-a LedgerService GetTransferBooking (read-only)', () => {
  it('an unknown transfer is NOT_KNOWN (not an error); an empty or oversized id is INVALID_ARGUMENT with a reason; reading changes nothing', async () => {
    const before = await db.admin(`SELECT count(*)::int AS n FROM journal_entry`);
    expect(await booking(`treasury:sweep:ETH:${randomUUID()}`)).toMatchObject({ state: NOT_KNOWN, entryId: '' });
    for (const [id, reason] of [['', 'FIELD_REQUIRED'], ['x'.repeat(201), 'FIELD_TOO_LONG']] as const) {
      const err = await booking(id).then(() => undefined, (e: ServiceError) => e);
      expect(err?.code).toBe(status.INVALID_ARGUMENT);
      expect(errorReason(err?.metadata)).toBe(reason);
    }
    expect(await db.admin(`SELECT count(*)::int AS n FROM journal_entry`)).toEqual(before);
  });
});
