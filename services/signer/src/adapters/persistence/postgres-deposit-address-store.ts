// Postgres DepositAddressStore: allocation under the per-asset counter row lock; the
// (asset, customer_account) primary key makes a concurrent duplicate resolve to the first
// committed assignment (the loser's index is simply skipped).
import type { DataSource } from 'typeorm';
import type { DepositAddressAssignment, DepositAddressStore } from '../../application/deposit-addresses.js';

interface Row {
  derivation_index: number;
  derivation_path: string;
  address: string;
}

const toAssignment = (row: Row): DepositAddressAssignment => ({ index: Number(row.derivation_index), derivationPath: row.derivation_path, address: row.address });

export class PostgresDepositAddressStore implements DepositAddressStore {
  constructor(
    private readonly dataSource: DataSource,
    private readonly now: () => Date,
  ) {}

  private async find(asset: string, customerAccount: string): Promise<DepositAddressAssignment | undefined> {
    const rows = (await this.dataSource.query(`SELECT derivation_index, derivation_path, address FROM deposit_address WHERE asset = $1 AND customer_account = $2`, [asset, customerAccount])) as Row[];
    return rows[0] ? toAssignment(rows[0]) : undefined;
  }

  async assign(asset: string, customerAccount: string, derive: (index: number) => { readonly address: string; readonly derivationPath: string }): Promise<DepositAddressAssignment> {
    const existing = await this.find(asset, customerAccount);
    if (existing) return existing;
    const inserted = await this.dataSource.transaction(async (em) => {
      const counter = (await em.query(
        `INSERT INTO deposit_address_counter (asset, next_index) VALUES ($1, 1)
         ON CONFLICT (asset) DO UPDATE SET next_index = deposit_address_counter.next_index + 1
         RETURNING next_index - 1 AS idx`,
        [asset],
      )) as { idx: number }[];
      const index = Number(counter[0]?.idx);
      const derived = derive(index);
      const rows = (await em.query(
        `INSERT INTO deposit_address (asset, customer_account, derivation_index, derivation_path, address, created_at)
         VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (asset, customer_account) DO NOTHING
         RETURNING derivation_index, derivation_path, address`,
        [asset, customerAccount, index, derived.derivationPath, derived.address, this.now()],
      )) as Row[];
      return rows[0] ? toAssignment(rows[0]) : undefined;
    });
    if (inserted) return inserted;
    const winner = await this.find(asset, customerAccount);
    if (!winner) throw new Error('deposit address assignment vanished after a conflict');
    return winner;
  }
}
