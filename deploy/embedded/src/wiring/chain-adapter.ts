// chain-adapter: the demo chain (ETH on DEMO_CHAIN) served by the local anvil (chain id
// 31337). Learns the hot wallet's address from the signer's key.lifecycle events (its wallet
// registry); policy.decided names the wallet id. FINAL after 2 blocks (1 s blocks).
import type { AuditHandle } from '@custody/audit';
import { CHAIN_ADAPTER_MIGRATIONS, startChainAdapter, type ChainAdapterHandle } from '@custody/chain-adapter';
import type { EventBus } from '@custody/event-bus';
import type { Logger } from '@custody/platform';
import pg from 'pg';
import type { EmbeddedDatabases, ServiceDatabase } from '../database.js';
import { DEMO_ASSET, DEMO_CHAIN } from '../demo-data.js';
import type { DevChain } from './anvil.js';
import { MAX_FEE_PER_GAS } from './signer.js';

export const DEMO_CONFIRMATIONS = 2;

export function provisionChainAdapter(dbs: EmbeddedDatabases): Promise<ServiceDatabase> {
  return dbs.provision('chain-adapter', CHAIN_ADAPTER_MIGRATIONS);
}

/**
 * A dev chain whose state file was lost is a new chain: the chain-adapter's rows of the old
 * one (blocks, nonces, transactions, deposits, incidents) would only mislead it (a "reorg" to
 * genesis, nonces ahead of the chain). They are cleared; the inbox is kept, so decisions of
 * earlier runs are not prepared again. Returns the number of withdrawals forgotten.
 */
export async function forgetLostChain(db: ServiceDatabase): Promise<number> {
  const client = new pg.Client({ connectionString: db.ownerUrl });
  await client.connect();
  try {
    const s = `"${db.roles.schema}"`;
    const { rows } = await client.query<{ n: string }>(`SELECT count(*)::text AS n FROM ${s}."withdrawal_tx"`);
    await client.query(`TRUNCATE ${s}."tx_attempt", ${s}."withdrawal_tx", ${s}."wallet_nonce", ${s}."chain_block", ${s}."deposit", ${s}."chain_incident"`);
    return Number(rows[0]?.n ?? 0);
  } finally {
    await client.end();
  }
}

export function composeChainAdapter(deps: { bus: EventBus; db: ServiceDatabase; logger: Logger; clock: { now(): Date }; chain: DevChain; custodyAddresses: readonly string[]; operatorAudit: AuditHandle['gate'] }): Promise<ChainAdapterHandle> {
  return startChainAdapter({
    bus: deps.bus,
    database: deps.db.app,
    logger: deps.logger.child({ service: 'chain-adapter' }),
    clock: deps.clock,
    rpcUrl: deps.chain.url,
    profile: {
      asset: DEMO_ASSET,
      chain: DEMO_CHAIN,
      chainId: deps.chain.chainId,
      genesisHash: deps.chain.genesisHash,
      confirmations: DEMO_CONFIRMATIONS,
      gasLimit: 21_000n,
      fees: { maxFeePerGas: MAX_FEE_PER_GAS, maxPriorityFeePerGas: 2_000_000_000n, minPriorityFeePerGas: 1_000_000n },
    },
    custodyAddresses: deps.custodyAddresses,
    operatorAudit: deps.operatorAudit,
    outboxPollIntervalMs: 50,
    pollIntervalMs: 250,
    // The embedded clock may be moved forward (CUSTODY_EMBEDDED_CLOCK_OFFSET): no head-age check.
    maxHeadAgeMs: 0,
  });
}
