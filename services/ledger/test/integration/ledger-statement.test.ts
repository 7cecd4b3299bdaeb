// LedgerService/GetStatement over real gRPC + PostgreSQL, on postings made through the real
// ledger application (deposits, holds, settle, reorg reversal, release). Booking times come
// from a stepped clock so period boundaries fall where the test puts them.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { randomUUID } from 'node:crypto';
import { credentials, Metadata, status, type ServiceError } from '@grpc/grpc-js';
import { EntryKind, LedgerServiceClient, timestampFromDate } from '@custody/contracts';
import { InProcessBus } from '@custody/event-bus';
import { errorReason } from '@custody/platform';
import { customerAccount, startLedger, type LedgerHandle } from '../../src/index.js';
import { HOT_WALLET, createTestDatabase, quietLogger, registerWallet, type TestDatabase } from './support.js';

type StatementRequest = Parameters<LedgerServiceClient['getStatement']>[0];
type StatementResponse = Parameters<Parameters<LedgerServiceClient['getStatement']>[3]>[1];

let db: TestDatabase;
let bus: InProcessBus;
let ledger: LedgerHandle;
let client: LedgerServiceClient;
const T0 = Date.parse('2026-03-01T00:00:00.000Z');
const minute = 60_000;
const at = (m: number): Date => new Date(T0 + m * minute);
let now = at(0);
const ids = { w1: randomUUID(), w2: randomUUID(), w3: randomUUID(), d1: randomUUID(), d2: randomUUID() };
/** The boundary in the middle of the history (between the RELEASE at minute 5 and the deposit at minute 6). */
const MIDDLE = new Date(T0 + 5.5 * minute);

const getStatement = (req: StatementRequest): Promise<StatementResponse> =>
  new Promise((resolve, reject) => client.getStatement(req, new Metadata(), (err, res) => (err ? reject(err) : resolve(res))));
const request = (from: Date, to: Date, over: Partial<StatementRequest> = {}): StatementRequest => ({
  clientId: 'acme',
  customerAccount: 'erin',
  asset: 'ETH',
  from: timestampFromDate(from),
  to: timestampFromDate(to),
  pageSize: 0,
  pageToken: '',
  ...over,
});
const ctx = () => ({ eventId: randomUUID(), correlationId: 'corr-erin' });

beforeAll(async () => {
  db = await createTestDatabase();
  bus = new InProcessBus();
  ledger = await startLedger({
    bus,
    database: { url: db.appUrl, schema: db.schema },
    logger: quietLogger(),
    clock: { now: () => now },
    grpc: { host: '127.0.0.1', port: 0, credentials: { kind: 'insecure' } },
  });
  client = new LedgerServiceClient(`127.0.0.1:${ledger.grpcPort}`, credentials.createInsecure());
  await registerWallet(ledger);
  const post = async (minuteOfDay: number, work: (t: unknown) => Promise<unknown>) => {
    now = at(minuteOfDay);
    await ledger.store.transaction(work);
  };
  const { postings } = ledger;
  const w = (withdrawalId: string, amount: bigint) => ({ withdrawalId, clientId: 'acme', customerAccount: 'erin', asset: 'ETH', chain: 'ethereum', amount });
  await post(1, (t) => postings.depositFinal({ depositId: ids.d1, clientId: 'acme', customerAccount: 'erin', asset: 'ETH', amount: 1_000n }, ctx(), t));
  await post(1.5, (t) => postings.depositFinal({ depositId: randomUUID(), clientId: 'acme', customerAccount: 'frank', asset: 'ETH', amount: 9_999n }, ctx(), t));
  await post(2, (t) => postings.withdrawalRequested(w(ids.w1, 300n), ctx(), t));
  await post(3, (t) => postings.settle(ids.w1, HOT_WALLET, 2n, ctx(), t));
  await post(4, (t) => postings.withdrawalRequested(w(ids.w2, 200n), ctx(), t));
  await post(5, (t) => postings.release(ids.w2, 'POLICY_DENIED', ctx(), t));
  await post(6, (t) => postings.depositFinal({ depositId: ids.d2, clientId: 'acme', customerAccount: 'erin', asset: 'ETH', amount: 50n }, ctx(), t));
  await post(7, (t) => postings.withdrawalRequested(w(ids.w3, 100n), ctx(), t));
  await post(8, (t) => postings.settle(ids.w3, HOT_WALLET, 1n, ctx(), t));
  await post(9, (t) => postings.reverse(ids.w3, ctx(), t));
  await post(10, (t) => postings.release(ids.w3, 'FAILED', ctx(), t));
  await post(11, (t) => postings.depositFinal({ depositId: randomUUID(), clientId: 'acme', customerAccount: 'erin', asset: 'BTC', amount: 25n }, ctx(), t));
  now = at(60);
});

afterAll(async () => {
  client?.close();
  await ledger?.stop();
  await bus?.close();
  await db?.drop();
});

const bal = (available: bigint, held: bigint) => ({ available: available.toString(), held: held.toString(), total: (available + held).toString() });

describe('LedgerService GetStatement', () => {
  it('a period starting in the middle of the history: opening at `from`, every line in booking order, closing at `to`', async () => {
    const s = await getStatement(request(MIDDLE, at(12)));
    expect(s.account).toBe(customerAccount('acme', 'erin'));
    expect(s.opening).toEqual(bal(700n, 0n)); // 1000 - 300 settled; the 200 hold released
    expect(s.lines.map((l) => [l.kind, l.bucket, l.amount])).toEqual([
      [EntryKind.ENTRY_KIND_DEPOSIT, 'available', '50'],
      [EntryKind.ENTRY_KIND_HOLD, 'available', '-100'],
      [EntryKind.ENTRY_KIND_HOLD, 'held', '100'],
      [EntryKind.ENTRY_KIND_SETTLE, 'held', '-100'],
      [EntryKind.ENTRY_KIND_REVERSAL, 'held', '100'],
      [EntryKind.ENTRY_KIND_RELEASE, 'available', '100'],
      [EntryKind.ENTRY_KIND_RELEASE, 'held', '-100'],
    ]);
    expect(s.lines.map((l) => l.balanceAfter?.available)).toEqual(['750', '650', '650', '650', '650', '750', '750']);
    expect(s.closing).toEqual(bal(750n, 0n));
    // References and causes: the deposit names its deposit id, the others the withdrawal.
    expect(s.lines[0]).toMatchObject({ depositId: ids.d2, withdrawalId: '' });
    expect(s.lines.slice(1).every((l) => l.withdrawalId === ids.w3 && l.depositId === '')).toBe(true);
    expect(s.lines.every((l) => l.causeEventId.length > 0 && l.entryId.length > 0)).toBe(true);
    const sequences = s.lines.map((l) => BigInt(l.sequence));
    expect([...sequences].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0))).toEqual(sequences);
    // opening + sum(lines) = closing, and the closing balance is the account's balance now.
    const net = s.lines.reduce((acc, l) => ({ available: acc.available + (l.bucket === 'available' ? BigInt(l.amount) : 0n), held: acc.held + (l.bucket === 'held' ? BigInt(l.amount) : 0n) }), { available: 700n, held: 0n });
    expect(bal(net.available, net.held)).toEqual(s.closing);
    const balances = await ledger.store.balances(customerAccount('acme', 'erin'));
    expect(balances.find((b) => b.asset === 'ETH')).toMatchObject({ available: 750n, held: 0n });
    expect(s.nextPageToken).toBe('');
  });

  it('the period before the boundary closes where the next one opens; other customers and assets are not in it', async () => {
    const before = await getStatement(request(at(0), MIDDLE));
    expect(before.opening).toEqual(bal(0n, 0n));
    expect(before.closing).toEqual(bal(700n, 0n));
    expect(before.lines.map((l) => l.kind)).toEqual([
      EntryKind.ENTRY_KIND_DEPOSIT,
      EntryKind.ENTRY_KIND_HOLD,
      EntryKind.ENTRY_KIND_HOLD,
      EntryKind.ENTRY_KIND_SETTLE,
      EntryKind.ENTRY_KIND_HOLD,
      EntryKind.ENTRY_KIND_HOLD,
      EntryKind.ENTRY_KIND_RELEASE,
      EntryKind.ENTRY_KIND_RELEASE,
    ]);
    expect(before.lines.some((l) => l.amount === '9999')).toBe(false);
    const btc = await getStatement(request(at(0), at(60), { asset: 'BTC' }));
    expect(btc.lines.map((l) => l.amount)).toEqual(['25']);
    expect(btc.closing).toEqual(bal(25n, 0n));
    // An empty period: opening = closing, no lines.
    const quiet = await getStatement(request(at(20), at(30)));
    expect(quiet).toMatchObject({ opening: bal(750n, 0n), closing: bal(750n, 0n), lines: [], nextPageToken: '' });
  });

  it('from is inclusive and to exclusive, to the nanosecond (booking times are whole milliseconds)', async () => {
    const six = at(6);
    expect((await getStatement(request(six, at(7)))).lines.map((l) => l.amount)).toEqual(['50']);
    expect((await getStatement(request(at(5.75), six))).lines).toEqual([]);
    const justAfter = { ...timestampFromDate(six), nanos: timestampFromDate(six).nanos + 1 };
    const s = await getStatement({ ...request(six, at(7)), from: justAfter });
    expect(s.lines).toEqual([]);
    expect(s.opening).toEqual(bal(750n, 0n));
  });

  it('paged by whole entries: pages chain (page closing = next page opening) and together are the unpaged statement', async () => {
    const whole = await getStatement(request(at(0), at(60)));
    const lines: StatementResponse['lines'] = [];
    let token = '';
    let previousClosing = whole.opening;
    let pages = 0;
    do {
      const page = await getStatement(request(at(0), at(60), { pageSize: 2, pageToken: token }));
      expect(page.opening).toEqual(whole.opening);
      expect(page.closing).toEqual(whole.closing);
      expect(page.pageOpening).toEqual(previousClosing);
      expect(new Set(page.lines.map((l) => l.entryId)).size).toBeLessThanOrEqual(2);
      previousClosing = page.pageClosing;
      lines.push(...page.lines);
      token = page.nextPageToken;
      pages++;
    } while (token !== '' && pages < 20);
    expect(token).toBe('');
    expect(pages).toBe(5); // 10 entries of erin’s ETH, 2 per page
    expect(previousClosing).toEqual(whole.closing);
    expect(lines).toEqual(whole.lines);
  });

  it('bad input is INVALID_ARGUMENT naming the field, and changes nothing', async () => {
    const entries = async () => (await db.admin<{ n: string }>(`SELECT count(*)::text AS n FROM journal_entry`))[0]?.n;
    const before = await entries();
    const fail = async (req: StatementRequest) => {
      try {
        await getStatement(req);
      } catch (e) {
        const err = e as ServiceError;
        return { code: err.code, reason: errorReason(err.metadata), details: err.details };
      }
      throw new Error('expected failure');
    };
    expect(await fail(request(at(5), at(5)))).toEqual({ code: status.INVALID_ARGUMENT, reason: 'PERIOD_INVALID', details: expect.stringMatching(/^to: /) });
    expect(await fail(request(at(6), at(5)))).toMatchObject({ code: status.INVALID_ARGUMENT, reason: 'PERIOD_INVALID' });
    expect(await fail(request(at(0), new Date(T0 + 367 * 24 * 60 * minute)))).toEqual({ code: status.INVALID_ARGUMENT, reason: 'PERIOD_TOO_LONG', details: expect.stringMatching(/^to: /) });
    expect(await fail(request(at(0), at(1), { asset: 'eth!' }))).toEqual({ code: status.INVALID_ARGUMENT, reason: 'ASSET_INVALID', details: expect.stringMatching(/^asset: /) });
    expect(await fail({ ...request(at(0), at(1)), from: undefined })).toEqual({ code: status.INVALID_ARGUMENT, reason: 'FIELD_REQUIRED', details: expect.stringMatching(/^from: /) });
    expect(await fail(request(at(0), at(1), { customerAccount: '' }))).toMatchObject({ reason: 'FIELD_REQUIRED', details: expect.stringMatching(/^customer_account: /) });
    expect(await fail(request(at(0), at(1), { pageToken: '12.0000000000000000' }))).toMatchObject({ code: status.INVALID_ARGUMENT, reason: 'PAGE_TOKEN_INVALID' });
    expect(await fail({ ...request(at(0), at(1)), to: { seconds: '1', nanos: -1 } })).toMatchObject({ code: status.INVALID_ARGUMENT, reason: 'TIMESTAMP_INVALID' });
    expect(await entries()).toBe(before);
  });
});
