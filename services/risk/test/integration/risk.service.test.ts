// End to end over the REAL Kafka broker and PostgreSQL: withdrawal.requested / deposit.detected
// in, risk.assessed out (outbox), the case queue over gRPC, list import, fail-closed paths.
import { readFileSync } from 'node:fs';
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import * as grpc from '@grpc/grpc-js';
import { createKafkaClient, createEnvelope, ensureTopics, KafkaBus, protobufEnvelopeCodec, withDeadLetterTopics, type Subscription } from '@custody/event-bus';
import { DepositDetected, decodeEvent, encodeEvent, loadPackageDefinition, RiskAssessed, RiskVerdict, Topics, WithdrawalRequested } from '@custody/contracts';
import { assertMigrationsMatchEntities, createLogger, createServiceDataSource, errorReason } from '@custody/platform';
import { HttpAddressRiskProvider, parseRuleSet, parseTravelRuleConfig, startRisk, trustedHeaderOperator, type RiskService } from '../../src/index.js';
import { RISK_ENTITIES } from '../../src/adapters/persistence/entities.js';
import { RISK_MIGRATIONS } from '../../src/adapters/persistence/migrations.js';
import { createDatabase, lowRisk, rand, requireEnv, startProvider, waitFor, type ProviderBehaviour } from './support.js';

const ETH = 10n ** 18n;
const fixture = (name: string): string => readFileSync(new URL(`../fixtures/${name}`, import.meta.url), 'utf8');
const OWNER_PW = `owner-${rand()}-pw`;
const APP_PW = `app-${rand()}-pw`;
const HANGING = '0x00000000000000000000000000000000000000aa';
const SEVERE = '0x00000000000000000000000000000000000000bb';
const TAINTED_OWN = '0x00000000000000000000000000000000000000cc';

const suffix = rand();
const topics = {
  withdrawalRequested: `risktest_${suffix}.withdrawal.requested.v1`,
  depositDetected: `risktest_${suffix}.deposit.detected.v1`,
  riskAssessed: `risktest_${suffix}.risk.assessed.v1`,
};

let db: Awaited<ReturnType<typeof createDatabase>>;
let bus: KafkaBus;
let kafkaAdmin: ReturnType<ReturnType<typeof createKafkaClient>['admin']>;
let service: RiskService;
let provider: Awaited<ReturnType<typeof startProvider>>;
let results: Subscription;
let caseClient: grpc.Client & Record<string, (...a: unknown[]) => unknown>;
const clockOffset = { ms: 0 };
const assessed: Array<{ assessment: RiskAssessed; key: string; causationId: string | undefined }> = [];

const evmAddress = (): string => `0x${randomUUID().replace(/-/g, '')}${rand()}`.slice(0, 42);

async function publishWithdrawal(over: Partial<WithdrawalRequested> & { withdrawalId?: string }, envelopeId?: string): Promise<string> {
  const withdrawalId = over.withdrawalId ?? `w-${randomUUID()}`;
  const message = WithdrawalRequested.fromPartial({
    withdrawalId,
    clientId: 'client-1',
    customerAccount: 'c-clear',
    asset: 'ETH',
    chain: 'ethereum-mainnet',
    amount: (ETH / 2n).toString(),
    destinationAddress: evmAddress(),
    originatorName: 'Alice Example',
    originatorAccount: 'acc-alice',
    beneficiaryName: 'Bob Example',
    beneficiaryAccount: 'ext-bob',
    ...over,
  });
  const envelope = createEnvelope({ id: envelopeId ?? randomUUID(), type: Topics.withdrawalRequested, key: withdrawalId, correlationId: `corr-${withdrawalId}`, producer: 'intake-test', schemaVersion: 1, payload: encodeEvent(Topics.withdrawalRequested, message) });
  await bus.publish([{ topic: topics.withdrawalRequested, key: withdrawalId, value: protobufEnvelopeCodec.encode(envelope) }]);
  return withdrawalId;
}

const assessmentsOf = (subjectId: string): RiskAssessed[] => assessed.filter((a) => a.key === subjectId).map((a) => a.assessment);
const awaitAssessment = (subjectId: string, n = 1): Promise<RiskAssessed> =>
  waitFor(() => assessmentsOf(subjectId)[n - 1], 30_000, () => `risk.assessed #${n} for ${subjectId}`);
const codes = (a: RiskAssessed): string[] => a.reasons.map((r) => r.code);

beforeAll(async () => {
  db = await createDatabase('risk_test');
  const kafka = createKafkaClient({ brokers: requireEnv('KAFKA_BROKERS').split(','), clientId: `risk-test-${suffix}`, logLevel: 'error' });
  kafkaAdmin = kafka.admin();
  await kafkaAdmin.connect();
  await ensureTopics(kafkaAdmin, withDeadLetterTopics(Object.values(topics).map((topic) => ({ topic, partitions: 3 }))));
  bus = new KafkaBus({ kafka });
  provider = await startProvider((address): ProviderBehaviour => {
    if (address === HANGING) return { kind: 'hang' };
    if (address === TAINTED_OWN) return { kind: 'json', body: { address, risk: 'High', riskReason: 'received funds from a darknet market', cluster: null, exposures: [{ category: 'darknet market', value: 12.5, exposureType: 'direct' }], status: 'COMPLETE' } };
    if (address === SEVERE) return { kind: 'json', body: { address, risk: 'Severe', riskReason: 'Sanctioned entity', cluster: { name: 'x', category: 'sanctioned entity' }, exposures: [{ category: 'sanctioned entity', value: 1000.5, exposureType: 'direct' }], status: 'COMPLETE' } };
    return lowRisk(address);
  });
  service = await startRisk({
    bus,
    database: { adminUrl: db.adminUrl, ownerPassword: OWNER_PW, appPassword: APP_PW },
    logger: createLogger({ service: 'risk-test', level: 'warn' }),
    clock: { now: () => new Date(Date.now() + clockOffset.ms) },
    settings: {
      ruleSet: parseRuleSet({
        version: 'it-1',
        reviewAtScore: 50,
        blockAtScore: 101,
        rules: [{ code: 'velocity_customer_eth_24h', kind: 'velocity_sum', scope: 'customer', asset: 'ETH', windowSeconds: 86_400, maxAmount: (10n * ETH).toString(), action: 'REVIEW', score: 30 }],
      }),
      travelRule: parseTravelRuleConfig({ defaultJurisdiction: 'US', thresholds: { US: { ETH: ETH.toString() }, EU: { '*': '0' } } }),
      providerThresholds: { reviewAtScore: 60, blockAtScore: 90 },
      providerTimeoutMs: 300,
      listMaxAgeSeconds: 86_400,
    },
    provider: new HttpAddressRiskProvider({ baseUrl: provider.url, name: 'local-analytics' }),
    grpc: { port: 0, credentials: { kind: 'insecure' }, authenticate: trustedHeaderOperator },
    topics,
    consumerGroup: `risk-${suffix}`,
  });
  results = await bus.subscribe({
    groupId: `risk-results-${suffix}`,
    topics: [topics.riskAssessed],
    handler: async (message) => {
      const envelope = protobufEnvelopeCodec.decode(message.value);
      assessed.push({ assessment: decodeEvent(Topics.riskAssessed, envelope.payload), key: message.key, causationId: envelope.causationId });
    },
  });
  const pkg = grpc.loadPackageDefinition(loadPackageDefinition()) as unknown as { custody: { risk: { v1: { CaseService: grpc.ServiceClientConstructor } } } };
  caseClient = new pkg.custody.risk.v1.CaseService(`127.0.0.1:${service.grpcPort}`, grpc.credentials.createInsecure()) as unknown as typeof caseClient;
  await service.recordCustomerProfile({ customerAccount: 'c-clear', kycStatus: 'verified', jurisdiction: 'US', openedAt: new Date('2020-01-01Z') }, 'kyc-vendor');
  await service.recordCustomerProfile({ customerAccount: 'c-vel', kycStatus: 'verified', jurisdiction: 'US', openedAt: new Date('2020-01-01Z') }, 'kyc-vendor');
  await service.recordCustomerProfile({ customerAccount: 'c-conc', kycStatus: 'verified', jurisdiction: 'US', openedAt: new Date('2020-01-01Z') }, 'kyc-vendor');
  await service.recordCustomerProfile({ customerAccount: 'c-pending', kycStatus: 'pending', jurisdiction: 'US', openedAt: new Date('2020-01-01Z') }, 'kyc-vendor');
});

afterAll(async () => {
  caseClient?.close();
  await results?.stop();
  await service?.stop();
  await bus?.close();
  await provider?.close();
  await db?.drop();
  if (kafkaAdmin) {
    await kafkaAdmin.deleteTopics({ topics: withDeadLetterTopics(Object.values(topics).map((topic) => ({ topic, partitions: 3 }))).map((t) => t.topic) }).catch(() => undefined);
    await kafkaAdmin.disconnect();
  }
});

function call<Res>(method: string, request: unknown, operator?: string): Promise<Res> {
  const md = new grpc.Metadata();
  if (operator) md.set('x-authenticated-operator', operator);
  return new Promise((resolve, reject) => {
    const fn = caseClient[method] as (req: unknown, md: grpc.Metadata, cb: (err: grpc.ServiceError | null, res: Res) => void) => void;
    fn.call(caseClient, request, md, (err, res) => (err ? reject(err) : resolve(res)));
  });
}

describe('schema', () => {
  it('migrations and entities agree (no drift)', async () => {
    const u = new URL(db.adminUrl);
    u.username = 'risk_owner';
    u.password = OWNER_PW;
    const owner = createServiceDataSource({ url: u.toString(), service: 'risk', entities: RISK_ENTITIES, migrations: RISK_MIGRATIONS });
    await owner.initialize();
    try {
      await expect(assertMigrationsMatchEntities(owner)).resolves.toBeUndefined();
    } finally {
      await owner.destroy();
    }
  });
});

describe('C-8.3.4-b screening over Kafka + Postgres: no list yet fails closed, then OFAC import', () => {
  it('before any list is imported a withdrawal is REVIEW list_missing, never CLEAR', async () => {
    const id = await publishWithdrawal({});
    const a = await awaitAssessment(id);
    expect(a.verdict).toBe(RiskVerdict.RISK_VERDICT_REVIEW);
    expect(codes(a)).toContain('list_missing');
  });

  it('imports the published sdn_advanced.xml sample: versioned, diffed, audited', async () => {
    const first = await service.importOfac(fixture('sdn_advanced.xml'), 'compliance:alice');
    expect(first).toMatchObject({ changed: true, entryCount: 10, previousVersion: undefined });
    expect(first.added).toHaveLength(10);
    const again = await service.importOfac(fixture('sdn_advanced.xml'), 'compliance:alice');
    expect(again).toMatchObject({ changed: false, version: first.version });
    const audit = (await service.dataSource.query(`SELECT "actor", "action", "detail" FROM "risk_audit_log" WHERE "subject" = $1 ORDER BY "at"`, [`ofac_sdn@${first.version}`])) as { actor: string; action: string; detail: { addedCount?: number } }[];
    expect(audit.map((r) => r.action)).toEqual(['list.imported', 'list.confirmed']);
    expect(audit[0]).toMatchObject({ actor: 'compliance:alice', detail: { addedCount: 10 } });
  });
});

describe('C-8.3.4-b withdrawals end to end: clear, block (OFAC-listed), review', () => {
  it('CLEAR: verified customer, small amount, unlisted low-risk destination; event carries the list version', async () => {
    const id = await publishWithdrawal({});
    const a = await awaitAssessment(id);
    expect(a.verdict).toBe(RiskVerdict.RISK_VERDICT_CLEAR);
    expect(a.reasons).toEqual([]);
    expect(a.listVersion).toMatch(/^[0-9a-f]{64}$/);
    expect(a.withdrawalId).toBe(id);
    expect(a.caseId).toBe('');
  });

  it('BLOCK: destination on the OFAC sample (Lazarus Group, written in lowercase) -> sanctioned_address', async () => {
    const id = await publishWithdrawal({ destinationAddress: '0x098b716b8aaf21512996dc57eb0615e2383e2f96' });
    const a = await awaitAssessment(id);
    expect(a.verdict).toBe(RiskVerdict.RISK_VERDICT_BLOCK);
    expect(a.score).toBe(100);
    expect(a.reasons[0]).toMatchObject({ code: 'sanctioned_address' });
    expect(a.reasons[0]?.detail).toMatch(/LAZARUS GROUP \[23254\]/);
  });

  it('BLOCK: Bitcoin withdrawal to a listed bech32 address in upper case', async () => {
    const id = await publishWithdrawal({ chain: 'bitcoin-mainnet', asset: 'BTC', amount: '1000', destinationAddress: 'BC1QSXF77CVWCD6JV6J8D8J3UHH4G0XQW4MESWMWUC' });
    expect(codes(await awaitAssessment(id))).toContain('sanctioned_address');
  });

  it('BLOCK: analytics provider rates the destination Severe', async () => {
    const id = await publishWithdrawal({ destinationAddress: SEVERE });
    const a = await awaitAssessment(id);
    expect(a.verdict).toBe(RiskVerdict.RISK_VERDICT_BLOCK);
    expect(codes(a)).toEqual(['provider_severe_risk']);
  });

  it('BLOCK: internal block list with reason and expiry', async () => {
    const dest = evmAddress();
    await service.addInternalEntry({ list: 'block', chain: 'ethereum-mainnet', address: dest.toUpperCase().replace('0X', '0x'), reason: 'scam report #77', expiresAt: new Date(Date.now() + 3_600_000), by: 'compliance:bob' });
    const a = await awaitAssessment(await publishWithdrawal({ destinationAddress: dest }));
    expect(a.verdict).toBe(RiskVerdict.RISK_VERDICT_BLOCK);
    expect(a.reasons[0]?.detail).toMatch(/scam report #77/);
  });

});

describe('C-9.3.6.3-a withdrawals are enabled only for KYC-verified customers', () => {
  it('BLOCK: customer whose KYC is not verified', async () => {
    const a = await awaitAssessment(await publishWithdrawal({ customerAccount: 'c-pending' }));
    expect(a.verdict).toBe(RiskVerdict.RISK_VERDICT_BLOCK);
    expect(codes(a)).toContain('kyc_not_verified');
  });

});

describe('C-9.3.14-b behavioural monitoring over the bus: velocity review opens a case', () => {
  it('REVIEW: rolling 24h customer sum over the limit opens a case', async () => {
    const ids: string[] = [];
    for (const i of [1, 2, 3]) {
      ids.push(await publishWithdrawal({ customerAccount: 'c-vel', amount: (4n * ETH).toString(), withdrawalId: `w-vel-${suffix}-${i}` }));
      await awaitAssessment(ids[ids.length - 1]!);
    }
    const [a1, a2, a3] = ids.map((id) => assessmentsOf(id)[0]!);
    expect(a1?.verdict).toBe(RiskVerdict.RISK_VERDICT_CLEAR);
    expect(a2?.verdict).toBe(RiskVerdict.RISK_VERDICT_CLEAR);
    expect(a3?.verdict).toBe(RiskVerdict.RISK_VERDICT_REVIEW);
    expect(a3?.reasons[0]?.detail).toMatch(/sum over 86400s is 12000000000000000000/);
    expect(a3?.caseId).toMatch(/^[0-9a-f-]{36}$/);
    expect(a3?.travelRuleRequired).toBe(true);
  });

});

describe('C-8.3.4-d travel rule: transfers above the threshold without data are held', () => {
  it('REVIEW: at/above the travel-rule threshold without beneficiary data', async () => {
    const a = await awaitAssessment(await publishWithdrawal({ amount: ETH.toString(), beneficiaryName: '', beneficiaryAccount: '' }));
    expect(a.verdict).toBe(RiskVerdict.RISK_VERDICT_REVIEW);
    expect(a.travelRuleRequired).toBe(true);
    expect(codes(a)).toEqual(['travel_rule_missing_info']);
    expect(a.reasons[0]?.detail).toMatch(/missing beneficiaryName, beneficiaryAccount/);
  });

});

describe('C-8.3.4-b screening failure fails closed; effects exactly once', () => {
  it('REVIEW provider_unavailable when the provider does not answer in time (fail closed)', async () => {
    const a = await awaitAssessment(await publishWithdrawal({ destinationAddress: HANGING }));
    expect(a.verdict).toBe(RiskVerdict.RISK_VERDICT_REVIEW);
    expect(a.reasons).toEqual([{ code: 'provider_unavailable', detail: 'local-analytics: no answer within 300ms' }]);
  });

  it('REVIEW list_stale once the list is older than its maximum age; a re-check makes it fresh again', async () => {
    clockOffset.ms = 2 * 86_400_000;
    try {
      const stale = await awaitAssessment(await publishWithdrawal({}));
      expect(stale.verdict).toBe(RiskVerdict.RISK_VERDICT_REVIEW);
      expect(codes(stale)).toEqual(['list_stale']);
      const sanctionedWhileStale = await awaitAssessment(await publishWithdrawal({ destinationAddress: '0x8589427373D6D84E98730D7795D8f6f8731FDA16' }));
      expect(sanctionedWhileStale.verdict).toBe(RiskVerdict.RISK_VERDICT_BLOCK);
      await service.importOfac(fixture('sdn_advanced.xml'), 'compliance:alice');
      expect((await awaitAssessment(await publishWithdrawal({}))).verdict).toBe(RiskVerdict.RISK_VERDICT_CLEAR);
    } finally {
      clockOffset.ms = 0;
    }
  });

  it('exactly once: the same event delivered twice gives one assessment and one risk.assessed', async () => {
    const envelopeId = randomUUID();
    const id = `w-dup-${suffix}`;
    await publishWithdrawal({ withdrawalId: id }, envelopeId);
    await publishWithdrawal({ withdrawalId: id }, envelopeId);
    await awaitAssessment(id);
    const marker = await publishWithdrawal({}); // published after both copies, same consumer
    await awaitAssessment(marker);
    await new Promise((r) => setTimeout(r, 500));
    expect(assessmentsOf(id)).toHaveLength(1);
    const rows = (await service.dataSource.query(`SELECT count(*)::int AS n FROM "risk_assessment" WHERE "subject_id" = $1`, [id])) as { n: number }[];
    expect(rows[0]?.n).toBe(1);
  });
});

describe('C-8.3.4-b deposits: a sanctioned source is blocked and quarantined with a case', () => {
  it('deposit from an OFAC-listed Bitcoin address -> BLOCK + case; clean source -> CLEAR', async () => {
    const publish = async (sources: string[]): Promise<string> => {
      const depositId = `d-${randomUUID()}`;
      const msg = DepositDetected.fromPartial({ depositId, chain: 'bitcoin-mainnet', asset: 'BTC', address: 'bc1qcustodyowned', customerAccount: 'c-clear', amount: '5000', txHash: 'ab'.repeat(32), sourceAddresses: sources });
      const env = createEnvelope({ type: Topics.depositDetected, key: msg.address, correlationId: depositId, producer: 'chain-adapter-test', schemaVersion: 1, payload: encodeEvent(Topics.depositDetected, msg) });
      await bus.publish([{ topic: topics.depositDetected, key: msg.address, value: protobufEnvelopeCodec.encode(env) }]);
      return depositId;
    };
    const bad = await awaitAssessment(await publish(['149w62rY42aZBox8fGcmqNsXUzSStKeq8C']));
    expect(bad.verdict).toBe(RiskVerdict.RISK_VERDICT_BLOCK);
    expect(bad.depositId).not.toBe('');
    expect(bad.withdrawalId).toBe('');
    expect(bad.caseId).not.toBe('');
    const good = await awaitAssessment(await publish(['bc1qar0srrr7xfkvy5l643lydnw9re59gtzzwf5mdq']));
    expect(good.verdict).toBe(RiskVerdict.RISK_VERDICT_CLEAR);
  });
});

describe('C-9.3.14-b case queue over gRPC: REVIEW opens a case, an operator resolves it', () => {
  it('lists open cases, resolves one CLEAR with a note; an updated risk.assessed supersedes the original', async () => {
    const id = `w-vel-${suffix}-3`;
    const original = await awaitAssessment(id);
    const page = await call<{ cases: Array<{ case_id: string; subject_id: string; status: string; subject_kind: string; score: number }> }>('ListOpenCases', { page_size: 500 }, 'alice');
    const c = page.cases.find((x) => x.subject_id === id);
    expect(c).toMatchObject({ case_id: original.caseId, status: 'CASE_STATUS_OPEN', subject_kind: 'CASE_SUBJECT_KIND_WITHDRAWAL', score: 30 });

    await expect(call('ResolveCase', { case_id: original.caseId, resolution: 'CASE_RESOLUTION_CLEAR', note: 'customer explained payroll' })).rejects.toMatchObject({ code: grpc.status.UNAUTHENTICATED });
    const mismatch = await call('ResolveCase', { case_id: original.caseId, resolution: 'CASE_RESOLUTION_CLEAR', note: 'x y z', operator: 'mallory' }, 'alice').catch((e: grpc.ServiceError) => e);
    expect(mismatch).toMatchObject({ code: grpc.status.PERMISSION_DENIED });
    expect(errorReason((mismatch as grpc.ServiceError).metadata)).toBe('OPERATOR_MISMATCH');

    const res = await call<{ resolved_case: { status: string; resolved_by: string; resolution: string }; assessment_id: string }>('ResolveCase', { case_id: original.caseId, resolution: 'CASE_RESOLUTION_CLEAR', note: 'customer explained payroll', operator: 'alice' }, 'alice');
    expect(res.resolved_case).toMatchObject({ status: 'CASE_STATUS_RESOLVED', resolved_by: 'alice', resolution: 'CASE_RESOLUTION_CLEAR' });
    const updated = await awaitAssessment(id, 2);
    expect(updated).toMatchObject({ assessmentId: res.assessment_id, verdict: RiskVerdict.RISK_VERDICT_CLEAR, resolvedBy: 'alice', supersedesAssessmentId: original.assessmentId, caseId: original.caseId });
    expect(codes(updated)).toEqual(['velocity_customer_eth_24h', 'case_cleared']);

    const again = await call('ResolveCase', { case_id: original.caseId, resolution: 'CASE_RESOLUTION_BLOCK', note: 'changed my mind' }, 'bob').catch((e: grpc.ServiceError) => e);
    expect(again).toMatchObject({ code: grpc.status.FAILED_PRECONDITION });
    expect(errorReason((again as grpc.ServiceError).metadata)).toBe('CASE_ALREADY_RESOLVED');
    const audit = (await service.dataSource.query(`SELECT "actor", "action" FROM "risk_audit_log" WHERE "subject" = $1`, [original.caseId])) as { actor: string; action: string }[];
    expect(audit).toEqual([{ actor: 'alice', action: 'case.resolved' }]);
    const open = await call<{ cases: Array<{ case_id: string }> }>('ListOpenCases', {}, 'alice');
    expect(open.cases.some((x) => x.case_id === original.caseId)).toBe(false);
  });
});

describe('C-8.3.4-b list update: the next OFAC version is diffed and takes effect', () => {
  it('v2 removes Tornado Cash and adds an XBT address; screening follows the new version', async () => {
    const v2 = await service.importOfac(fixture('sdn_advanced.v2.xml'), 'compliance:alice');
    expect(v2.changed).toBe(true);
    expect(v2.added).toEqual(['bitcoin:12QtD5BFwRsdNsAZY76UVE1xyCGNTojH9h']);
    expect(v2.removed).toHaveLength(3);
    const hist = (await service.dataSource.query(`SELECT "version", "is_current", "added", "removed", "previous_version" FROM "risk_list_version" ORDER BY "imported_at"`)) as { version: string; is_current: boolean; added: number; removed: number; previous_version: string | null }[];
    expect(hist).toHaveLength(2);
    expect(hist[1]).toMatchObject({ version: v2.version, is_current: true, added: 1, removed: 3, previous_version: hist[0]?.version });
    const tornado = await awaitAssessment(await publishWithdrawal({ destinationAddress: '0x722122dF12D4e14e13Ac3b6895a86e84145b6967' }));
    expect(tornado.verdict).toBe(RiskVerdict.RISK_VERDICT_CLEAR);
    expect(tornado.listVersion).toBe(v2.version);
  });
});

describe('C-9.3.14-b rolling sums under concurrency over the bus', () => {
  it('12 withdrawals of 1 ETH for one customer published at once: exactly the 11th and 12th exceed 10 ETH', async () => {
    const ids = Array.from({ length: 12 }, (_, i) => `w-conc-${suffix}-${i}`);
    await Promise.all(ids.map((withdrawalId) => publishWithdrawal({ withdrawalId, customerAccount: 'c-conc', amount: ETH.toString(), beneficiaryName: 'B', beneficiaryAccount: 'b' })));
    const all = await Promise.all(ids.map((id) => awaitAssessment(id)));
    expect(all.filter((a) => a.verdict === RiskVerdict.RISK_VERDICT_REVIEW)).toHaveLength(2);
    const sums = all.flatMap((a) => a.reasons.map((r) => /sum over 86400s is (\d+)/.exec(r.detail)?.[1])).filter(Boolean).sort();
    expect(sums).toEqual([(11n * ETH).toString(), (12n * ETH).toString()]);
  });
});

describe('C-8.3.4-c own-address reputation monitoring: a flagged own address opens a remediation case', () => {
  it('the provider rates an own hot-wallet address High -> case + audit; a second run opens no duplicate; clean addresses pass', async () => {
    const own = [
      { chain: 'ethereum-mainnet', address: TAINTED_OWN, label: 'hot wallet ETH-1' },
      { chain: 'ethereum-mainnet', address: evmAddress(), label: 'deposit address c-clear' },
    ];
    const first = await service.checkOwnAddresses(own, 'scheduler');
    expect(first[0]?.reasons.map((r) => r.code)).toEqual(['own_address_high_risk']);
    expect(first[0]?.reasons[0]?.detail).toMatch(/hot wallet ETH-1: local-analytics rates it High \(75\): darknet market/);
    expect(first[0]?.caseId).toMatch(/^[0-9a-f-]{36}$/);
    expect(first[1]?.reasons).toEqual([]);
    expect(first[1]?.caseId).toBeUndefined();
    const second = await service.checkOwnAddresses(own, 'scheduler');
    expect(second[0]?.caseId).toBeUndefined();
    const open = await call<{ cases: Array<{ case_id: string; subject_kind: string; subject_id: string }> }>('ListOpenCases', { page_size: 500 }, 'alice');
    const mine = open.cases.filter((c) => c.subject_kind === 'CASE_SUBJECT_KIND_OWN_ADDRESS');
    expect(mine).toEqual([expect.objectContaining({ case_id: first[0]?.caseId, subject_id: `ethereum-mainnet:${TAINTED_OWN}` })]);
    const audit = (await service.dataSource.query(`SELECT "action" FROM "risk_audit_log" WHERE "subject" = $1`, [`ethereum-mainnet:${TAINTED_OWN}`])) as { action: string }[];
    expect(audit).toEqual([{ action: 'own_address.flagged' }]);
  });
});
