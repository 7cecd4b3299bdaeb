// Risk benchmarks (printed, never asserted): 100k-entry OFAC list in the published
// sdn_advanced.xml schema — parse time, import time into Postgres — and screening
// throughput with that list loaded (in-memory decision path and the full use case with
// its Postgres transaction, inbox, locks, movement, assessment and outbox row).
// Run: bash scripts/bench.sh risk   (needs scripts/infra/up.sh: the real Postgres)
import { randomBytes, randomUUID } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import pg from 'pg';
import { sha256 } from '@noble/hashes/sha2.js';
import { base58check } from '@scure/base';
import { InProcessBus } from '@custody/event-bus';
import { createLogger } from '@custody/platform';
import { DEFAULT_RULE_SET, DEFAULT_TRAVEL_RULE, parseRuleSet, parseTravelRuleConfig, startRisk } from '../services/risk/src/index.js';
import { parseOfac } from '../services/risk/src/adapters/lists/ofac.js';
import { PgRiskStore } from '../services/risk/src/adapters/persistence/pg-risk-store.js';
import { SanctionsIndex } from '../services/risk/src/application/sanctions-index.js';
import { screenTransfer, type ScreeningDeps } from '../services/risk/src/application/screen-transfer.js';
import { lookupKeys, normalizeAddress } from '../services/risk/src/domain/address.js';
import { listState } from '../services/risk/src/domain/lists.js';
import { screen } from '../services/risk/src/domain/screening.js';

const N = Number(process.env['RISK_BENCH_ENTRIES'] ?? 100_000);
const b58 = base58check(sha256);

function syntheticAdvancedXml(n: number): { xml: string; sampleEth: string[] } {
  const parts: string[] = [];
  const sampleEth: string[] = [];
  parts.push('<?xml version="1.0" encoding="utf-8"?>\n<Sanctions xmlns="https://sanctionslistservice.ofac.treas.gov/api/PublicationPreview/exports/ADVANCED_XML">');
  parts.push('<DateOfIssue><Year>2026</Year><Month>1</Month><Day>1</Day></DateOfIssue>');
  parts.push('<ReferenceValueSets><FeatureTypeValues><FeatureType ID="344" FeatureTypeGroupID="1">Digital Currency Address - XBT</FeatureType><FeatureType ID="345" FeatureTypeGroupID="1">Digital Currency Address - ETH</FeatureType></FeatureTypeValues></ReferenceValueSets><DistinctParties>');
  const perParty = 10;
  for (let p = 0; p < n / perParty; p++) {
    const ref = 100_000 + p;
    parts.push(`<DistinctParty FixedRef="${ref}"><Comment /><Profile ID="${ref}" PartySubTypeID="3"><Identity ID="${ref}" FixedRef="${ref}" Primary="true" False="false"><Alias FixedRef="${ref}" AliasTypeID="1403" Primary="true" LowQuality="false"><DocumentedName ID="${ref}" FixedRef="${ref}" DocNameStatusID="1"><DocumentedNamePart><NamePartValue NamePartGroupID="1" ScriptID="215" ScriptStatusID="1" Acronym="false">SYNTHETIC PARTY ${ref}</NamePartValue></DocumentedNamePart></DocumentedName></Alias></Identity>`);
    for (let i = 0; i < perParty; i++) {
      const eth = i % 2 === 0;
      const address = eth ? `0x${randomBytes(20).toString('hex')}` : b58.encode(new Uint8Array([0, ...randomBytes(20)]));
      if (eth && sampleEth.length < 1000) sampleEth.push(address);
      const id = ref * perParty + i;
      parts.push(`<Feature ID="${id}" FeatureTypeID="${eth ? 345 : 344}"><FeatureVersion ID="${id}" ReliabilityID="1"><Comment /><VersionDetail DetailTypeID="1432">${address}</VersionDetail></FeatureVersion><IdentityReference IdentityID="${ref}" IdentityFeatureLinkTypeID="1" /></Feature>`);
    }
    parts.push('</Profile></DistinctParty>');
  }
  parts.push('</DistinctParties></Sanctions>');
  return { xml: parts.join('\n'), sampleEth };
}

const fmt = (n: number): string => n.toLocaleString('en-US', { maximumFractionDigits: 1 });

async function main(): Promise<void> {
  const adminUrl = process.env['CUSTODY_PG_ADMIN_URL'];
  if (!adminUrl) throw new Error('CUSTODY_PG_ADMIN_URL not set (source .local/infra.env)');
  const dbName = `risk_bench_${randomBytes(4).toString('hex')}`;
  const admin = new pg.Client({ connectionString: adminUrl });
  await admin.connect();
  await admin.query(`CREATE DATABASE "${dbName}"`);
  const u = new URL(adminUrl);
  u.pathname = `/${dbName}`;
  const bus = new InProcessBus();
  const ruleSet = parseRuleSet(DEFAULT_RULE_SET);
  const travelRule = parseTravelRuleConfig(DEFAULT_TRAVEL_RULE);
  const service = await startRisk({
    bus,
    database: { adminUrl: u.toString(), ownerPassword: `o-${randomUUID()}`, appPassword: `a-${randomUUID()}` },
    logger: createLogger({ service: 'risk-bench', level: 'error' }),
    settings: { ruleSet, travelRule, providerThresholds: { reviewAtScore: 60, blockAtScore: 90 }, providerTimeoutMs: 1000, listMaxAgeSeconds: 86_400 },
    poolSize: 20,
  });
  try {
    const t0 = performance.now();
    const { xml, sampleEth } = syntheticAdvancedXml(N);
    const t1 = performance.now();
    const parsed = parseOfac(xml);
    const t2 = performance.now();
    const imported = await service.importOfac(xml, 'bench');
    const t3 = performance.now();
    console.log(`list: ${fmt(parsed.entries.length)} entries, sdn_advanced.xml ${fmt(xml.length / 1e6)} MB (generated in ${fmt(t1 - t0)} ms)`);
    console.log(`  parse + normalise (fast-xml-parser, @scure/base checks): ${fmt(t2 - t1)} ms`);
    console.log(`  full import (parse + digest + diff + Postgres insert + audit): ${fmt(t3 - t2)} ms (version ${imported.version.slice(0, 12)}…)`);

    // In-memory decision path: normalise, look up in the 100k index, decide.
    const store = new PgRiskStore(service.dataSource);
    const index = new SanctionsIndex(store, 'ofac_sdn');
    const tl = performance.now();
    await index.ensure(imported.version);
    console.log(`  index load from Postgres into memory: ${fmt(performance.now() - tl)} ms (${fmt(index.size)} keys)`);
    const list = listState({ version: imported.version, checkedAt: new Date() }, new Date(), 86_400);
    const customer = { customerAccount: 'c', kycStatus: 'verified' as const, jurisdiction: 'EU', openedAt: new Date('2020-01-01Z') };
    const behaviour = { customerMovements: [], counterpartyMovements: [], counterpartySeenBefore: true, accountOpenedAt: customer.openedAt };
    let hits = 0;
    const inMemory = 200_000;
    const ts = performance.now();
    for (let i = 0; i < inMemory; i++) {
      const raw = i % 10 === 0 ? (sampleEth[i % sampleEth.length] ?? '') : `0x${(i + 1).toString(16).padStart(40, '0')}`;
      const n = normalizeAddress('ethereum-mainnet', raw);
      const sanctionsHits = index.lookup(lookupKeys(n, raw));
      const r = screen({ kind: 'withdrawal', at: new Date(), asset: 'ETH', amount: 10n ** 17n, counterpartyValid: true, customer, list, sanctionsHits, allowListed: false, provider: { status: 'skipped' }, providerThresholds: { reviewAtScore: 60, blockAtScore: 90 }, behaviour, ruleSet, travelRule, travelRuleData: { originatorName: 'a', originatorAccount: 'b', beneficiaryName: 'c', beneficiaryAccount: 'd' } });
      if (r.verdict === 'BLOCK') hits++;
    }
    const inMemoryMs = performance.now() - ts;
    console.log(`screening, decision path in memory (100k list loaded): ${fmt((inMemory / inMemoryMs) * 1000)} screenings/s (${fmt(inMemory)} screenings, ${fmt(hits)} sanctioned hits)`);

    // Full use case per screening: inbox + locks + behaviour query + movement + assessment + outbox.
    const deps: ScreeningDeps = { uow: store, sanctions: index, clock: { now: () => new Date() }, consumerGroup: 'bench', settings: { ruleSet, travelRule, providerThresholds: { reviewAtScore: 60, blockAtScore: 90 }, providerTimeoutMs: 1000, listMaxAgeSeconds: 86_400, listSource: 'ofac_sdn', maxDepositSources: 1 } };
    for (let c = 0; c < 200; c++) await service.recordCustomerProfile({ ...customer, customerAccount: `c-${c}` }, 'bench');
    const total = 4000;
    const concurrency = 16;
    let next = 0;
    const tf = performance.now();
    await Promise.all(
      Array.from({ length: concurrency }, async () => {
        while (next < total) {
          const i = next++;
          await screenTransfer(deps, { kind: 'withdrawal', subjectId: `w-${i}`, customerAccount: `c-${i % 200}`, chain: 'ethereum-mainnet', asset: 'ETH', amount: 10n ** 17n, counterparties: [i % 10 === 0 ? (sampleEth[i % sampleEth.length] ?? '') : `0x${(i + 1).toString(16).padStart(40, '0')}`], travelRuleData: { originatorName: 'a', originatorAccount: 'b', beneficiaryName: 'c', beneficiaryAccount: 'd' }, eventId: randomUUID(), meta: { correlationId: `b-${i}` } });
        }
      }),
    );
    const fullMs = performance.now() - tf;
    console.log(`screening, full use case on Postgres (inbox, row locks, movement, assessment, outbox; ${concurrency} concurrent, 200 customers): ${fmt((total / fullMs) * 1000)} screenings/s (${fmt(total)} in ${fmt(fullMs)} ms)`);
  } finally {
    await service.stop();
    await bus.close();
    await admin.query(`DROP DATABASE IF EXISTS "${dbName}" WITH (FORCE)`);
    await admin.end();
  }
}

await main();
