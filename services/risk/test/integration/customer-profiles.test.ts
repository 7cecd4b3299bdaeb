// custody.risk.v1.CustomerProfileService over REAL gRPC with mTLS (operator = client
// certificate CN, as in production), PostgreSQL and Kafka: operators record customer
// profiles, versioned (two operators never overwrite each other silently), each upsert
// recorded by the operator audit gate BEFORE it is stored (refused when audit does not
// record it); screening uses what was recorded.
import { execFileSync } from 'node:child_process';
import { randomUUID, createHash, X509Certificate } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import * as grpc from '@grpc/grpc-js';
import { createEnvelope, KafkaBus, protobufEnvelopeCodec } from '@custody/event-bus';
import {
  CustomerProfileServiceClient,
  encodeEvent,
  KycStatus,
  RiskAssessed,
  RiskVerdict,
  timestampFromDate,
  timestampToDate,
  Topics,
  WithdrawalRequested,
  type GetCustomerProfileResponse,
  type ListCustomerProfilesResponse,
  type UpsertCustomerProfileRequest,
  type UpsertCustomerProfileResponse,
} from '@custody/contracts';
import { AuditUnavailableError, createLogger, errorReason, type OperatorActionRecord, type OperatorAuditGate } from '@custody/platform';
import { mtlsOperator, parseRuleSet, parseTravelRuleConfig, startRisk, type RiskService } from '../../src/index.js';
import { createDatabase, rand, RiskKafka, riskTopics, waitFor } from './support.js';

const ETH = 10n ** 18n;
const OWNER_PW = `owner-${rand()}-pw`;
const APP_PW = `app-${rand()}-pw`;
const suffix = rand();
const topics = riskTopics('riskprofiles', suffix);

/** The operator audit gate (a fake of the platform port): records, or refuses while `down`; notes what was stored when it was asked. */
class RecordingAuditGate implements OperatorAuditGate {
  readonly records: OperatorActionRecord[] = [];
  readonly storedVersionAtRecord: Array<number | null> = [];
  down = false;
  async record(a: OperatorActionRecord) {
    const [row] = (await service.dataSource.query(`SELECT "version" FROM "risk_customer" WHERE "customer_account" = $1`, [a.target])) as Array<{ version: number }>;
    this.storedVersionAtRecord.push(row?.version ?? null);
    if (this.down) throw new Error('audit unreachable');
    this.records.push(a);
    return { sequence: BigInt(this.records.length), recordHash: new Uint8Array(32) };
  }
}

let dir: string;
let db: Awaited<ReturnType<typeof createDatabase>>;
let kafka: RiskKafka;
let bus: KafkaBus;
let service: RiskService;
const gate = new RecordingAuditGate();
const clients: Record<string, CustomerProfileServiceClient> = {};
const pem: Record<string, Buffer> = {};
const assessed = new Map<string, RiskAssessed>();

type Method = 'upsertCustomerProfile' | 'getCustomerProfile' | 'listCustomerProfiles';
function call<Res>(who: string, method: Method, request: object): Promise<Res> {
  const client = clients[who]!;
  return new Promise((resolve, reject) => {
    const fn = client[method] as unknown as (req: object, md: grpc.Metadata, cb: (err: grpc.ServiceError | null, res: Res) => void) => void;
    fn.call(client, request, new grpc.Metadata(), (err, res) => (err ? reject(err) : resolve(res)));
  });
}
const upsert = (who: string, req: Partial<UpsertCustomerProfileRequest>): Promise<UpsertCustomerProfileResponse> =>
  call(who, 'upsertCustomerProfile', { customerAccount: '', kycStatus: KycStatus.KYC_STATUS_VERIFIED, jurisdiction: 'US', openedAt: timestampFromDate(new Date('2024-01-01Z')), expectedVersion: 0, note: '', ...req });
const get = (who: string, customerAccount: string): Promise<GetCustomerProfileResponse> => call(who, 'getCustomerProfile', { customerAccount });
const list = (who: string, pageSize: number, pageToken: string): Promise<ListCustomerProfilesResponse> => call(who, 'listCustomerProfiles', { pageSize, pageToken });
const failure = (p: Promise<unknown>): Promise<grpc.ServiceError> =>
  p.then(
    () => {
      throw new Error('expected the call to fail');
    },
    (e: grpc.ServiceError) => e,
  );
const stored = async (account: string): Promise<Array<{ version: number; kyc_status: string; jurisdiction: string; updated_by: string }>> =>
  (await service.dataSource.query(`SELECT "version", "kyc_status", "jurisdiction", "updated_by" FROM "risk_customer" WHERE "customer_account" = $1`, [account])) as Array<{ version: number; kyc_status: string; jurisdiction: string; updated_by: string }>;
const riskAudit = async (account: string): Promise<Array<{ actor: string; detail: Record<string, unknown> }>> =>
  (await service.dataSource.query(`SELECT "actor", "detail" FROM "risk_audit_log" WHERE "action" = 'customer.profile.recorded' AND "subject" = $1 ORDER BY "at"`, [account])) as Array<{ actor: string; detail: Record<string, unknown> }>;
const account = (): string => `acct-${rand()}`;
const certSha256 = (name: string): string => createHash('sha256').update(new X509Certificate(pem[`${name}.crt`]!).raw).digest('hex');

async function screenWithdrawal(customerAccount: string): Promise<RiskAssessed> {
  const withdrawalId = `w-${randomUUID()}`;
  const message = WithdrawalRequested.fromPartial({
    withdrawalId,
    clientId: 'client-1',
    customerAccount,
    asset: 'ETH',
    chain: 'ethereum-mainnet',
    amount: (ETH / 2n).toString(),
    destinationAddress: `0x${randomUUID().replace(/-/g, '')}${rand()}`.slice(0, 42),
  });
  const envelope = createEnvelope({ type: Topics.withdrawalRequested, key: withdrawalId, correlationId: `corr-${withdrawalId}`, producer: 'intake-test', schemaVersion: 1, payload: encodeEvent(Topics.withdrawalRequested, message) });
  await bus.publish([{ topic: topics.withdrawalRequested, key: withdrawalId, value: protobufEnvelopeCodec.encode(envelope) }]);
  return waitFor(() => assessed.get(withdrawalId), 30_000, () => `risk.assessed for ${withdrawalId}`);
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'risk-profiles-mtls-'));
  const ssl = (...args: string[]) => execFileSync('openssl', args, { cwd: dir, stdio: 'pipe' });
  const key = (name: string) => ssl('genpkey', '-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:P-256', '-out', `${name}.key`);
  key('ca');
  ssl('req', '-x509', '-new', '-key', 'ca.key', '-out', 'ca.crt', '-days', '1', '-subj', '/CN=risk-test-ca', '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign');
  const leaf = (name: string, subject: string, ext: string) => {
    key(name);
    ssl('req', '-new', '-key', `${name}.key`, '-out', `${name}.csr`, '-subj', subject);
    writeFileSync(join(dir, `${name}.ext`), ext);
    ssl('x509', '-req', '-in', `${name}.csr`, '-CA', 'ca.crt', '-CAkey', 'ca.key', '-CAcreateserial', '-out', `${name}.crt`, '-days', '1', '-extfile', `${name}.ext`);
  };
  leaf('server', '/CN=custody-risk', 'subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth\n');
  for (const op of ['op-alice', 'op-bob']) leaf(op, `/CN=${op}`, 'extendedKeyUsage=clientAuth\n');
  leaf('no-cn', '/O=custody', 'extendedKeyUsage=clientAuth\n'); // a valid certificate that names no operator
  for (const n of ['ca', 'server', 'op-alice', 'op-bob', 'no-cn']) {
    pem[`${n}.crt`] = readFileSync(join(dir, `${n}.crt`));
    if (n !== 'ca') pem[`${n}.key`] = readFileSync(join(dir, `${n}.key`));
  }

  db = await createDatabase('risk_profiles_test');
  kafka = await RiskKafka.start(`risk-profiles-test-${suffix}`, topics);
  bus = kafka.bus;
  service = await startRisk({
    bus,
    database: { adminUrl: db.adminUrl, ownerPassword: OWNER_PW, appPassword: APP_PW },
    logger: createLogger({ service: 'risk-profiles-test', level: 'error' }),
    settings: {
      ruleSet: parseRuleSet({ version: 'it-profiles', reviewAtScore: 50, blockAtScore: 101, rules: [] }),
      travelRule: parseTravelRuleConfig({ defaultJurisdiction: 'US', thresholds: { US: { ETH: ETH.toString() } } }),
      providerThresholds: { reviewAtScore: 60, blockAtScore: 90 },
      providerTimeoutMs: 300,
      listMaxAgeSeconds: 86_400,
    },
    grpc: {
      port: 0,
      credentials: { kind: 'tls', certChain: pem['server.crt']!, privateKey: pem['server.key']!, clientCa: pem['ca.crt']!, requireClientCertificate: true },
      authenticate: mtlsOperator,
    },
    operatorAudit: gate,
    topics,
    consumerGroup: `risk-profiles-${suffix}`,
  });
  await service.importOfac(readFileSync(new URL('../fixtures/sdn_advanced.xml', import.meta.url), 'utf8'), 'compliance:test');
  await kafka.collectAssessed(`risk-profiles-results-${suffix}`, assessed);
  for (const who of ['op-alice', 'op-bob', 'no-cn']) {
    clients[who] = new CustomerProfileServiceClient(`127.0.0.1:${service.grpcPort}`, grpc.credentials.createSsl(pem['ca.crt'], pem[`${who}.key`], pem[`${who}.crt`]));
  }
});

afterAll(async () => {
  for (const c of Object.values(clients)) c.close();
  await service?.stop();
  await kafka?.close();
  await db?.drop();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('CustomerProfileService authentication: the operator is the client certificate', () => {
  it('a certificate without an operator CN is refused UNAUTHENTICATED on every method; nothing stored or audited', async () => {
    const id = account();
    const refused = await Promise.all([failure(upsert('no-cn', { customerAccount: id })), failure(get('no-cn', id)), failure(list('no-cn', 0, ''))]);
    for (const err of refused) {
      expect(err.code).toBe(grpc.status.UNAUTHENTICATED);
      expect(errorReason(err.metadata)).toBe('OPERATOR_UNAUTHENTICATED');
    }
    expect(await stored(id)).toEqual([]);
    expect(gate.records.filter((r) => r.target === id)).toEqual([]);
  });
});

describe('UpsertCustomerProfile goes through the operator audit gate first (operator, device, source IP, digest); fail closed', () => {
  it('creates version 1: audited before it was stored, then the row and risk audit-log entry by the certificate\'s operator', async () => {
    const id = account();
    const before = gate.records.length;
    const res = await upsert('op-alice', { customerAccount: id, jurisdiction: 'JP', openedAt: timestampFromDate(new Date('2023-05-01T10:00:00Z')), note: 'KYC vendor case 4711 approved' });
    expect(res.profile).toMatchObject({ customerAccount: id, kycStatus: KycStatus.KYC_STATUS_VERIFIED, jurisdiction: 'JP', version: 1, updatedBy: 'op-alice' });
    expect(timestampToDate(res.profile!.openedAt!).toISOString()).toBe('2023-05-01T10:00:00.000Z');
    const rec = gate.records.slice(before);
    expect(rec).toHaveLength(1);
    expect(rec[0]).toMatchObject({ operatorId: 'op-alice', action: 'risk.customer_profile.upsert', target: id, deviceId: `cert:${certSha256('op-alice')}`, sourceIp: '127.0.0.1', approvalIds: [] });
    expect(rec[0]!.requestDigest).toHaveLength(32);
    expect(gate.storedVersionAtRecord[gate.storedVersionAtRecord.length - 1]).toBeNull(); // nothing stored yet when audit was asked
    expect(await stored(id)).toEqual([{ version: 1, kyc_status: 'verified', jurisdiction: 'JP', updated_by: 'op-alice' }]);
    expect(await riskAudit(id)).toEqual([{ actor: 'op-alice', detail: { kycStatus: 'verified', jurisdiction: 'JP', openedAt: '2023-05-01T10:00:00.000Z', version: 1, note: 'KYC vendor case 4711 approved' } }]);
    expect((await get('op-bob', id)).profile).toEqual(res.profile);
  });

  it('audit unavailable: UNAVAILABLE AUDIT_UNAVAILABLE, the profile unchanged (fail closed)', async () => {
    const id = account();
    await upsert('op-alice', { customerAccount: id });
    gate.down = true;
    try {
      const err = await failure(upsert('op-alice', { customerAccount: id, kycStatus: KycStatus.KYC_STATUS_REJECTED, expectedVersion: 1 }));
      expect(err.code).toBe(grpc.status.UNAVAILABLE);
      expect(errorReason(err.metadata)).toBe('AUDIT_UNAVAILABLE');
      expect(err.details).toBe(new AuditUnavailableError().message);
      const created = await failure(upsert('op-alice', { customerAccount: account() }));
      expect(errorReason(created.metadata)).toBe('AUDIT_UNAVAILABLE');
    } finally {
      gate.down = false;
    }
    expect(await stored(id)).toEqual([{ version: 1, kyc_status: 'verified', jurisdiction: 'US', updated_by: 'op-alice' }]);
    expect(await riskAudit(id)).toHaveLength(1);
  });
});

describe('UpsertCustomerProfile validation: INVALID_ARGUMENT naming the field, nothing stored or audited', () => {
  it.each<[string, Partial<UpsertCustomerProfileRequest>, RegExp]>([
    ['no account', { customerAccount: '' }, /^customer_account is required/],
    ['malformed account', { customerAccount: 'acct 1' }, /^customer_account must be/],
    ['unspecified KYC status', { kycStatus: KycStatus.KYC_STATUS_UNSPECIFIED }, /^kyc_status must be/],
    ['unknown KYC status value', { kycStatus: 42 as KycStatus }, /^kyc_status must be/],
    ['jurisdiction not ISO alpha-2', { jurisdiction: 'USA' }, /^jurisdiction must be an ISO 3166-1 alpha-2 code/],
    ['lower-case jurisdiction', { jurisdiction: 'us' }, /^jurisdiction must be/],
    ['no opening date', { openedAt: undefined }, /^opened_at is required/],
    ['opening date in the future', { openedAt: timestampFromDate(new Date(Date.now() + 86_400_000)) }, /^opened_at must not be in the future/],
    ['note too long', { note: 'n'.repeat(1001) }, /^note is longer than 1000/],
  ])('%s', async (_what, req, message) => {
    const id = req.customerAccount === undefined ? account() : req.customerAccount;
    const before = gate.records.length;
    const err = await failure(upsert('op-alice', { customerAccount: id, ...req }));
    expect(err.code).toBe(grpc.status.INVALID_ARGUMENT);
    expect(errorReason(err.metadata)).toBe('INVALID_ARGUMENT');
    expect(err.details).toMatch(message);
    expect(gate.records.length).toBe(before);
    if (id) expect(await stored(id)).toEqual([]);
  });
});

describe('versions: two operators never overwrite each other silently', () => {
  it('both read version 1; bob changes it; alice\'s change of version 1 is ABORTED PROFILE_VERSION_CONFLICT and not audited', async () => {
    const id = account();
    await upsert('op-alice', { customerAccount: id });
    const aliceRead = (await get('op-alice', id)).profile!;
    const bobRead = (await get('op-bob', id)).profile!;
    expect([aliceRead.version, bobRead.version]).toEqual([1, 1]);
    const bob = await upsert('op-bob', { customerAccount: id, jurisdiction: 'EU', expectedVersion: bobRead.version });
    expect(bob.profile).toMatchObject({ version: 2, jurisdiction: 'EU', updatedBy: 'op-bob' });
    const audited = gate.records.length;
    const err = await failure(upsert('op-alice', { customerAccount: id, kycStatus: KycStatus.KYC_STATUS_PENDING, expectedVersion: aliceRead.version }));
    expect(err.code).toBe(grpc.status.ABORTED);
    expect(errorReason(err.metadata)).toBe('PROFILE_VERSION_CONFLICT');
    expect(err.details).toContain('is at version 2, not 1');
    expect(gate.records.length).toBe(audited);
    expect(await stored(id)).toEqual([{ version: 2, kyc_status: 'verified', jurisdiction: 'EU', updated_by: 'op-bob' }]);
    // Creating a profile that exists is a conflict as well.
    expect(errorReason((await failure(upsert('op-alice', { customerAccount: id, expectedVersion: 0 }))).metadata)).toBe('PROFILE_VERSION_CONFLICT');
    // Changing one that does not exist too.
    expect(errorReason((await failure(upsert('op-alice', { customerAccount: account(), expectedVersion: 1 }))).metadata)).toBe('PROFILE_VERSION_CONFLICT');
  });

  it('8 concurrent changes of the same version: exactly one is stored, the others are conflicts', async () => {
    const id = account();
    await upsert('op-alice', { customerAccount: id });
    const outcomes = await Promise.allSettled(
      Array.from({ length: 8 }, (_, i) => upsert(i % 2 ? 'op-bob' : 'op-alice', { customerAccount: id, jurisdiction: ['US', 'JP', 'EU', 'GB', 'SG', 'CH', 'DE', 'FR'][i]!, expectedVersion: 1 })),
    );
    const won = outcomes.filter((o): o is PromiseFulfilledResult<UpsertCustomerProfileResponse> => o.status === 'fulfilled');
    const lost = outcomes.filter((o): o is PromiseRejectedResult => o.status === 'rejected');
    expect(won).toHaveLength(1);
    expect(lost.map((o) => errorReason((o.reason as grpc.ServiceError).metadata))).toEqual(Array(7).fill('PROFILE_VERSION_CONFLICT'));
    const [row] = await stored(id);
    expect(row).toMatchObject({ version: 2, jurisdiction: won[0]!.value.profile!.jurisdiction });
    expect(await riskAudit(id)).toHaveLength(2);
  });
});

describe('GetCustomerProfile / ListCustomerProfiles', () => {
  it('an unknown customer is NOT_FOUND PROFILE_NOT_FOUND; a malformed id INVALID_ARGUMENT', async () => {
    const err = await failure(get('op-alice', account()));
    expect(err.code).toBe(grpc.status.NOT_FOUND);
    expect(errorReason(err.metadata)).toBe('PROFILE_NOT_FOUND');
    expect((await failure(get('op-alice', 'a b'))).code).toBe(grpc.status.INVALID_ARGUMENT);
  });

  it('pages through every profile once, in account order', async () => {
    const prefix = `pg-${rand()}`;
    for (const n of [3, 1, 4, 2, 5]) await upsert('op-alice', { customerAccount: `${prefix}-${n}` });
    const seen: string[] = [];
    let token = '';
    for (let i = 0; i < 1000; i++) {
      const page = await list('op-bob', 3, token);
      expect(page.profiles.length).toBeLessThanOrEqual(3);
      seen.push(...page.profiles.map((p) => p.customerAccount));
      token = page.nextPageToken;
      if (!token) break;
    }
    expect(token).toBe('');
    expect(new Set(seen).size).toBe(seen.length);
    expect(seen.filter((a) => a.startsWith(prefix))).toEqual([1, 2, 3, 4, 5].map((n) => `${prefix}-${n}`));
    expect([...seen].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0))).toEqual(seen);
    expect(errorReason((await failure(list('op-bob', 501, ''))).metadata)).toBe('INVALID_ARGUMENT');
  });
});

describe('C-9.3.6.3-a withdrawals follow the KYC status operators record over the API', () => {
  it('unknown → REVIEW customer_unknown; pending → BLOCK kyc_not_verified; verified (next version) → CLEAR', async () => {
    const id = account();
    const unknown = await screenWithdrawal(id);
    expect(unknown.verdict).toBe(RiskVerdict.RISK_VERDICT_REVIEW);
    expect(unknown.reasons.map((r) => r.code)).toContain('customer_unknown');

    await upsert('op-alice', { customerAccount: id, kycStatus: KycStatus.KYC_STATUS_PENDING, note: 'documents received' });
    const pending = await screenWithdrawal(id);
    expect(pending.verdict).toBe(RiskVerdict.RISK_VERDICT_BLOCK);
    expect(pending.reasons.map((r) => r.code)).toContain('kyc_not_verified');

    await upsert('op-bob', { customerAccount: id, kycStatus: KycStatus.KYC_STATUS_VERIFIED, expectedVersion: 1, note: 'liveness and documents verified' });
    const verified = await screenWithdrawal(id);
    expect(verified.reasons.map((r) => r.code)).toEqual([]);
    expect(verified.verdict).toBe(RiskVerdict.RISK_VERDICT_CLEAR);
  });
});
