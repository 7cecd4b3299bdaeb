// Which addresses are the custodian's, for the balance snapshot. A small port so the source
// can switch: today the union of the wallet registry (custody_wallet, fed by key.lifecycle,
// when that table exists), the wallets the nonce allocator and the withdrawals have used,
// and the configured deposit and custody addresses. Read-only SQL; no address is guessed.
import type { DataSource } from 'typeorm';

export type AddressRole = 'hot-wallet' | 'deposit' | 'custody';

export interface CustodialAddress {
  /** Lower-case 0x address. */
  readonly address: string;
  /** The wallet id when known ('' otherwise). */
  readonly walletId: string;
  readonly role: AddressRole;
}

export interface CustodialAddressSource {
  addresses(chain: string): Promise<{ readonly source: string; readonly addresses: readonly CustodialAddress[] }>;
}

const ADDRESS = /^0x[0-9a-f]{40}$/;

/**
 * Registry (if present) ∪ nonce/withdrawal wallets ∪ configuration. `deposit` and `custody`
 * are already normalised (lower-case). A malformed stored address fails the snapshot: a
 * custodial balance is never silently left out.
 */
export class StoreAndConfigAddressSource implements CustodialAddressSource {
  private schema?: { registry: boolean; walletIdColumn: boolean };

  constructor(
    private readonly dataSource: DataSource,
    private readonly config: { readonly deposit: readonly string[]; readonly custody: readonly string[] },
  ) {}

  private async detect(): Promise<{ registry: boolean; walletIdColumn: boolean }> {
    // The registry is being added by its own change; use it as soon as its migration ran.
    if (!this.schema?.registry || !this.schema.walletIdColumn) {
      const rows = (await this.dataSource.query(
        `SELECT to_regclass('custody_wallet') IS NOT NULL AS registry,
                EXISTS (SELECT 1 FROM information_schema.columns WHERE table_schema = current_schema() AND table_name = 'withdrawal_tx' AND column_name = 'wallet_id') AS wallet_id_column`,
      )) as { registry: boolean; wallet_id_column: boolean }[];
      this.schema = { registry: rows[0]?.registry === true, walletIdColumn: rows[0]?.wallet_id_column === true };
    }
    return this.schema;
  }

  async addresses(chain: string): Promise<{ source: string; addresses: CustodialAddress[] }> {
    const schema = await this.detect();
    const found = new Map<string, CustodialAddress>();
    const add = (address: string, walletId: string, role: AddressRole): void => {
      const a = address.toLowerCase();
      if (!ADDRESS.test(a)) throw new Error(`custodial address source: malformed address for chain ${chain}`);
      const prev = found.get(a);
      // hot-wallet wins over deposit over custody; a known wallet id wins over ''.
      const rank = (r: AddressRole): number => (r === 'hot-wallet' ? 0 : r === 'deposit' ? 1 : 2);
      if (!prev) found.set(a, { address: a, walletId, role });
      else found.set(a, { address: a, walletId: prev.walletId || walletId, role: rank(role) < rank(prev.role) ? role : prev.role });
    };
    if (schema.registry) {
      const rows = (await this.dataSource.query(`SELECT "wallet_id", "address" FROM "custody_wallet" WHERE "chain" = $1 AND "address" <> '' ORDER BY "address"`, [chain])) as {
        wallet_id: string;
        address: string;
      }[];
      for (const r of rows) add(r.address, r.wallet_id, 'hot-wallet');
    }
    const walletId = schema.walletIdColumn ? `max("wallet_id")` : `''`;
    const used = (await this.dataSource.query(
      `SELECT "wallet" AS address, ${walletId} AS wallet_id FROM "withdrawal_tx" WHERE "chain" = $1 GROUP BY "wallet"
       UNION ALL SELECT "wallet" AS address, '' AS wallet_id FROM "wallet_nonce" WHERE "chain" = $1`,
      [chain],
    )) as { address: string; wallet_id: string }[];
    for (const r of used) add(r.address, r.wallet_id, 'hot-wallet');
    for (const a of this.config.deposit) add(a, '', 'deposit');
    for (const a of this.config.custody) add(a, '', 'custody');
    const addresses = [...found.values()].sort((x, y) => (x.address < y.address ? -1 : x.address > y.address ? 1 : 0));
    return { source: schema.registry ? 'wallet-registry+withdrawals+config' : 'withdrawals+config', addresses };
  }
}
