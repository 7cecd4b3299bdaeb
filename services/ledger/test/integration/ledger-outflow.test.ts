// LedgerService GetOutflow (the rolling-velocity figure the policy reads) over real gRPC +
// PostgreSQL, with the ledger's clock moved so holds are booked inside and outside the window.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { randomUUID } from 'node:crypto';
import { credentials, Metadata, status, type ServiceError } from '@grpc/grpc-js';
import { LedgerServiceClient, timestampFromDate, type GetOutflowRequest, type GetOutflowResponse } from '@custody/contracts';
import { InProcessBus } from '@custody/event-bus';
import { errorReason } from '@custody/platform';
import { customerAccount, startLedger, type LedgerHandle } from '../../src/index.js';
import { HOT_WALLET, createTestDatabase, quietLogger, registerWallet, type TestDatabase } from './support.js';

let db: TestDatabase;
let bus: InProcessBus;
let ledger: LedgerHandle;
let client: LedgerServiceClient;
let now = new Date('2025-06-01T00:00:00Z');
const DAY = 86_400_000;
const T0 = new Date('2025-06-02T10:00:00Z');
const ids = { old: '', held: '', settled: '', released: '', rejected: '', otherAsset: '', current: '' };

const getOutflow = (req: Partial<GetOutflowRequest>): Promise<GetOutflowResponse> =>
  new Promise((resolve, reject) =>
    client.getOutflow({ clientId: 'acme', customerAccount: 'erin', asset: 'ETH', since: timestampFromDate(new Date(T0.getTime() - DAY)), excludeWithdrawalId: '', ...req }, new Metadata(), (err, res) => (err ? reject(err) : resolve(res))),
  );
const ctx = () => ({ eventId: randomUUID(), correlationId: 'corr-erin' });

beforeAll(async () => {
  db = await createTestDatabase();
  bus = new InProcessBus();
  ledger = await startLedger({ bus, database: { url: db.appUrl, schema: db.schema }, logger: quietLogger(), clock: { now: () => now }, grpc: { host: '127.0.0.1', port: 0, credentials: { kind: 'insecure' } } });
  await registerWallet(ledger);
  client = new LedgerServiceClient(`127.0.0.1:${ledger.grpcPort}`, credentials.createInsecure());
  const tx = <T>(work: (t: unknown) => Promise<T>): Promise<T> => ledger.store.transaction(work);
  const request = (asset: string, amount: bigint, customer = 'erin') => {
    const id = randomUUID();
    return tx((t) => ledger.postings.withdrawalRequested({ withdrawalId: id, clientId: 'acme', customerAccount: customer, asset, chain: 'ethereum', amount }, ctx(), t)).then(() => id);
  };
  await tx((t) => ledger.postings.depositFinal({ depositId: 'd-erin', clientId: 'acme', customerAccount: 'erin', asset: 'ETH', amount: 10_000n }, ctx(), t));
  await tx((t) => ledger.postings.depositFinal({ depositId: 'd-erin-btc', clientId: 'acme', customerAccount: 'erin', asset: 'BTC', amount: 10_000n }, ctx(), t));
  await tx((t) => ledger.postings.depositFinal({ depositId: 'd-frank', clientId: 'acme', customerAccount: 'frank', asset: 'ETH', amount: 10_000n }, ctx(), t));
  // 25 h before T0: outside the 24 h window, settled.
  now = new Date(T0.getTime() - DAY - 3_600_000);
  ids.old = await request('ETH', 1_000n);
  await tx((t) => ledger.postings.settle(ids.old, HOT_WALLET, 1n, ctx(), t));
  // Inside the window.
  now = new Date(T0.getTime() - 6 * 3_600_000);
  ids.settled = await request('ETH', 300n);
  await tx((t) => ledger.postings.settle(ids.settled, HOT_WALLET, 1n, ctx(), t));
  ids.held = await request('ETH', 200n);
  ids.released = await request('ETH', 4_000n);
  await tx((t) => ledger.postings.release(ids.released, 'denied', ctx(), t));
  ids.rejected = await request('ETH', 999_999n); // more than available: the ledger refuses the hold
  ids.otherAsset = await request('BTC', 50n);
  await request('ETH', 700n, 'frank');
  now = T0;
  ids.current = await request('ETH', 100n);
});

afterAll(async () => {
  client?.close();
  await ledger?.stop();
  await bus?.close();
  await db?.drop();
});

describe('C-8.2.2.5-c GetOutflow: the ledger figure for rolling velocity limits', () => {
  it('sums held and settled withdrawals of the account and asset whose hold is in the window; not released, rejected, older, other assets or other accounts', async () => {
    const all = await getOutflow({});
    expect(all).toMatchObject({ account: customerAccount('acme', 'erin'), asset: 'ETH', total: '600', withdrawals: 3 });
    // The withdrawal being decided can be left out (the policy adds its amount itself).
    const others = await getOutflow({ excludeWithdrawalId: ids.current });
    expect(others).toMatchObject({ total: '500', withdrawals: 2 });
    // A window starting before the oldest hold counts it too (it settled: funds left).
    expect((await getOutflow({ since: timestampFromDate(new Date(T0.getTime() - 2 * DAY)) })).total).toBe('1600');
    // A window starting after every hold: "0".
    expect(await getOutflow({ since: timestampFromDate(new Date(T0.getTime() + 1000)) })).toMatchObject({ total: '0', withdrawals: 0 });
    expect((await getOutflow({ asset: 'BTC' })).total).toBe('50');
    expect((await getOutflow({ customerAccount: 'frank' })).total).toBe('700');
    expect((await getOutflow({ customerAccount: 'nobody' })).total).toBe('0');
  });

  it('a released hold stops counting at once (state, not the journal, decides)', async () => {
    const before = BigInt((await getOutflow({})).total);
    await ledger.store.transaction((t) => ledger.postings.release(ids.held, 'cancelled', ctx(), t));
    expect(BigInt((await getOutflow({})).total)).toBe(before - 200n);
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
    expect(await fail(getOutflow({ clientId: '' }))).toEqual({ code: status.INVALID_ARGUMENT, reason: 'FIELD_REQUIRED' });
    expect(await fail(getOutflow({ customerAccount: '' }))).toEqual({ code: status.INVALID_ARGUMENT, reason: 'FIELD_REQUIRED' });
    expect(await fail(getOutflow({ asset: 'eth' }))).toEqual({ code: status.INVALID_ARGUMENT, reason: 'ASSET_INVALID' });
    expect(await fail(getOutflow({ since: undefined }))).toEqual({ code: status.INVALID_ARGUMENT, reason: 'FIELD_REQUIRED' });
  });
});
