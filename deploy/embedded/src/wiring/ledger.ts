// ledger: double-entry books on the in-process bus (holds on withdrawal.requested, releases
// on denial). The demo customers' opening balances are booked as deposits at start.
import { randomUUID } from 'node:crypto';
import type { EventBus } from '@custody/event-bus';
import { LEDGER_MIGRATIONS, startLedger, type LedgerHandle } from '@custody/ledger';
import type { Logger } from '@custody/platform';
import type { EmbeddedDatabases, ServiceDatabase } from '../database.js';
import { DEMO_ACCOUNTS, DEMO_ASSET } from '../demo-data.js';

export function provisionLedger(dbs: EmbeddedDatabases): Promise<ServiceDatabase> {
  return dbs.provision('ledger', LEDGER_MIGRATIONS);
}

export function composeLedger(deps: { bus: EventBus; db: ServiceDatabase; logger: Logger; clock: { now(): Date } }): Promise<LedgerHandle> {
  return startLedger({
    bus: deps.bus,
    database: deps.db.app,
    logger: deps.logger.child({ service: 'ledger' }),
    clock: deps.clock,
    // Intake names chains "<network>-mainnet"; the fee asset per chain name it uses.
    feeAssets: { 'ethereum-mainnet': 'ETH', 'bitcoin-mainnet': 'BTC' },
  });
}

/** Opening balances of the demo integrator's customers, booked once per integrator (deposit id). */
export async function seedOpeningBalances(ledger: LedgerHandle, clientId: string): Promise<void> {
  for (const account of DEMO_ACCOUNTS) {
    await ledger.dataSource.transaction((manager) =>
      ledger.postings.depositFinal(
        { depositId: `opening-${clientId}-${account.id}`, clientId, customerAccount: account.id, asset: DEMO_ASSET, amount: account.openingBalance },
        { eventId: randomUUID(), correlationId: `embedded-seed-${clientId}` },
        manager,
      ),
    );
  }
}

/**
 * The ledger hold of a withdrawal, for the policy's facts port: waits (bounded) for the
 * ledger to have handled withdrawal.requested; no hold (refused for funds, or not yet
 * there) → undefined, and the policy denies `ledger_hold_missing` (fail closed).
 */
export async function ledgerHoldOf(ledger: LedgerHandle, withdrawalId: string, waitMs = 5_000): Promise<{ id: string; amount: bigint } | undefined> {
  const deadline = Date.now() + waitMs;
  for (let i = 0; i < 1_000; i++) {
    const [row] = (await ledger.dataSource.query(`SELECT "amount"::text AS amount, "state" FROM "ledger_withdrawal" WHERE "withdrawal_id" = $1`, [withdrawalId])) as { amount: string; state: string }[];
    if (row) return row.state === 'HELD' ? { id: `ledger-hold-${withdrawalId}`, amount: BigInt(row.amount) } : undefined;
    if (Date.now() > deadline) return undefined;
    await new Promise((r) => setTimeout(r, 25));
  }
  return undefined;
}

/**
 * The policy's hot-wallet monitor reads the ledger's custodial balances in process (what
 * LedgerService.GetWalletBalances answers in the distributed deployment): one row per
 * `custodian:<asset>:<wallet>` account, with the wallet's chain from the ledger's registry.
 */
export function ledgerWalletBalances(ledger: LedgerHandle): {
  walletBalances(asset: string): Promise<{ walletId: string; chain: string; available: bigint }[]>;
  transferBooking(transferId: string): Promise<'not_known' | 'pending' | 'booked'>;
} {
  return {
    // What GetTransferBooking answers: booked only with the TRANSFER entry in the books.
    async transferBooking(transferId) {
      const t = await ledger.transferBooking(transferId);
      return !t ? 'not_known' : t.state === 'SETTLED' && t.settleEntryId !== null ? 'booked' : 'pending';
    },
    async walletBalances(asset) {
      const prefix = `custodian:${asset}:`;
      const rows = await ledger.store.custodialBalances(asset);
      return rows.filter((r) => r.account.startsWith(prefix)).map((r) => ({ walletId: r.account.slice(prefix.length), chain: r.chain, available: r.available }));
    },
  };
}

/**
 * Registers one of the treasury's own wallets whose key the embedded signer does not hold
 * (the cold wallet: offline, known here only by its id and address from the policy bundle's
 * treasury.json), as its key.lifecycle would: the ledger then books a sweep into it on FINAL.
 */
export async function registerOfflineWallet(ledger: LedgerHandle, w: { walletId: string; tier: 'warm' | 'cold'; chain: string; address: string }, clock: { now(): Date }): Promise<void> {
  await ledger.dataSource.transaction((manager) =>
    ledger.postings.registerWallet({ keyId: `${w.walletId}-offline`, signatureKey: true, walletId: w.walletId, tier: w.tier, chain: w.chain, address: w.address.toLowerCase(), at: clock.now() }, manager),
  );
}
