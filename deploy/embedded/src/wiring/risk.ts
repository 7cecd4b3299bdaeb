// risk: sanctions screening on the in-process bus. risk provisions and migrates its own
// schema (startRisk takes the admin URL); the composition root provisions it first only to
// republish its outbox before any relay starts.
import { readFile } from 'node:fs/promises';
import type { EventBus } from '@custody/event-bus';
import type { Logger } from '@custody/platform';
import { DEFAULT_RULE_SET, DEFAULT_TRAVEL_RULE, parseRuleSet, parseTravelRuleConfig, startRisk, type RiskService } from '@custody/risk';
import type { EmbeddedDatabases, ServiceDatabase } from '../database.js';
import { DEMO_ACCOUNTS, DEMO_CHAIN } from '../demo-data.js';

const SEEDED_BY = 'embedded-seed';
/**
 * The demo customers' jurisdiction. Intake's API carries no travel-rule (originator /
 * beneficiary) data yet, so under the EU rule (no de minimis) every withdrawal would go to
 * compliance review (travel_rule_missing_info). Under the default rule set's US threshold
 * (FATF R.16 de minimis, a placeholder of 0.3 ETH) small withdrawals need none.
 */
const DEMO_JURISDICTION = 'US';

export function provisionRisk(dbs: EmbeddedDatabases): Promise<ServiceDatabase> {
  return dbs.provision('risk');
}

export interface ComposedRisk {
  readonly service: RiskService;
  readonly list: { readonly version: string; readonly entries: number; readonly changed: boolean };
}

export async function composeRisk(deps: { bus: EventBus; dbs: EmbeddedDatabases; logger: Logger; clock: { now(): Date }; sanctionsListFile: string }): Promise<ComposedRisk> {
  const service = await startRisk({
    bus: deps.bus,
    database: { adminUrl: deps.dbs.admin, ownerPassword: deps.dbs.rolePassword, appPassword: deps.dbs.rolePassword },
    logger: deps.logger.child({ service: 'risk' }),
    clock: deps.clock,
    // The production defaults (thresholds are placeholders per custodian, CONTROLS §0).
    settings: {
      ruleSet: parseRuleSet(DEFAULT_RULE_SET),
      travelRule: parseTravelRuleConfig(DEFAULT_TRAVEL_RULE),
      providerThresholds: { reviewAtScore: 60, blockAtScore: 90 },
      providerTimeoutMs: 1_000,
      listMaxAgeSeconds: 86_400,
    },
    relayPollIntervalMs: 50,
  });
  try {
    // Without a list risk fails closed (list_missing): import the shipped demo list.
    const result = await service.importOfac(await readFile(deps.sanctionsListFile, 'utf8'), SEEDED_BY);
    // The whitelisted destinations of the demo accounts are known counterparties.
    const seeded = (await service.dataSource.query(`SELECT "reason" FROM "risk_internal_entry" WHERE "list" = 'allow' AND "created_by" = $1 AND "removed_at" IS NULL`, [SEEDED_BY])) as { reason: string }[];
    const have = new Set(seeded.map((r) => r.reason));
    for (const account of DEMO_ACCOUNTS) {
      const reason = `whitelisted destination of ${account.id}: ${account.destination}`;
      if (!have.has(reason)) await service.addInternalEntry({ list: 'allow', chain: DEMO_CHAIN, address: account.destination, reason, by: SEEDED_BY });
      // Only where missing: a profile an operator changed (CustomerProfileService) is kept.
      if (!(await service.getCustomerProfile(account.id))) {
        await service.recordCustomerProfile({ customerAccount: account.id, kycStatus: 'verified', jurisdiction: DEMO_JURISDICTION, openedAt: new Date(account.openedAt) }, SEEDED_BY);
      }
    }
    return { service, list: { version: result.version, entries: result.entryCount, changed: result.changed } };
  } catch (error) {
    await service.stop();
    throw error;
  }
}
