// Per-wallet custodial accounts over real Kafka + PostgreSQL: key.lifecycle registers the
// wallets (id, tier); a FINAL tx.status settles against custodian:<asset>:<source_wallet> with
// the actual fee from the same wallet; a reorg reverses exactly; a tx.status from a wallet the
// ledger has not registered is parked (never booked to a guessed account) and settles once the
// wallet is registered; replaying the stream changes nothing; the legacy omnibus account keeps
// its history and counts in the custodial total; GetWalletBalances reports wallets and tiers.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { randomUUID } from 'node:crypto';
import { credentials, Metadata, status, type ServiceError } from '@grpc/grpc-js';
import { CustodialTier, LedgerServiceClient, type GetWalletBalancesResponse, type Topic } from '@custody/contracts';
import { KafkaBus, createKafkaClient, protobufEnvelopeCodec, type Envelope } from '@custody/event-bus';
import { custodianAccount, customerAccount, depositsAccount, feeAccount, prefixedTopics, startLedger, walletAccount, type LedgerHandle, type PostingOutcome } from '../../src/index.js';
import {
  HOT_WALLET,
  KeyTier,
  TxState,
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
  type TestDatabase,
} from './support.js';

const prefix = `tw${rand()}.`;
const topic = prefixedTopics(prefix);
const COLD = 'eth-cold-09';
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
const linesOf = async (withdrawalId: string, kind: string): Promise<string[][]> => {
  const entries = await db.admin<{ entry_id: string }>(`SELECT entry_id FROM journal_entry WHERE reference_id = $1 AND kind = $2 ORDER BY seq`, [withdrawalId, kind]);
  const out: string[][] = [];
  for (const e of entries) {
    out.push((await db.admin<{ l: string }>(`SELECT account || '/' || bucket || ':' || amount::text AS l FROM journal_line WHERE entry_id = $1 ORDER BY account, bucket`, [e.entry_id])).map((r) => r.l));
  }
  return out;
};
const walletBalances = (asset = 'ETH'): Promise<GetWalletBalancesResponse> =>
  new Promise((res, rej) => client.getWalletBalances({ asset }, new Metadata(), { deadline: Date.now() + 10_000 }, (err, r) => (err ? rej(err) : res(r))));

const alice = customerAccount('acme', 'alice');
const hot = walletAccount('ETH', HOT_WALLET);
const cold = walletAccount('ETH', COLD);
const w1 = randomUUID();
const w2 = randomUUID();
const w3 = randomUUID();

// The stream: the hot wallet is registered; alice deposits; w1 settles from the hot wallet
// (fee 7), is reorged and settles again (fee 9); w2 settles from a wallet not registered yet.
const register = keyLifecycle(HOT_WALLET, KeyTier.KEY_TIER_HOT);
const funding = [register, depositDetected('d-alice', 'alice', 'ETH', 1_000n)];
const holds = [withdrawalRequested(w1, 'alice', 'ETH', 'ethereum', 300n), withdrawalRequested(w2, 'alice', 'ETH', 'ethereum', 100n)];
const setup = [...funding, ...holds];
const settle1 = txStatus(w1, TxState.TX_STATE_FINAL, 'ethereum', '7');
const reorg1 = txStatus(w1, TxState.TX_STATE_REORGED, 'ethereum');
const resettle1 = txStatus(w1, TxState.TX_STATE_FINAL, 'ethereum', '9');
const unknownWallet = txStatus(w2, TxState.TX_STATE_FINAL, 'ethereum', '3', COLD);
const registerCold = keyLifecycle(COLD, KeyTier.KEY_TIER_COLD);
const stream = [...setup, settle1, reorg1, resettle1, unknownWallet, registerCold];

beforeAll(async () => {
  db = await createTestDatabase();
  await createPrefixedTopics(prefix);
  bus = new KafkaBus({ kafka: createKafkaClient({ brokers: requireEnv('KAFKA_BROKERS').split(','), clientId: `ledger-wallets-${rand()}`, logLevel: 'nothing' }) });
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
  // Topics are consumed independently: the deposit is credited before the holds are asked for.
  await publish(funding);
  await processed(funding);
  await publish(holds);
  await processed(holds);
  expect(holds.map((h) => seen(h))).toEqual([['held'], ['held']]);
});

afterAll(async () => {
  client?.close();
  await ledger?.stop();
  await bus?.close();
  await deletePrefixedTopics(prefix).catch(() => undefined);
  await db?.drop();
});

describe('per-wallet custodial accounts from key.lifecycle and tx.status source_wallet', () => {
  it('key.lifecycle registers eth-hot-01 as a hot wallet (exactly once: the inbox)', async () => {
    expect(seen(register)).toEqual(['wallet-registered']);
    expect(await db.admin(`SELECT wallet_id, chain, tier FROM ledger_wallet`)).toEqual([{ wallet_id: HOT_WALLET, chain: 'ethereum', tier: 'hot' }]);
  });

  it('a FINAL withdrawal settles against custodian:ETH:eth-hot-01, the fee from the same wallet', async () => {
    await publish([settle1]);
    await processed([settle1]);
    expect(seen(settle1)).toEqual(['settled']);
    expect(await linesOf(w1, 'SETTLE')).toEqual([[`${hot}/available:-307`, `${alice}/held:300`, `${feeAccount('ETH')}/available:7`]]);
    expect(await ledger.store.balances(depositsAccount('ETH'))).toEqual([{ account: depositsAccount('ETH'), asset: 'ETH', available: 1_000n, held: 0n }]);
  });

  it('a reorg reverses exactly that settlement; the next FINAL settles again from the same wallet', async () => {
    await publish([reorg1, resettle1]);
    await processed([reorg1, resettle1]);
    expect(seen(reorg1)).toEqual(['reversed']);
    expect(await linesOf(w1, 'REVERSAL')).toEqual([[`${hot}/available:307`, `${alice}/held:-300`, `${feeAccount('ETH')}/available:-7`]]);
    expect(await linesOf(w1, 'SETTLE')).toEqual([
      [`${hot}/available:-307`, `${alice}/held:300`, `${feeAccount('ETH')}/available:7`],
      [`${hot}/available:-309`, `${alice}/held:300`, `${feeAccount('ETH')}/available:9`],
    ]);
    expect(await ledger.store.balances(hot)).toEqual([{ account: hot, asset: 'ETH', available: -309n, held: 0n }]);
  });

  it('a tx.status from a wallet the ledger has not registered is parked, booked to no account; registering the wallet settles it there', async () => {
    await publish([unknownWallet]);
    await processed([unknownWallet]);
    expect(seen(unknownWallet)).toEqual(['deferred-wallet-unknown']);
    expect(await db.admin(`SELECT state FROM ledger_withdrawal WHERE withdrawal_id = $1`, [w2])).toEqual([{ state: 'HELD' }]);
    expect(await linesOf(w2, 'SETTLE')).toEqual([]);
    expect(await db.admin(`SELECT account FROM ledger_balance WHERE account = $1`, [cold])).toEqual([]);
    expect(await db.admin(`SELECT action, source_wallet FROM ledger_pending_event WHERE withdrawal_id = $1`, [w2])).toEqual([{ action: 'SETTLE', source_wallet: COLD }]);

    await publish([registerCold]);
    await processed([registerCold]);
    expect(seen(registerCold)).toEqual(['wallet-registered']);
    expect(await linesOf(w2, 'SETTLE')).toEqual([[`${cold}/available:-103`, `${alice}/held:100`, `${feeAccount('ETH')}/available:3`]]);
    expect(await db.admin(`SELECT 1 FROM ledger_pending_event WHERE withdrawal_id = $1`, [w2])).toEqual([]);
  });

  it('replaying the whole stream twice: all duplicates, identical balances and journal', async () => {
    const before = await ledger.store.balances();
    const linesBefore = await db.admin(`SELECT count(*)::text AS n FROM journal_line`);
    await publish(stream);
    await publish(stream);
    await processed(stream, 3);
    for (const e of stream) expect(seen(e).slice(-2)).toEqual(['duplicate', 'duplicate']);
    expect(await ledger.store.balances()).toEqual(before);
    expect(await db.admin(`SELECT count(*)::text AS n FROM journal_line`)).toEqual(linesBefore);
  });

  it('a settlement that would take the custodial total of the asset below 0 is refused by the database (wallet accounts may dip, the total may not)', async () => {
    await ledger.store.transaction((t) => ledger.postings.withdrawalRequested({ withdrawalId: w3, clientId: 'acme', customerAccount: 'alice', asset: 'ETH', chain: 'ethereum', amount: 10n }, { eventId: randomUUID(), correlationId: w3 }, t));
    const total = (await db.admin<{ t: string }>(`SELECT sum(available)::text AS t FROM ledger_balance WHERE account LIKE 'custodian:%' AND asset = 'ETH'`))[0]!.t;
    const outcome = await ledger.store.transaction((t) => ledger.postings.settle(w3, HOT_WALLET, BigInt(total), { eventId: randomUUID(), correlationId: w3 }, t));
    expect(outcome).toBe('settle-refused-insufficient-funds');
    expect(await db.admin(`SELECT state FROM ledger_withdrawal WHERE withdrawal_id = $1`, [w3])).toEqual([{ state: 'HELD' }]);
  });
});

describe('existing books: the legacy omnibus account keeps its history and counts in the custodial total', () => {
  it('a legacy credit of custodian:ETH (as booked before per-wallet accounts) stays; its reversal negates it there; GetWalletBalances reports wallets, tiers and the total', async () => {
    // A deposit as the previous code booked it (custodian:<asset>), written by the owner as history.
    const entry = randomUUID();
    await db.admin(
      `WITH e AS (INSERT INTO journal_entry (entry_id, kind, cause_event_id, reference_id, correlation_id, booked_at) VALUES ($1, 'DEPOSIT', 'legacy-ev', 'd-legacy', 'legacy', now()) RETURNING entry_id)
       INSERT INTO journal_line (entry_id, line_no, account, asset, bucket, amount) SELECT entry_id, 1, 'custodian:ETH', 'ETH', 'available', 500 FROM e
       UNION ALL SELECT entry_id, 2, 'customer:acme:bob', 'ETH', 'available', -500 FROM e`,
      [entry],
    );
    await db.admin(`INSERT INTO ledger_deposit (deposit_id, account, asset, amount, state, entry_id) VALUES ('d-legacy', 'customer:acme:bob', 'ETH', 500, 'CREDITED', $1)`, [entry]);
    const r = await walletBalances();
    const byAccount = new Map(r.balances.map((b) => [b.account, b]));
    expect(byAccount.get(custodianAccount('ETH'))).toMatchObject({ walletId: '', tier: CustodialTier.CUSTODIAL_TIER_LEGACY_OMNIBUS, available: '500' });
    expect(byAccount.get(depositsAccount('ETH'))).toMatchObject({ walletId: 'deposits', tier: CustodialTier.CUSTODIAL_TIER_DEPOSITS, available: '1000' });
    expect(byAccount.get(hot)).toMatchObject({ walletId: HOT_WALLET, tier: CustodialTier.CUSTODIAL_TIER_HOT, chain: 'ethereum', available: '-309' });
    expect(byAccount.get(cold)).toMatchObject({ walletId: COLD, tier: CustodialTier.CUSTODIAL_TIER_COLD, available: '-103' });
    expect(r.totals).toEqual([{ asset: 'ETH', total: (500n + 1_000n - 309n - 103n).toString() }]);

    const orphan = await ledger.store.transaction((t) => ledger.postings.depositOrphaned('d-legacy', { eventId: randomUUID(), correlationId: 'legacy' }, t));
    expect(orphan).toBe('deposit-reversed');
    const rev = await db.admin<{ l: string }>(
      `SELECT l.account || ':' || l.amount::text AS l FROM journal_line l JOIN journal_entry e USING (entry_id) WHERE e.reference_id = 'd-legacy' AND e.kind = 'DEPOSIT_REVERSAL' ORDER BY l.account`,
    );
    expect(rev.map((x) => x.l)).toEqual(['custodian:ETH:-500', 'customer:acme:bob:500']);
    expect(await db.admin(`SELECT count(*)::int AS n FROM journal_line WHERE entry_id = $1`, [entry])).toEqual([{ n: 2 }]);
  });

  it('a malformed asset is INVALID_ARGUMENT', async () => {
    const err = await walletBalances('eth!').then(
      () => undefined,
      (e: ServiceError) => e,
    );
    expect(err?.code).toBe(status.INVALID_ARGUMENT);
  });
});
