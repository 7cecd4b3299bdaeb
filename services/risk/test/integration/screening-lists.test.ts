// custody.risk.v1.ScreeningListService over REAL gRPC, PostgreSQL and Kafka: an operator
// imports the OFAC list at run time (no restart), reads its freshness, and maintains the
// internal block/allow lists; screening follows. Every call authenticated and audited.
import { readFileSync } from 'node:fs';
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import * as grpc from '@grpc/grpc-js';
import { createEnvelope, KafkaBus, protobufEnvelopeCodec } from '@custody/event-bus';
import {
  encodeEvent,
  InternalList,
  ListState,
  OfacListFormat,
  RiskAssessed,
  RiskVerdict,
  ScreeningListServiceClient,
  timestampFromDate,
  timestampToDate,
  Topics,
  WithdrawalRequested,
  type AddInternalEntryRequest,
  type AddInternalEntryResponse,
  type GetListStatusResponse,
  type ImportOfacListRequest,
  type ImportOfacListResponse,
  type ListInternalEntriesRequest,
  type ListInternalEntriesResponse,
  type RemoveInternalEntryRequest,
  type RemoveInternalEntryResponse,
} from '@custody/contracts';
import { createLogger, errorReason } from '@custody/platform';
import { parseRuleSet, parseTravelRuleConfig, startRisk, trustedHeaderOperator, type RiskService } from '../../src/index.js';
import { createDatabase, rand, RiskKafka, riskTopics, waitFor } from './support.js';

const ETH = 10n ** 18n;
const fixture = (name: string): Buffer => readFileSync(new URL(`../fixtures/${name}`, import.meta.url));
const OWNER_PW = `owner-${rand()}-pw`;
const APP_PW = `app-${rand()}-pw`;
const LAZARUS = '0x098B716B8Aaf21512996dC57EB0615e2383E2f96';
const TORNADO = '0x722122dF12D4e14e13Ac3b6895a86e84145b6967';
const MAX_AGE_S = 86_400;
// sdn_advanced.xml schema, the feature type declared, but no party carries an address.
const EMPTY_ADVANCED = `<?xml version="1.0" encoding="utf-8"?>
<Sanctions xmlns="https://sanctionslistservice.ofac.treas.gov/api/PublicationPreview/exports/ADVANCED_XML">
  <DateOfIssue><Year>2024</Year><Month>5</Month><Day>2</Day></DateOfIssue>
  <ReferenceValueSets><FeatureTypeValues><FeatureType ID="345" FeatureTypeGroupID="1">Digital Currency Address - ETH</FeatureType></FeatureTypeValues></ReferenceValueSets>
  <DistinctParties><DistinctParty FixedRef="1"><Profile ID="1" PartySubTypeID="4"></Profile></DistinctParty></DistinctParties>
</Sanctions>`;

const suffix = rand();
const topics = riskTopics('risklists', suffix);

let db: Awaited<ReturnType<typeof createDatabase>>;
let kafka: RiskKafka;
let bus: KafkaBus;
let service: RiskService;
let client: ScreeningListServiceClient;
const clockOffset = { ms: 0 };
const assessed = new Map<string, RiskAssessed>();

const evmAddress = (): string => `0x${randomUUID().replace(/-/g, '')}${rand()}`.slice(0, 42);

async function screenWithdrawal(destinationAddress: string): Promise<RiskAssessed> {
  const withdrawalId = `w-${randomUUID()}`;
  const message = WithdrawalRequested.fromPartial({
    withdrawalId,
    clientId: 'client-1',
    customerAccount: 'c-ops',
    asset: 'ETH',
    chain: 'ethereum-mainnet',
    amount: (ETH / 2n).toString(),
    destinationAddress,
    originatorName: 'Alice Example',
    originatorAccount: 'acc-alice',
    beneficiaryName: 'Bob Example',
    beneficiaryAccount: 'ext-bob',
  });
  const envelope = createEnvelope({ type: Topics.withdrawalRequested, key: withdrawalId, correlationId: `corr-${withdrawalId}`, producer: 'intake-test', schemaVersion: 1, payload: encodeEvent(Topics.withdrawalRequested, message) });
  await bus.publish([{ topic: topics.withdrawalRequested, key: withdrawalId, value: protobufEnvelopeCodec.encode(envelope) }]);
  return waitFor(() => assessed.get(withdrawalId), 30_000, () => `risk.assessed for ${withdrawalId}`);
}
const codes = (a: RiskAssessed): string[] => a.reasons.map((r) => r.code);

type Unary<Req, Res> = (req: Req, md: grpc.Metadata, cb: (err: grpc.ServiceError | null, res: Res) => void) => grpc.ClientUnaryCall;
function rpc<Req, Res>(method: Unary<Req, Res>, request: Req, operator?: string): Promise<Res> {
  const md = new grpc.Metadata();
  if (operator) md.set('x-authenticated-operator', operator);
  return new Promise((resolve, reject) => {
    method.call(client, request, md, (err, res) => (err ? reject(err) : resolve(res)));
  });
}
const importOfac = (req: Partial<ImportOfacListRequest>, operator?: string): Promise<ImportOfacListResponse> =>
  rpc<ImportOfacListRequest, ImportOfacListResponse>(client.importOfacList as Unary<ImportOfacListRequest, ImportOfacListResponse>, { format: OfacListFormat.OFAC_LIST_FORMAT_UNSPECIFIED, content: Buffer.alloc(0), note: '', ...req }, operator);
const listStatus = (operator?: string): Promise<GetListStatusResponse> => rpc<object, GetListStatusResponse>(client.getListStatus as Unary<object, GetListStatusResponse>, {}, operator);
const addEntry = (req: Partial<AddInternalEntryRequest>, operator?: string): Promise<AddInternalEntryResponse> =>
  rpc<AddInternalEntryRequest, AddInternalEntryResponse>(client.addInternalEntry as Unary<AddInternalEntryRequest, AddInternalEntryResponse>, { list: InternalList.INTERNAL_LIST_BLOCK, chain: 'ethereum-mainnet', address: '', reason: '', ...req }, operator);
const removeEntry = (req: RemoveInternalEntryRequest, operator?: string): Promise<RemoveInternalEntryResponse> =>
  rpc<RemoveInternalEntryRequest, RemoveInternalEntryResponse>(client.removeInternalEntry as Unary<RemoveInternalEntryRequest, RemoveInternalEntryResponse>, req, operator);
const listEntries = (req: Partial<ListInternalEntriesRequest>, operator?: string): Promise<ListInternalEntriesResponse> =>
  rpc<ListInternalEntriesRequest, ListInternalEntriesResponse>(client.listInternalEntries as Unary<ListInternalEntriesRequest, ListInternalEntriesResponse>, { pageSize: 0, pageToken: '', list: InternalList.INTERNAL_LIST_UNSPECIFIED, includeInactive: false, ...req }, operator);
const failure = (p: Promise<unknown>): Promise<grpc.ServiceError> =>
  p.then(
    () => {
      throw new Error('expected the call to fail');
    },
    (e: grpc.ServiceError) => e,
  );
const auditRows = async (action: string): Promise<Array<{ actor: string; subject: string; detail: Record<string, unknown> }>> =>
  (await service.dataSource.query(`SELECT "actor", "subject", "detail" FROM "risk_audit_log" WHERE "action" = $1 ORDER BY "at"`, [action])) as Array<{ actor: string; subject: string; detail: Record<string, unknown> }>;
/** GET /metrics (served by the service), then the value of `name{labels}` (service="risk" added). */
async function scrape(name: string, labels: Record<string, string>): Promise<number | undefined> {
  const res = await fetch(`${service.metricsUrl}/metrics`);
  expect(res.status).toBe(200);
  const want = JSON.stringify(Object.entries({ ...labels, service: 'risk' }).sort());
  for (const line of (await res.text()).split('\n')) {
    const m = /^([a-z_]+)(?:\{(.*)\})? (\S+)$/.exec(line);
    if (!m || m[1] !== name) continue;
    const got = [...(m[2] ?? '').matchAll(/([a-z_]+)="([^"]*)"/g)].map((l) => [l[1], l[2]]);
    if (JSON.stringify(got.sort()) === want) return Number(m[3]);
  }
  return undefined;
}
const LIST_UPDATED = 'custody_risk_screening_list_last_update_timestamp_seconds';

const listVersions = async (): Promise<number> => ((await service.dataSource.query(`SELECT count(*)::int AS n FROM "risk_list_version"`)) as Array<{ n: number }>)[0]?.n ?? -1;

beforeAll(async () => {
  db = await createDatabase('risk_lists_test');
  kafka = await RiskKafka.start(`risk-lists-test-${suffix}`, topics);
  bus = kafka.bus;
  service = await startRisk({
    bus,
    database: { adminUrl: db.adminUrl, ownerPassword: OWNER_PW, appPassword: APP_PW },
    logger: createLogger({ service: 'risk-lists-test', level: 'error' }),
    clock: { now: () => new Date(Date.now() + clockOffset.ms) },
    settings: {
      ruleSet: parseRuleSet({
        version: 'it-lists',
        reviewAtScore: 50,
        blockAtScore: 101,
        rules: [{ code: 'velocity_customer_eth_24h', kind: 'velocity_sum', scope: 'customer', asset: 'ETH', windowSeconds: 86_400, maxAmount: (1000n * ETH).toString(), action: 'REVIEW', score: 30 }],
      }),
      travelRule: parseTravelRuleConfig({ defaultJurisdiction: 'US', thresholds: { US: { ETH: ETH.toString() } } }),
      providerThresholds: { reviewAtScore: 60, blockAtScore: 90 },
      providerTimeoutMs: 300,
      listMaxAgeSeconds: MAX_AGE_S,
    },
    grpc: { port: 0, credentials: { kind: 'insecure' }, authenticate: trustedHeaderOperator },
    topics,
    consumerGroup: `risk-lists-${suffix}`,
    metrics: { port: 0 },
  });
  await kafka.collectAssessed(`risk-lists-results-${suffix}`, assessed);
  client = new ScreeningListServiceClient(`127.0.0.1:${service.grpcPort}`, grpc.credentials.createInsecure());
  await service.recordCustomerProfile({ customerAccount: 'c-ops', kycStatus: 'verified', jurisdiction: 'US', openedAt: new Date('2020-01-01Z') }, 'kyc-vendor');
});

afterAll(async () => {
  client?.close();
  await service?.stop();
  await kafka?.close();
  await db?.drop();
});

describe('ScreeningListService authentication: every method requires an operator', () => {
  it('calls without an authenticated operator are refused UNAUTHENTICATED and change nothing', async () => {
    const refused = await Promise.all([
      failure(importOfac({ content: fixture('sdn_advanced.xml') })),
      failure(listStatus()),
      failure(addEntry({ address: evmAddress(), reason: 'scam report #1' })),
      failure(removeEntry({ entryId: randomUUID(), reason: 'no longer relevant' })),
      failure(listEntries({})),
    ]);
    for (const err of refused) {
      expect(err.code).toBe(grpc.status.UNAUTHENTICATED);
      expect(errorReason(err.metadata)).toBe('OPERATOR_UNAUTHENTICATED');
    }
    // A header that is not a valid operator id is no authentication either.
    expect((await failure(listStatus('not a valid id!'))).code).toBe(grpc.status.UNAUTHENTICATED);
    expect(await listVersions()).toBe(0);
    expect(((await service.dataSource.query(`SELECT count(*)::int AS n FROM "risk_internal_entry"`)) as Array<{ n: number }>)[0]?.n).toBe(0);
  });
});

describe('C-8.3.4-b OFAC import over gRPC: refused inputs, run-time import, screening follows', () => {
  it('before any import GetListStatus says MISSING (stale = fail closed) and screening is REVIEW list_missing', async () => {
    const s = await listStatus('alice');
    expect(s).toMatchObject({ source: 'ofac_sdn', version: '', state: ListState.LIST_STATE_MISSING, stale: true, maxAge: { seconds: String(MAX_AGE_S), nanos: 0 } });
    const a = await screenWithdrawal(evmAddress());
    expect(a.verdict).toBe(RiskVerdict.RISK_VERDICT_REVIEW);
    expect(codes(a)).toContain('list_missing');
    // never imported: the last-update gauge is 0, so CustodyScreeningListStale fires
    expect(await scrape(LIST_UPDATED, { list: 'ofac' })).toBe(0);
  });

  it('empty, blank, non-UTF-8, unrecognised, address-less and wrongly-announced content: INVALID_ARGUMENT with a reason, nothing stored', async () => {
    const cases: Array<[Partial<ImportOfacListRequest>, RegExp]> = [
      [{ content: Buffer.alloc(0) }, /empty/],
      [{ content: Buffer.from(' \n\t ') }, /blank/],
      [{ content: Buffer.from([0x3c, 0x53, 0xff, 0xfe, 0x00]) }, /UTF-8/],
      [{ content: Buffer.from('name,address\nfoo,bar\n') }, /unrecognised list format/],
      [{ content: Buffer.from('<?xml version="1.0"?><Sanctions><DateOfIssue><Year>2024</Year></DateOfIssue></Sanctions>') }, /no "Digital Currency Address - \*" FeatureType/],
      [{ content: Buffer.from(EMPTY_ADVANCED) }, /lists no digital currency addresses; refusing to replace the list with an empty one/],
      [{ content: fixture('sdn_advanced.xml'), format: OfacListFormat.OFAC_LIST_FORMAT_SDN_CSV }, /is sdn_advanced_xml, not the announced sdn_csv/],
    ];
    for (const [req, why] of cases) {
      const err = await failure(importOfac(req, 'alice'));
      expect(err.code).toBe(grpc.status.INVALID_ARGUMENT);
      expect(errorReason(err.metadata)).toBe('INVALID_LIST');
      expect(err.details).toMatch(why);
    }
    expect(await listVersions()).toBe(0);
    expect(await auditRows('list.imported')).toEqual([]);
    expect((await listStatus('alice')).state).toBe(ListState.LIST_STATE_MISSING);
  });

  it('ImportOfacList of sdn_advanced.xml: digest version, counts, audited with the operator and note; a sanctioned withdrawal is BLOCKED afterwards', async () => {
    const before = Date.now();
    const r = await importOfac({ content: fixture('sdn_advanced.xml'), format: OfacListFormat.OFAC_LIST_FORMAT_SDN_ADVANCED_XML, note: 'daily refresh 2026-11-24' }, 'alice');
    expect(r).toMatchObject({ added: 10, removed: 0, total: 10, changed: true, previousVersion: '', format: OfacListFormat.OFAC_LIST_FORMAT_SDN_ADVANCED_XML });
    expect(r.version).toMatch(/^[0-9a-f]{64}$/);
    expect(timestampToDate(r.importedAt!).getTime()).toBeGreaterThanOrEqual(before - 1000);
    expect(await scrape(LIST_UPDATED, { list: 'ofac' })).toBe(Math.floor(timestampToDate(r.importedAt!).getTime() / 1000));

    const audit = await auditRows('list.imported');
    expect(audit).toHaveLength(1);
    expect(audit[0]).toMatchObject({ actor: 'alice', subject: `ofac_sdn@${r.version}`, detail: { note: 'daily refresh 2026-11-24', addedCount: 10, format: 'sdn_advanced_xml' } });

    const s = await listStatus('alice');
    expect(s).toMatchObject({ version: r.version, state: ListState.LIST_STATE_FRESH, stale: false, total: 10, format: OfacListFormat.OFAC_LIST_FORMAT_SDN_ADVANCED_XML });
    expect(timestampToDate(s.publishedAt!).toISOString()).toBe('2024-05-01T00:00:00.000Z');

    const blocked = await screenWithdrawal(LAZARUS.toLowerCase());
    expect(blocked.verdict).toBe(RiskVerdict.RISK_VERDICT_BLOCK);
    expect(blocked.reasons[0]).toMatchObject({ code: 'sanctioned_address' });
    expect(blocked.listVersion).toBe(r.version);
    const clean = await screenWithdrawal(evmAddress());
    expect(clean.verdict).toBe(RiskVerdict.RISK_VERDICT_CLEAR);
  });

  it('a stale list fails closed (REVIEW list_stale); ImportOfacList of the same content refreshes it and a clean address is CLEAR again', async () => {
    const current = await listStatus('alice');
    clockOffset.ms = 2 * MAX_AGE_S * 1000;
    try {
      const stale = await listStatus('bob');
      expect(stale).toMatchObject({ version: current.version, state: ListState.LIST_STATE_STALE, stale: true });
      expect(Number(stale.age!.seconds)).toBeGreaterThan(MAX_AGE_S);
      const a = await screenWithdrawal(evmAddress());
      expect(a.verdict).toBe(RiskVerdict.RISK_VERDICT_REVIEW);
      expect(codes(a)).toEqual(['list_stale']);

      const again = await importOfac({ content: fixture('sdn_advanced.xml'), note: 're-checked, unchanged' }, 'bob');
      expect(again).toMatchObject({ version: current.version, changed: false, added: 0, removed: 0, total: 10 });
      expect(await auditRows('list.confirmed')).toEqual([expect.objectContaining({ actor: 'bob', subject: `ofac_sdn@${current.version}`, detail: expect.objectContaining({ note: 're-checked, unchanged' }) })]);
      expect(await listVersions()).toBe(1);
      // the unchanged re-import confirms freshness: the gauge moves to its time
      expect(await scrape(LIST_UPDATED, { list: 'ofac' })).toBe(Math.floor(timestampToDate(again.importedAt!).getTime() / 1000));
      expect(timestampToDate(again.importedAt!).getTime()).toBeGreaterThan(Date.now() + MAX_AGE_S * 1000);

      const fresh = await listStatus('bob');
      expect(fresh).toMatchObject({ state: ListState.LIST_STATE_FRESH, stale: false });
      expect(Number(fresh.age!.seconds)).toBeLessThan(60);
      const b = await screenWithdrawal(evmAddress());
      expect(b.verdict).toBe(RiskVerdict.RISK_VERDICT_CLEAR);
      expect(b.reasons).toEqual([]);
    } finally {
      clockOffset.ms = 0;
    }
  });
});

describe('C-8.3.4-b internal block list over gRPC: block, removal, expiry, audited per operator', () => {
  it('an internal block entry blocks the address (any case); its removal unblocks it; both audited with the operator', async () => {
    const dest = evmAddress();
    const { entry } = await addEntry({ address: dest.toUpperCase().replace('0X', '0x'), reason: 'scam report #91' }, 'carol');
    expect(entry).toMatchObject({ list: InternalList.INTERNAL_LIST_BLOCK, addressKey: `evm:${dest}`, reason: 'scam report #91', createdBy: 'carol', active: true, removedBy: '' });
    expect(entry?.expiresAt).toBeUndefined();

    const blocked = await screenWithdrawal(dest);
    expect(blocked.verdict).toBe(RiskVerdict.RISK_VERDICT_BLOCK);
    expect(codes(blocked)).toEqual(['internal_blocklist']);
    expect(blocked.reasons[0]?.detail).toMatch(/scam report #91/);

    const listed = await listEntries({ list: InternalList.INTERNAL_LIST_BLOCK }, 'dave');
    expect(listed.entries.map((e) => e.entryId)).toContain(entry!.entryId);

    const removed = await removeEntry({ entryId: entry!.entryId, reason: 'report withdrawn by the reporter' }, 'dave');
    expect(removed.entry).toMatchObject({ entryId: entry!.entryId, active: false, removedBy: 'dave' });
    const twice = await failure(removeEntry({ entryId: entry!.entryId, reason: 'again' }, 'dave'));
    expect(twice.code).toBe(grpc.status.FAILED_PRECONDITION);
    expect(errorReason(twice.metadata)).toBe('ENTRY_ALREADY_REMOVED');
    const unknown = await failure(removeEntry({ entryId: randomUUID(), reason: 'no such entry' }, 'dave'));
    expect(unknown.code).toBe(grpc.status.NOT_FOUND);

    const unblocked = await screenWithdrawal(dest);
    expect(unblocked.verdict).toBe(RiskVerdict.RISK_VERDICT_CLEAR);

    expect(await auditRows('internal_list.block.added')).toEqual([expect.objectContaining({ actor: 'carol', subject: `evm:${dest}`, detail: expect.objectContaining({ id: entry!.entryId, reason: 'scam report #91' }) })]);
    expect(await auditRows('internal_list.removed')).toEqual([expect.objectContaining({ actor: 'dave', subject: entry!.entryId, detail: { why: 'report withdrawn by the reporter' } })]);
    expect((await listEntries({ list: InternalList.INTERNAL_LIST_BLOCK }, 'dave')).entries.map((e) => e.entryId)).not.toContain(entry!.entryId);
  });

  it('expiry is honoured: the entry blocks until expires_at, then no longer (and is listed inactive)', async () => {
    const dest = evmAddress();
    const expiresAt = new Date(Date.now() + 3_600_000);
    const { entry } = await addEntry({ address: dest, reason: 'temporary hold, case 55', expiresAt: timestampFromDate(expiresAt) }, 'carol');
    expect(timestampToDate(entry!.expiresAt!).getTime()).toBe(expiresAt.getTime());
    expect((await screenWithdrawal(dest)).verdict).toBe(RiskVerdict.RISK_VERDICT_BLOCK);

    clockOffset.ms = 2 * 3_600_000;
    try {
      const after = await screenWithdrawal(dest);
      expect(after.verdict).toBe(RiskVerdict.RISK_VERDICT_CLEAR);
      expect(codes(after)).not.toContain('internal_blocklist');
      expect((await listEntries({}, 'carol')).entries.map((e) => e.entryId)).not.toContain(entry!.entryId);
      const all = await listEntries({ includeInactive: true, pageSize: 500 }, 'carol');
      expect(all.entries.find((e) => e.entryId === entry!.entryId)).toMatchObject({ active: false, removedBy: '' });
    } finally {
      clockOffset.ms = 0;
    }
  });

  it('bad entries are refused precisely and nothing is stored: no reason, no list, invalid address, past expiry', async () => {
    const count = async (): Promise<number> => ((await service.dataSource.query(`SELECT count(*)::int AS n FROM "risk_internal_entry"`)) as Array<{ n: number }>)[0]?.n ?? -1;
    const n = await count();
    const bad: Array<[Partial<AddInternalEntryRequest>, string]> = [
      [{ address: evmAddress(), reason: '' }, 'INVALID_ARGUMENT'],
      [{ address: evmAddress(), reason: 'scam report', list: InternalList.INTERNAL_LIST_UNSPECIFIED }, 'INVALID_ARGUMENT'],
      [{ address: '0x1234', reason: 'scam report' }, 'INVALID_ADDRESS'],
      [{ address: evmAddress(), reason: 'scam report', expiresAt: timestampFromDate(new Date(Date.now() - 60_000)) }, 'INVALID_ARGUMENT'],
    ];
    for (const [req, reason] of bad) {
      const err = await failure(addEntry(req, 'carol'));
      expect(err.code).toBe(grpc.status.INVALID_ARGUMENT);
      expect(errorReason(err.metadata)).toBe(reason);
    }
    expect(await count()).toBe(n);
    const removeBad = await failure(removeEntry({ entryId: 'not-a-uuid', reason: 'whatever' }, 'carol'));
    expect(removeBad.code).toBe(grpc.status.INVALID_ARGUMENT);
  });

  it('ListInternalEntries pages oldest first with a keyset token and filters by list', async () => {
    const ids: string[] = [];
    for (let i = 0; i < 3; i++) ids.push((await addEntry({ list: InternalList.INTERNAL_LIST_ALLOW, address: evmAddress(), reason: `known exchange hot wallet ${i}` }, 'erin')).entry!.entryId);
    const first = await listEntries({ list: InternalList.INTERNAL_LIST_ALLOW, pageSize: 2 }, 'erin');
    expect(first.entries.map((e) => e.entryId)).toEqual(ids.slice(0, 2));
    expect(first.nextPageToken).not.toBe('');
    const second = await listEntries({ list: InternalList.INTERNAL_LIST_ALLOW, pageSize: 2, pageToken: first.nextPageToken }, 'erin');
    expect(second.entries.map((e) => e.entryId)).toEqual(ids.slice(2));
    expect(second.nextPageToken).toBe('');
    expect(second.entries.every((e) => e.list === InternalList.INTERNAL_LIST_ALLOW && e.active)).toBe(true);
    expect((await failure(listEntries({ pageToken: 'garbage' }, 'erin'))).code).toBe(grpc.status.INVALID_ARGUMENT);
    expect((await failure(listEntries({ pageSize: 501 }, 'erin'))).code).toBe(grpc.status.INVALID_ARGUMENT);
  });
});

describe('C-8.3.4-b list update over gRPC: the next OFAC version is diffed and takes effect', () => {
  it('sdn_advanced.v2.xml removes Tornado Cash and adds one XBT address; screening follows', async () => {
    const v1 = await listStatus('alice');
    const v2 = await importOfac({ content: fixture('sdn_advanced.v2.xml') }, 'alice');
    expect(v2).toMatchObject({ changed: true, added: 1, removed: 3, previousVersion: v1.version });
    expect((await listStatus('alice')).version).toBe(v2.version);
    const tornado = await screenWithdrawal(TORNADO);
    expect(tornado.verdict).toBe(RiskVerdict.RISK_VERDICT_CLEAR);
    expect(tornado.listVersion).toBe(v2.version);
  });
});
