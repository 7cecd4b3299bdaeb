// LedgerService (read API) over real gRPC + PostgreSQL.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { randomUUID } from 'node:crypto';
import { credentials, Metadata, status, type ServiceError } from '@grpc/grpc-js';
import {
  EntryKind,
  LedgerServiceClient,
  WithdrawalHoldState,
  type GetBalancesRequest,
  type GetBalancesResponse,
  type GetWithdrawalHoldResponse,
  type LedgerEntry,
  type ListAccountHistoryRequest,
  type ListAccountHistoryResponse,
} from '@custody/contracts';
import { InProcessBus } from '@custody/event-bus';
import { errorReason } from '@custody/platform';
import { customerAccount, startLedger, type LedgerHandle } from '../../src/index.js';
import { HOT_WALLET, createTestDatabase, quietLogger, registerWallet, type TestDatabase } from './support.js';

let db: TestDatabase;
let bus: InProcessBus;
let ledger: LedgerHandle;
let client: LedgerServiceClient;
const dave = customerAccount('acme', 'dave');

const getBalances = (req: GetBalancesRequest): Promise<GetBalancesResponse> =>
  new Promise((resolve, reject) => client.getBalances(req, new Metadata(), (err, res) => (err ? reject(err) : resolve(res))));
const listHistory = (req: ListAccountHistoryRequest): Promise<ListAccountHistoryResponse> =>
  new Promise((resolve, reject) => client.listAccountHistory(req, new Metadata(), (err, res) => (err ? reject(err) : resolve(res))));
const getHold = (withdrawalId: string): Promise<GetWithdrawalHoldResponse> =>
  new Promise((resolve, reject) => client.getWithdrawalHold({ withdrawalId }, new Metadata(), (err, res) => (err ? reject(err) : resolve(res))));
const ctx = () => ({ eventId: randomUUID(), correlationId: 'corr-dave' });
const settledIds: string[] = [];
let heldId = '';

beforeAll(async () => {
  db = await createTestDatabase();
  bus = new InProcessBus();
  ledger = await startLedger({ bus, database: { url: db.appUrl, schema: db.schema }, logger: quietLogger(), grpc: { host: '127.0.0.1', port: 0, credentials: { kind: 'insecure' } } });
  await registerWallet(ledger);
  client = new LedgerServiceClient(`127.0.0.1:${ledger.grpcPort}`, credentials.createInsecure());
  const tx = <T>(work: (t: unknown) => Promise<T>): Promise<T> => ledger.store.transaction(work);
  await tx((t) => ledger.postings.depositFinal({ depositId: 'd-dave', clientId: 'acme', customerAccount: 'dave', asset: 'ETH', amount: 1_000n }, ctx(), t));
  await tx((t) => ledger.postings.depositFinal({ depositId: 'd-dave-btc', clientId: 'acme', customerAccount: 'dave', asset: 'BTC', amount: 7n }, ctx(), t));
  for (let i = 0; i < 3; i++) {
    const id = randomUUID();
    await tx((t) => ledger.postings.withdrawalRequested({ withdrawalId: id, clientId: 'acme', customerAccount: 'dave', asset: 'ETH', chain: 'ethereum', amount: 100n }, ctx(), t));
    if (i < 2) {
      await tx((t) => ledger.postings.settle(id, HOT_WALLET, 1n, ctx(), t));
      settledIds.push(id);
    } else heldId = id;
  }
});

afterAll(async () => {
  client?.close();
  await ledger?.stop();
  await bus?.close();
  await db?.drop();
});

describe('LedgerService read API', () => {
  it('GetBalances: available, held and total per asset (decimal strings), filtered by asset', async () => {
    const all = await getBalances({ account: dave, assets: [] });
    expect(all.balances).toEqual([
      { asset: 'BTC', available: '7', held: '0', total: '7' },
      { asset: 'ETH', available: '700', held: '100', total: '800' },
    ]);
    const eth = await getBalances({ account: dave, assets: ['ETH'] });
    expect(eth.balances).toHaveLength(1);
  });

  it('ListAccountHistory: whole entries per page, in booking order, credit-positive amounts', async () => {
    const first = await listHistory({ account: dave, asset: 'ETH', pageSize: 2, pageToken: '' });
    // deposit (1 line), hold (2 lines: available and held)
    expect(first.entries.map((e) => [e.kind, e.bucket, e.amount])).toEqual([
      [EntryKind.ENTRY_KIND_DEPOSIT, 'available', '1000'],
      [EntryKind.ENTRY_KIND_HOLD, 'available', '-100'],
      [EntryKind.ENTRY_KIND_HOLD, 'held', '100'],
    ]);
    expect(first.nextPageToken).not.toBe('');
    const rest: LedgerEntry[] = [];
    let token = first.nextPageToken;
    for (let pages = 0; token !== '' && pages < 10; pages++) {
      const page = await listHistory({ account: dave, asset: 'ETH', pageSize: 2, pageToken: token });
      rest.push(...page.entries);
      token = page.nextPageToken;
    }
    expect(rest.map((e) => e.kind)).toEqual([EntryKind.ENTRY_KIND_SETTLE, EntryKind.ENTRY_KIND_HOLD, EntryKind.ENTRY_KIND_HOLD, EntryKind.ENTRY_KIND_SETTLE, EntryKind.ENTRY_KIND_HOLD, EntryKind.ENTRY_KIND_HOLD]);
    const sequences = [...first.entries, ...rest].map((e) => BigInt(e.sequence));
    expect([...sequences].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0))).toEqual(sequences);
    // The history adds up to the balance.
    const net = [...first.entries, ...rest].filter((e) => e.bucket === 'available').reduce((s, e) => s + BigInt(e.amount), 0n);
    expect(net).toBe(700n);
  });

  it('bad requests are INVALID_ARGUMENT with a reason', async () => {
    const fail = async (p: Promise<unknown>) => {
      try {
        await p;
      } catch (e) {
        return { code: (e as ServiceError).code, reason: errorReason((e as ServiceError).metadata) };
      }
      throw new Error('expected failure');
    };
    expect(await fail(listHistory({ account: '', asset: '', pageSize: 0, pageToken: '' }))).toEqual({ code: status.INVALID_ARGUMENT, reason: 'FIELD_REQUIRED' });
    expect(await fail(listHistory({ account: dave, asset: '', pageSize: 501, pageToken: '' }))).toEqual({ code: status.INVALID_ARGUMENT, reason: 'PAGE_SIZE_INVALID' });
    expect(await fail(listHistory({ account: dave, asset: '', pageSize: 0, pageToken: 'x' }))).toEqual({ code: status.INVALID_ARGUMENT, reason: 'PAGE_TOKEN_INVALID' });
  });
});

describe('LedgerService GetWithdrawalHold (read-only)', () => {
  const state = async (id: string) => (await getHold(id)).state;

  it('a held withdrawal: state HELD, asset, amount, ledger account, available after the hold and the HOLD entry', async () => {
    const hold = await getHold(heldId);
    const history = await listHistory({ account: dave, asset: 'ETH', pageSize: 500, pageToken: '' });
    const holdEntry = history.entries.find((e) => e.kind === EntryKind.ENTRY_KIND_HOLD && e.referenceId === heldId);
    expect(hold).toMatchObject({ withdrawalId: heldId, state: WithdrawalHoldState.WITHDRAWAL_HOLD_STATE_HELD, asset: 'ETH', amount: '100', customerAccount: dave, availableAfterHold: '700' });
    expect(hold.holdEntryId).toBe(holdEntry?.entryId);
    expect(hold.asOf).toBeDefined();
  });

  it('settled, released and refused holds say so; an unknown withdrawal is NONE (not an error)', async () => {
    expect(await state(settledIds[0] as string)).toBe(WithdrawalHoldState.WITHDRAWAL_HOLD_STATE_SETTLED);
    const released = randomUUID();
    const tx = <T>(work: (t: unknown) => Promise<T>): Promise<T> => ledger.store.transaction(work);
    await tx((t) => ledger.postings.withdrawalRequested({ withdrawalId: released, clientId: 'acme', customerAccount: 'dave', asset: 'BTC', chain: 'bitcoin', amount: 5n }, ctx(), t));
    expect(await getHold(released)).toMatchObject({ state: WithdrawalHoldState.WITHDRAWAL_HOLD_STATE_HELD, availableAfterHold: '2' });
    await tx((t) => ledger.postings.release(released, 'POLICY_DENIED', ctx(), t));
    expect(await getHold(released)).toMatchObject({ state: WithdrawalHoldState.WITHDRAWAL_HOLD_STATE_RELEASED, amount: '5', availableAfterHold: '7' });
    const refused = randomUUID();
    await tx((t) => ledger.postings.withdrawalRequested({ withdrawalId: refused, clientId: 'acme', customerAccount: 'dave', asset: 'BTC', chain: 'bitcoin', amount: 8n }, ctx(), t));
    expect(await getHold(refused)).toMatchObject({ state: WithdrawalHoldState.WITHDRAWAL_HOLD_STATE_REJECTED, amount: '8', holdEntryId: '', availableAfterHold: '7' });
    const unknown = randomUUID();
    expect(await getHold(unknown)).toMatchObject({ withdrawalId: unknown, state: WithdrawalHoldState.WITHDRAWAL_HOLD_STATE_NONE, asset: '', amount: '', customerAccount: '', holdEntryId: '' });
  });

  it('reading a hold changes nothing; an empty withdrawal id is INVALID_ARGUMENT FIELD_REQUIRED', async () => {
    const before = await getBalances({ account: dave, assets: [] });
    for (let i = 0; i < 3; i++) await getHold(heldId);
    expect(await getBalances({ account: dave, assets: [] })).toMatchObject({ balances: before.balances });
    await expect(getHold('')).rejects.toMatchObject({ code: status.INVALID_ARGUMENT });
    try {
      await getHold('');
    } catch (e) {
      expect(errorReason((e as ServiceError).metadata)).toBe('FIELD_REQUIRED');
    }
  });
});
