// Event-driven postings over real Kafka + PostgreSQL: hold / release / settle (with fee) /
// reverse on reorg / deposit credit and orphaning; replaying the stream changes nothing.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { KafkaBus, createKafkaClient, protobufEnvelopeCodec, type Envelope } from '@custody/event-bus';
import type { Topic } from '@custody/contracts';
import { customerAccount, depositsAccount, feeAccount, prefixedTopics, startLedger, walletAccount, type LedgerHandle, type PostingOutcome } from '../../src/index.js';
import {
  HOT_WALLET,
  DepositState,
  TxState,
  WithdrawalStatus,
  createPrefixedTopics,
  createTestDatabase,
  deletePrefixedTopics,
  depositDetected,
  keyLifecycle,
  quietLogger,
  rand,
  requireEnv,
  txStatus,
  waitFor,
  withdrawalRequested,
  withdrawalStatus,
  type TestDatabase,
} from './support.js';

const prefix = `t${rand()}.`;
const topic = prefixedTopics(prefix);
let db: TestDatabase;
let bus: KafkaBus;
let ledger: LedgerHandle;
const outcomes = new Map<string, (PostingOutcome | 'duplicate')[]>();

const publish = async (envelopes: readonly Envelope[]): Promise<void> => {
  for (const e of envelopes) await bus.publish([{ topic: topic(e.type as Topic), key: e.key, value: protobufEnvelopeCodec.encode(e) }]);
};
const seen = (e: Envelope): (PostingOutcome | 'duplicate')[] => outcomes.get(e.id) ?? [];
const allProcessed = (events: readonly Envelope[], times = 1) => waitFor(() => events.every((e) => seen(e).length >= times), 60_000, () => `events processed ${times}x; missing: ${events.filter((e) => seen(e).length < times).map((e) => `${e.type}:${e.key}`).join(', ')}; seen: ${JSON.stringify([...outcomes.values()])}`);

type Snapshot = { account: string; asset: string; available: bigint; held: bigint }[];
const alice = customerAccount('acme', 'alice');
const bob = customerAccount('acme', 'bob');
const carol = customerAccount('acme', 'carol');
const hotAccount = walletAccount('ETH', HOT_WALLET);
const w = { w1: '11111111-1111-4111-8111-111111111111', w2: '22222222-2222-4222-8222-222222222222', w3: '33333333-3333-4333-8333-333333333333', w4: '44444444-4444-4444-8444-444444444444', w5: '55555555-5555-4555-8555-555555555555' };

// The signer announces the hot wallet (key.lifecycle): settlements from it are booked to custodian:ETH:eth-hot-01.
const deposits = [keyLifecycle(HOT_WALLET), depositDetected('d-alice', 'alice', 'ETH', 1_000n), depositDetected('d-bob', 'bob', 'ETH', 500n)];
const flow = [
  withdrawalRequested(w.w1, 'alice', 'ETH', 'ethereum', 300n),
  txStatus(w.w1, TxState.TX_STATE_FINAL, 'ethereum', '5'),
  withdrawalRequested(w.w2, 'alice', 'ETH', 'ethereum', 200n),
  withdrawalStatus(w.w2, WithdrawalStatus.WITHDRAWAL_STATUS_DENIED),
  withdrawalRequested(w.w3, 'bob', 'ETH', 'ethereum', 100n),
  txStatus(w.w3, TxState.TX_STATE_FINAL, 'ethereum', '4'),
  txStatus(w.w3, TxState.TX_STATE_REORGED, 'ethereum'),
  txStatus(w.w3, TxState.TX_STATE_FINAL, 'ethereum', '6'),
  withdrawalRequested(w.w4, 'bob', 'ETH', 'ethereum', 1_000n),
  withdrawalRequested(w.w5, 'alice', 'ETH', 'ethereum', 100n),
  withdrawalStatus(w.w5, WithdrawalStatus.WITHDRAWAL_STATUS_CANCELLED),
];
const stream = [...deposits, ...flow];

beforeAll(async () => {
  db = await createTestDatabase();
  await createPrefixedTopics(prefix);
  bus = new KafkaBus({ kafka: createKafkaClient({ brokers: requireEnv('KAFKA_BROKERS').split(','), clientId: `ledger-test-${rand()}`, logLevel: 'nothing' }) });
  ledger = await startLedger({
    bus,
    database: { url: db.appUrl, schema: db.schema },
    logger: quietLogger(),
    topicName: topic,
    consumerGroupId: `ledger-${rand()}`,
    onPosted: (e, o) => outcomes.set(e.id, [...(outcomes.get(e.id) ?? []), o]),
  });
  await publish(deposits);
  await allProcessed(deposits);
  await publish(flow);
  await allProcessed(flow);
});

afterAll(async () => {
  await ledger?.stop();
  await bus?.close();
  await deletePrefixedTopics(prefix).catch(() => undefined);
  await db?.drop();
});

describe('event-driven postings: hold, release on deny/cancel, settle with the network fee, refuse an overdraft', () => {
  it('each withdrawal ends where its events say', async () => {
    const rows = await db.admin<{ withdrawal_id: string; state: string; reason: string }>(`SELECT withdrawal_id, state, reason FROM ledger_withdrawal ORDER BY withdrawal_id`);
    expect(rows).toEqual([
      { withdrawal_id: w.w1, state: 'SETTLED', reason: '' },
      { withdrawal_id: w.w2, state: 'RELEASED', reason: 'DENIED' },
      { withdrawal_id: w.w3, state: 'SETTLED', reason: '' },
      { withdrawal_id: w.w4, state: 'REJECTED', reason: 'INSUFFICIENT_FUNDS' },
      { withdrawal_id: w.w5, state: 'RELEASED', reason: 'CANCELLED' },
    ]);
  });

  it('balances: customers, custodian (amounts and actual fees out) and network fees', async () => {
    expect(await ledger.store.balances()).toEqual([
      // deposits to HD addresses in custodian:ETH:deposits; amounts and actual fees out of the hot wallet
      { account: depositsAccount('ETH'), asset: 'ETH', available: 1_500n, held: 0n },
      { account: hotAccount, asset: 'ETH', available: -(300n + 5n + 100n + 6n), held: 0n },
      { account: alice, asset: 'ETH', available: 700n, held: 0n },
      { account: bob, asset: 'ETH', available: 400n, held: 0n },
      { account: feeAccount('ETH'), asset: 'ETH', available: 11n, held: 0n },
    ]);
  });
});

describe('reorg: the reversal compensates exactly the reorged settlement, nothing else', () => {
  it('w3 has SETTLE(fee 4), REVERSAL = its exact negation, SETTLE(fee 6); w1 is untouched', async () => {
    const entries = await db.admin<{ entry_id: string; kind: string; reference_id: string }>(`SELECT entry_id, kind, reference_id FROM journal_entry WHERE reference_id IN ($1, $2) ORDER BY seq`, [w.w1, w.w3]);
    const lines = async (entryId: string) =>
      (await db.admin<{ account: string; asset: string; bucket: string; amount: string }>(`SELECT account, asset, bucket, amount::text FROM journal_line WHERE entry_id = $1 ORDER BY account, bucket`, [entryId])).map(
        (l) => `${l.account}/${l.bucket}:${l.amount}`,
      );
    const w3 = entries.filter((e) => e.reference_id === w.w3);
    expect(w3.map((e) => e.kind)).toEqual(['HOLD', 'SETTLE', 'REVERSAL', 'SETTLE']);
    const [, firstSettle, reversal, secondSettle] = w3;
    expect(await lines(firstSettle?.entry_id ?? '')).toEqual([`${hotAccount}/available:-104`, `${bob}/held:100`, `${feeAccount('ETH')}/available:4`]);
    expect(await lines(reversal?.entry_id ?? '')).toEqual([`${hotAccount}/available:104`, `${bob}/held:-100`, `${feeAccount('ETH')}/available:-4`]);
    expect(await lines(secondSettle?.entry_id ?? '')).toEqual([`${hotAccount}/available:-106`, `${bob}/held:100`, `${feeAccount('ETH')}/available:6`]);
    expect(entries.filter((e) => e.reference_id === w.w1).map((e) => e.kind)).toEqual(['HOLD', 'SETTLE']);
  });
});

describe('idempotency: replaying the whole event stream twice yields identical balances', () => {
  it('every event replayed twice is a duplicate; balances and journal unchanged', async () => {
    const before: Snapshot = await ledger.store.balances();
    const entriesBefore = await db.admin(`SELECT count(*)::text AS n FROM journal_line`);
    await publish(stream);
    await publish(stream);
    await allProcessed(stream, 3);
    for (const e of stream) expect(seen(e).slice(1)).toEqual(['duplicate', 'duplicate']);
    expect(await ledger.store.balances()).toEqual(before);
    expect(await db.admin(`SELECT count(*)::text AS n FROM journal_line`)).toEqual(entriesBefore);
  });
});

describe('C-5.5.4.2-b ledger rollback by compensation: an orphaned deposit is reversed, never deleted, and re-credited if it reappears', () => {
  it('credit -> orphan -> reversing entry, balance = chain truth, a withdrawal of it is refused; reappears -> re-credited', async () => {
    const credit = depositDetected('d-carol', 'carol', 'ETH', 50n, DepositState.DEPOSIT_STATE_FINAL);
    await publish([credit]);
    await allProcessed([credit]);
    expect(await ledger.store.balances(carol)).toEqual([{ account: carol, asset: 'ETH', available: 50n, held: 0n }]);
    const orphan = depositDetected('d-carol', 'carol', 'ETH', 50n, DepositState.DEPOSIT_STATE_ORPHANED);
    await publish([orphan]);
    await allProcessed([orphan]);
    expect(seen(orphan)).toEqual(['deposit-reversed']);
    expect(await ledger.store.balances(carol)).toEqual([{ account: carol, asset: 'ETH', available: 0n, held: 0n }]);
    const kinds = await db.admin<{ kind: string }>(`SELECT kind FROM journal_entry WHERE reference_id = 'd-carol' ORDER BY seq`);
    expect(kinds.map((k) => k.kind)).toEqual(['DEPOSIT', 'DEPOSIT_REVERSAL']);
    const spend = withdrawalRequested('66666666-6666-4666-8666-666666666666', 'carol', 'ETH', 'ethereum', 50n);
    await publish([spend]);
    await allProcessed([spend]);
    expect(seen(spend)).toEqual(['rejected-insufficient-funds']);
    const reappears = depositDetected('d-carol', 'carol', 'ETH', 50n, DepositState.DEPOSIT_STATE_FINAL);
    await publish([reappears]);
    await allProcessed([reappears]);
    expect(seen(reappears)).toEqual(['credited']);
    expect(await ledger.store.balances(carol)).toEqual([{ account: carol, asset: 'ETH', available: 50n, held: 0n }]);
    const unbalanced = await db.admin(`SELECT entry_id FROM journal_line GROUP BY entry_id, asset HAVING sum(amount) <> 0`);
    expect(unbalanced).toEqual([]);
  });
});
