// Every operator admin change of risk over REAL gRPC, PostgreSQL and Kafka goes through the
// operator audit gate first (ScreeningListService ImportOfacList / AddInternalEntry /
// RemoveInternalEntry / ImportInternalEntries, CaseService ResolveCase): recorded before
// anything is stored, refused UNAVAILABLE AUDIT_UNAVAILABLE with nothing changed when audit does
// not record it. The gate is a recording fake of the platform port (the real audit service is
// not used here, so no control ID). Also: two concurrent imports of the same file add each
// entry once (unique key on unremoved entries) and both succeed.
import { readFileSync } from 'node:fs';
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import * as grpc from '@grpc/grpc-js';
import { createEnvelope, KafkaBus, protobufEnvelopeCodec } from '@custody/event-bus';
import {
  encodeEvent,
  ImportEntryOutcome,
  InternalList,
  loadPackageDefinition,
  OfacListFormat,
  RiskVerdict,
  ScreeningListServiceClient,
  Topics,
  WithdrawalRequested,
  type AddInternalEntryRequest,
  type AddInternalEntryResponse,
  type ImportInternalEntriesRequest,
  type ImportInternalEntriesResponse,
  type ImportOfacListRequest,
  type ImportOfacListResponse,
  type RemoveInternalEntryRequest,
  type RemoveInternalEntryResponse,
  type RiskAssessed,
} from '@custody/contracts';
import { createLogger, errorReason, type OperatorActionRecord, type OperatorAuditGate } from '@custody/platform';
import { parseRuleSet, parseTravelRuleConfig, startRisk, trustedHeaderOperator, type RiskService } from '../../src/index.js';
import { createDatabase, rand, RiskKafka, riskTopics, waitFor } from './support.js';

const ETH = 10n ** 18n;
const fixture = (name: string): Buffer => readFileSync(new URL(`../fixtures/${name}`, import.meta.url));
const OWNER_PW = `owner-${rand()}-pw`;
const APP_PW = `app-${rand()}-pw`;
const suffix = rand();
const topics = riskTopics('riskaudit', suffix);

/** The operator audit gate (a fake of the platform port): records, or refuses while `down`; runs `probe` when asked (what was stored at that moment). */
class RecordingAuditGate implements OperatorAuditGate {
  readonly records: OperatorActionRecord[] = [];
  readonly probed: unknown[] = [];
  probe: (() => Promise<unknown>) | undefined;
  down = false;
  async record(a: OperatorActionRecord) {
    if (this.probe) this.probed.push(await this.probe());
    if (this.down) throw new Error('audit unreachable');
    this.records.push(a);
    return { sequence: BigInt(this.records.length), recordHash: new Uint8Array(32) };
  }
}

const gate = new RecordingAuditGate();
let db: Awaited<ReturnType<typeof createDatabase>>;
let kafka: RiskKafka;
let bus: KafkaBus;
let service: RiskService;
let client: ScreeningListServiceClient;
let caseClient: grpc.Client & Record<string, (...a: unknown[]) => unknown>;
const assessed = new Map<string, RiskAssessed>();
const OPERATOR = 'compliance-carol';

const evmAddress = (): string => `0x${randomUUID().replace(/-/g, '')}${rand()}`.slice(0, 42);

type Unary<Req, Res> = (req: Req, md: grpc.Metadata, cb: (err: grpc.ServiceError | null, res: Res) => void) => grpc.ClientUnaryCall;
function rpc<Req, Res>(method: Unary<Req, Res>, request: Req): Promise<Res> {
  const md = new grpc.Metadata();
  md.set('x-authenticated-operator', OPERATOR);
  return new Promise((resolve, reject) => method.call(client, request, md, (err, res) => (err ? reject(err) : resolve(res))));
}
const importOfac = (content: Buffer): Promise<ImportOfacListResponse> =>
  rpc<ImportOfacListRequest, ImportOfacListResponse>(client.importOfacList as Unary<ImportOfacListRequest, ImportOfacListResponse>, { format: OfacListFormat.OFAC_LIST_FORMAT_UNSPECIFIED, content, note: 'weekly' });
const addEntry = (address: string): Promise<AddInternalEntryResponse> =>
  rpc<AddInternalEntryRequest, AddInternalEntryResponse>(client.addInternalEntry as Unary<AddInternalEntryRequest, AddInternalEntryResponse>, { list: InternalList.INTERNAL_LIST_BLOCK, chain: 'ethereum-mainnet', address, reason: 'fraud report 7' });
const removeEntry = (entryId: string): Promise<RemoveInternalEntryResponse> =>
  rpc<RemoveInternalEntryRequest, RemoveInternalEntryResponse>(client.removeInternalEntry as Unary<RemoveInternalEntryRequest, RemoveInternalEntryResponse>, { entryId, reason: 'report withdrawn' });
const importEntries = (addresses: readonly string[], dryRun = false): Promise<ImportInternalEntriesResponse> =>
  rpc<ImportInternalEntriesRequest, ImportInternalEntriesResponse>(client.importInternalEntries as Unary<ImportInternalEntriesRequest, ImportInternalEntriesResponse>, {
    dryRun,
    entries: addresses.map((address, i) => ({ line: i + 1, list: InternalList.INTERNAL_LIST_BLOCK, chain: 'ethereum-mainnet', address, reason: 'list file 2026-11' })),
  });
function resolveCase(caseId: string): Promise<{ resolved_case: { status: string; resolved_by: string } }> {
  const md = new grpc.Metadata();
  md.set('x-authenticated-operator', OPERATOR);
  return new Promise((resolve, reject) =>
    (caseClient.ResolveCase as (r: unknown, m: grpc.Metadata, cb: (e: grpc.ServiceError | null, r: unknown) => void) => void).call(
      caseClient,
      { case_id: caseId, resolution: 'CASE_RESOLUTION_CLEAR', note: 'customer explained payroll' },
      md,
      (e, r) => (e ? reject(e) : resolve(r as { resolved_case: { status: string; resolved_by: string } })),
    ),
  );
}
const refusal = (p: Promise<unknown>): Promise<{ code: number; reason: string | undefined }> =>
  p.then(
    () => {
      throw new Error('expected the call to fail');
    },
    (e: grpc.ServiceError) => ({ code: e.code, reason: errorReason(e.metadata) }),
  );
const count = async (sql: string, params: unknown[] = []): Promise<number> => ((await service.dataSource.query(sql, params)) as Array<{ n: number }>)[0]?.n ?? -1;
const keyOf = (address: string): string => `evm:${address.toLowerCase()}`;
const entriesOfKey = (key: string): Promise<number> => count(`SELECT count(*)::int AS n FROM "risk_internal_entry" WHERE "address_key" = $1 AND "removed_at" IS NULL`, [key]);
const entriesOf = (address: string): Promise<number> => entriesOfKey(keyOf(address));
const versions = (): Promise<number> => count(`SELECT count(*)::int AS n FROM "risk_list_version"`);
const auditLog = (): Promise<number> => count(`SELECT count(*)::int AS n FROM "risk_audit_log"`);
const caseStatus = async (id: string): Promise<string | undefined> => ((await service.dataSource.query(`SELECT "status" FROM "risk_case" WHERE "id" = $1`, [id])) as Array<{ status: string }>)[0]?.status;

/** A withdrawal the velocity rule sends to REVIEW: a case is opened. */
async function openCase(): Promise<string> {
  const withdrawalId = `w-${randomUUID()}`;
  const message = WithdrawalRequested.fromPartial({
    withdrawalId,
    clientId: 'client-1',
    customerAccount: 'c-audit',
    asset: 'ETH',
    chain: 'ethereum-mainnet',
    amount: (ETH / 2n).toString(),
    destinationAddress: evmAddress(),
    originatorName: 'Alice Example',
    originatorAccount: 'acc-alice',
    beneficiaryName: 'Bob Example',
    beneficiaryAccount: 'ext-bob',
  });
  const envelope = createEnvelope({ type: Topics.withdrawalRequested, key: withdrawalId, correlationId: `corr-${withdrawalId}`, producer: 'intake-test', schemaVersion: 1, payload: encodeEvent(Topics.withdrawalRequested, message) });
  await bus.publish([{ topic: topics.withdrawalRequested, key: withdrawalId, value: protobufEnvelopeCodec.encode(envelope) }]);
  const a = await waitFor(() => assessed.get(withdrawalId), 30_000, () => `risk.assessed for ${withdrawalId}`);
  expect(a.verdict).toBe(RiskVerdict.RISK_VERDICT_REVIEW);
  expect(a.caseId).toMatch(/^[0-9a-f-]{36}$/);
  return a.caseId;
}

beforeAll(async () => {
  db = await createDatabase('risk_admin_audit_test');
  kafka = await RiskKafka.start(`risk-audit-test-${suffix}`, topics);
  bus = kafka.bus;
  service = await startRisk({
    bus,
    database: { adminUrl: db.adminUrl, ownerPassword: OWNER_PW, appPassword: APP_PW },
    logger: createLogger({ service: 'risk-admin-audit-test', level: 'error' }),
    settings: {
      ruleSet: parseRuleSet({
        version: 'it-audit',
        reviewAtScore: 50,
        blockAtScore: 101,
        rules: [{ code: 'velocity_customer_eth_24h', kind: 'velocity_sum', scope: 'customer', asset: 'ETH', windowSeconds: 86_400, maxAmount: (ETH / 10n).toString(), action: 'REVIEW', score: 60 }],
      }),
      travelRule: parseTravelRuleConfig({ defaultJurisdiction: 'US', thresholds: { US: { ETH: (1000n * ETH).toString() } } }),
      providerThresholds: { reviewAtScore: 60, blockAtScore: 90 },
      providerTimeoutMs: 300,
      listMaxAgeSeconds: 86_400,
    },
    grpc: { port: 0, credentials: { kind: 'insecure' }, authenticate: trustedHeaderOperator },
    operatorAudit: gate,
    topics,
    consumerGroup: `risk-audit-${suffix}`,
  });
  await service.importOfac(fixture('sdn_advanced.xml').toString('utf8'), 'compliance:setup');
  await service.recordCustomerProfile({ customerAccount: 'c-audit', kycStatus: 'verified', jurisdiction: 'US', openedAt: new Date('2020-01-01Z') }, 'kyc-vendor');
  await kafka.collectAssessed(`risk-audit-results-${suffix}`, assessed);
  client = new ScreeningListServiceClient(`127.0.0.1:${service.grpcPort}`, grpc.credentials.createInsecure());
  const pkg = grpc.loadPackageDefinition(loadPackageDefinition()) as unknown as { custody: { risk: { v1: { CaseService: grpc.ServiceClientConstructor } } } };
  caseClient = new pkg.custody.risk.v1.CaseService(`127.0.0.1:${service.grpcPort}`, grpc.credentials.createInsecure()) as unknown as typeof caseClient;
}, 60_000);

afterAll(async () => {
  client?.close();
  caseClient?.close();
  await service?.stop();
  await kafka?.close();
  await db?.drop();
});

describe('list and case admin actions go through the operator audit gate first; audit unavailable → UNAVAILABLE AUDIT_UNAVAILABLE and nothing changes', () => {
  it('audit down: ImportOfacList, AddInternalEntry, ImportInternalEntries, RemoveInternalEntry and ResolveCase are refused; no version, entry, removal, resolution or risk audit row', async () => {
    const kept = (await addEntry(evmAddress())).entry!;
    const caseId = await openCase();
    const [v0, log0] = [await versions(), await auditLog()];
    const [a, b] = [evmAddress(), evmAddress()];
    gate.down = true;
    try {
      const refused = [
        await refusal(importOfac(fixture('sdn.xml'))),
        await refusal(addEntry(a)),
        await refusal(importEntries([a, b])),
        await refusal(removeEntry(kept.entryId)),
        await refusal(resolveCase(caseId)),
      ];
      for (const r of refused) expect(r).toEqual({ code: grpc.status.UNAVAILABLE, reason: 'AUDIT_UNAVAILABLE' });
    } finally {
      gate.down = false;
    }
    expect(await versions()).toBe(v0);
    expect([await entriesOf(a), await entriesOf(b)]).toEqual([0, 0]);
    expect(await entriesOfKey(kept.addressKey)).toBe(1);
    expect(await caseStatus(caseId)).toBe('OPEN');
    expect(await auditLog()).toBe(log0);
  });

  it('audit up: each change is recorded (operator, action, target, source IP, request digest) BEFORE it is stored, then applied', async () => {
    const before = gate.records.length;
    const a = evmAddress();
    gate.probe = () => entriesOf(a);
    const added = (await addEntry(a)).entry!;
    expect(gate.probed.at(-1)).toBe(0); // not stored when audit was asked
    expect(await entriesOf(a)).toBe(1);

    const [b, c] = [evmAddress(), evmAddress()];
    gate.probe = async () => [await entriesOf(b), await entriesOf(c)];
    const imported = await importEntries([b, c, a]);
    expect(gate.probed.at(-1)).toEqual([0, 0]);
    expect([imported.added, imported.alreadyActive]).toEqual([2, 1]);

    gate.probe = () => entriesOf(a);
    await removeEntry(added.entryId);
    expect(gate.probed.at(-1)).toBe(1);
    expect(await entriesOf(a)).toBe(0);

    gate.probe = versions;
    const v = await versions();
    expect((await importOfac(fixture('sdn_advanced.v2.xml'))).changed).toBe(true);
    expect(gate.probed.at(-1)).toBe(v);
    expect(await versions()).toBe(v + 1);

    const caseId = await openCase();
    gate.probe = () => caseStatus(caseId);
    expect((await resolveCase(caseId)).resolved_case).toMatchObject({ status: 'CASE_STATUS_RESOLVED', resolved_by: OPERATOR });
    expect(gate.probed.at(-1)).toBe('OPEN');
    gate.probe = undefined;

    const mine = gate.records.slice(before);
    expect(mine.map((r) => [r.action, r.target])).toEqual([
      ['risk.internal_list.add', `block:${keyOf(a)}`],
      ['risk.internal_list.import', 'internal_list:block'],
      ['risk.internal_list.remove', added.entryId],
      ['risk.sanctions_list.import', 'ofac_sdn'],
      ['risk.case.resolve', caseId],
    ]);
    for (const r of mine) {
      expect(r).toMatchObject({ operatorId: OPERATOR, sourceIp: '127.0.0.1', approvalIds: [] });
      expect(r.requestDigest).toHaveLength(32);
      expect(r.requestId).toMatch(/^[0-9a-f-]{36}$/);
    }
  });

  it('requests that change nothing are not audited: a dry run, a file of known entries, a removal of an unknown entry', async () => {
    const known = evmAddress();
    await addEntry(known);
    const before = gate.records.length;
    expect((await importEntries([evmAddress()], true)).results[0]?.outcome).toBe(ImportEntryOutcome.IMPORT_ENTRY_OUTCOME_WOULD_ADD);
    expect((await importEntries([known])).alreadyActive).toBe(1);
    expect(await refusal(removeEntry(randomUUID()))).toEqual({ code: grpc.status.NOT_FOUND, reason: 'ENTRY_NOT_FOUND' });
    expect(gate.records.length).toBe(before);
  });
});

describe('concurrent imports of the same file: each entry added once (unique key on unremoved entries), both calls succeed', () => {
  it('two concurrent ImportInternalEntries of the same 25 new addresses → one row per address; per line one ADDED, the other ALREADY_ACTIVE with the same entry id', async () => {
    const addresses = Array.from({ length: 25 }, () => evmAddress());
    const [x, y] = await Promise.all([importEntries(addresses), importEntries(addresses)]);
    expect(x.added + y.added).toBe(25);
    expect(x.alreadyActive + y.alreadyActive).toBe(25);
    expect(x.rejected + y.rejected).toBe(0);
    for (const [i, address] of addresses.entries()) {
      expect(await entriesOf(address)).toBe(1);
      const rx = x.results[i]!;
      const ry = y.results[i]!;
      expect([rx.outcome, ry.outcome].sort()).toEqual([ImportEntryOutcome.IMPORT_ENTRY_OUTCOME_ADDED, ImportEntryOutcome.IMPORT_ENTRY_OUTCOME_ALREADY_ACTIVE].sort());
      expect(rx.entryId).toBe(ry.entryId);
    }
    // risk_audit_log: one `added` row per address, not two.
    expect(await count(`SELECT count(*)::int AS n FROM "risk_audit_log" WHERE "action" = 'internal_list.block.added' AND "subject" = ANY($1)`, [addresses.map(keyOf)])).toBe(25);
  });

  it('AddInternalEntry of an address already active → ALREADY_EXISTS ENTRY_ALREADY_ACTIVE, nothing added; after its expiry or removal it can be added again', async () => {
    const a = evmAddress();
    const first = (await addEntry(a)).entry!;
    expect(await refusal(addEntry(a))).toEqual({ code: grpc.status.ALREADY_EXISTS, reason: 'ENTRY_ALREADY_ACTIVE' });
    expect(await entriesOf(a)).toBe(1);
    await removeEntry(first.entryId);
    const second = (await addEntry(a)).entry!;
    expect(second.entryId).not.toBe(first.entryId);
    expect(await entriesOf(a)).toBe(1);
    // The second one expires (still unremoved, holding the key): adding again retires it as of its expiry.
    const expiredAt = new Date(Date.now() - 60_000);
    await service.dataSource.query(`UPDATE "risk_internal_entry" SET "expires_at" = $2 WHERE "id" = $1`, [second.entryId, expiredAt]);
    const third = (await addEntry(a)).entry!;
    expect(third.active).toBe(true);
    const [retired] = (await service.dataSource.query(`SELECT "removed_at", "removed_by" FROM "risk_internal_entry" WHERE "id" = $1`, [second.entryId])) as Array<{ removed_at: Date; removed_by: string }>;
    expect(retired).toEqual({ removed_at: expiredAt, removed_by: 'system:expired' });
    expect(await entriesOf(a)).toBe(1);
  });

  it('the store itself refuses a second unremoved entry of the same list and address key (partial unique index)', async () => {
    const key = keyOf(evmAddress());
    const insert = (list: string) =>
      service.dataSource.query(`INSERT INTO "risk_internal_entry" ("id", "list", "address_key", "reason", "created_by", "created_at") VALUES ($1, $2, $3, 'direct', 'it', now())`, [randomUUID(), list, key]);
    await insert('block');
    await expect(insert('block')).rejects.toMatchObject({ code: '23505' });
    await insert('allow'); // another list: its own entry
    expect(await entriesOfKey(key)).toBe(2);
  });
});
