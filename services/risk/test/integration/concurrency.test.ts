// Rolling sums are exact under concurrency: N screenings for one customer run as N truly
// concurrent Postgres transactions (pool of 20) through the use case; the per-customer
// lock row serialises them, so every screening sees all earlier movements — the counts and
// sums observed are exactly 1..N, never a repeated (under-counted) value.
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { InProcessBus } from '@custody/event-bus';
import { createLogger } from '@custody/platform';
import { parseRuleSet, parseTravelRuleConfig, startRisk, type RiskService } from '../../src/index.js';
import { PgRiskStore } from '../../src/adapters/persistence/pg-risk-store.js';
import { SanctionsIndex } from '../../src/application/sanctions-index.js';
import { screenTransfer, type ScreeningDeps } from '../../src/application/screen-transfer.js';
import { createDatabase, rand } from './support.js';

const ETH = 10n ** 18n;
let db: Awaited<ReturnType<typeof createDatabase>>;
let bus: InProcessBus;
let service: RiskService;

beforeAll(async () => {
  db = await createDatabase('risk_conc');
  bus = new InProcessBus();
  service = await startRisk({
    bus,
    database: { adminUrl: db.adminUrl, ownerPassword: `owner-${rand()}-pw`, appPassword: `app-${rand()}-pw` },
    logger: createLogger({ service: 'risk-test', level: 'warn' }),
    settings: { ruleSet: parseRuleSet({ version: 'x', reviewAtScore: 100, blockAtScore: 101, rules: [] }), travelRule: parseTravelRuleConfig({ defaultJurisdiction: 'EU', thresholds: { EU: { X: '1' } } }), providerThresholds: { reviewAtScore: 60, blockAtScore: 90 }, providerTimeoutMs: 500, listMaxAgeSeconds: 86_400 },
    poolSize: 20,
  });
  await service.recordCustomerProfile({ customerAccount: 'c-1', kycStatus: 'verified', jurisdiction: 'EU', openedAt: new Date('2020-01-01Z') }, 'test');
});

afterAll(async () => {
  await service?.stop();
  await bus?.close();
  await db?.drop();
});

describe('C-9.3.14-b velocity counters exact under concurrency (Postgres row lock per customer and counterparty)', () => {
  it('25 concurrent screenings of one customer observe counts 1..25 and sums 1..25 ETH exactly once each', async () => {
    const store = new PgRiskStore(service.dataSource);
    const deps: ScreeningDeps = {
      uow: store,
      sanctions: new SanctionsIndex(store, 'ofac_sdn'),
      clock: { now: () => new Date() },
      consumerGroup: 'conc-test',
      settings: {
        ruleSet: parseRuleSet({
          version: 'conc',
          reviewAtScore: 100,
          blockAtScore: 101,
          rules: [
            // maxCount 0 / maxAmount 0: always fire, so every screening reports what it counted.
            { code: 'count_customer', kind: 'velocity_count', scope: 'customer', windowSeconds: 3600, maxCount: 0, action: 'REVIEW', score: 0 },
            { code: 'sum_customer', kind: 'velocity_sum', scope: 'customer', asset: 'ETH', windowSeconds: 3600, maxAmount: '0', action: 'REVIEW', score: 0 },
            { code: 'count_destination', kind: 'velocity_count', scope: 'destination', windowSeconds: 3600, maxCount: 0, action: 'REVIEW', score: 0 },
          ],
        }),
        travelRule: parseTravelRuleConfig({ defaultJurisdiction: 'EU', thresholds: { EU: { X: '1' } } }),
        providerThresholds: { reviewAtScore: 60, blockAtScore: 90 },
        providerTimeoutMs: 500,
        listMaxAgeSeconds: 86_400,
        listSource: 'ofac_sdn',
        maxDepositSources: 1,
      },
    };
    const N = 25;
    const dest = '0x1111111111111111111111111111111111111111';
    const results = await Promise.all(
      Array.from({ length: N }, (_, i) =>
        screenTransfer(deps, { kind: 'withdrawal', subjectId: `w-${i}`, customerAccount: 'c-1', chain: 'ethereum-mainnet', asset: 'ETH', amount: ETH, counterparties: [dest], eventId: randomUUID(), meta: { correlationId: `c-${i}` } }),
      ),
    );
    const seen = (code: string, re: RegExp): bigint[] =>
      results
        .map((a) => a?.reasons.find((r) => r.code === code)?.detail)
        .map((d) => BigInt(re.exec(d ?? '')?.[1] ?? '-1'))
        .sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
    const expected = Array.from({ length: N }, (_, i) => BigInt(i + 1));
    expect(seen('count_customer', /count over 3600s is (\d+)/)).toEqual(expected);
    expect(seen('count_destination', /count over 3600s is (\d+)/)).toEqual(expected);
    expect(seen('sum_customer', /sum over 3600s is (\d+)/)).toEqual(expected.map((k) => k * ETH));
    const [row] = (await service.dataSource.query(`SELECT count(*)::int AS n, sum("amount")::text AS s FROM "risk_movement" WHERE "customer_account" = 'c-1'`)) as { n: number; s: string }[];
    expect(row).toEqual({ n: N, s: (BigInt(N) * ETH).toString() });
  });
});
