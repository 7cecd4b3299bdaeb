// The only file that reads process.env. Validated once at boot (a bad value stops the
// service with a message naming the variable). One process per chain (C-5.5.3-b).
import { z } from 'zod';
import { defineConfig, envVar, grpcServerCredentials, grpcServerTlsEnv } from '@custody/platform';
import { validateQuorum } from './adapters/chain/quorum-evm-chain.js';

const wei = (name: string) => envVar.custom(`${name}: a non-negative integer in wei`, (raw) => (/^[0-9]{1,78}$/.test(raw) ? BigInt(raw) : undefined));

const schema = z.object({
  CUSTODY_LOG_LEVEL: envVar.logLevel().default('info'),
  CUSTODY_METRICS_PORT: envVar.port().default(9464),
  // ChainQueryService (read-only custodial balances for the ledger's reconciliation).
  CUSTODY_GRPC_HOST: envVar.string({ minLength: 1 }).default('127.0.0.1'),
  CUSTODY_GRPC_PORT: envVar.port().default(50057),
  CUSTODY_DB_URL: envVar.url({ protocols: ['postgres:', 'postgresql:'] }),
  KAFKA_BROKERS: envVar.list(),
  ANVIL_RPC_URL: envVar.url({ protocols: ['http:', 'https:'] }).default('http://127.0.0.1:18545'),
  CUSTODY_CHAIN_RPC_URL: envVar.url({ protocols: ['http:', 'https:'] }).optional(),
  // Several endpoints of the same chain (C-5.5.4-b): comma-separated http(s) URLs; overrides CUSTODY_CHAIN_RPC_URL.
  CUSTODY_CHAIN_RPC_URLS: envVar.custom('a comma-separated list of http(s) URLs with a host', (raw) => {
    const items = raw.split(',').map((s) => s.trim());
    const ok = items.every((item) => {
      try {
        const u = new URL(item);
        return (u.protocol === 'http:' || u.protocol === 'https:') && u.hostname.length > 0;
      } catch {
        return false;
      }
    });
    return ok && new Set(items).size === items.length ? items : undefined;
  }).optional(),
  // k of CUSTODY_CHAIN_RPC_URLS that must agree (default: a majority; must be a majority).
  CUSTODY_CHAIN_RPC_QUORUM: envVar.int({ min: 1, max: 64 }).optional(),
  CUSTODY_CHAIN_NAME: envVar.string({ minLength: 1 }).default('ethereum-local'),
  CUSTODY_CHAIN_ASSET: envVar.string({ minLength: 2 }).default('ETH'),
  CUSTODY_CHAIN_ID: envVar.int({ min: 1, max: 2 ** 31 }),
  CUSTODY_CHAIN_GENESIS_HASH: envVar.custom('0x + 64 hex digits', (raw) => (/^0x[0-9a-fA-F]{64}$/.test(raw) ? raw.toLowerCase() : undefined)),
  CUSTODY_CHAIN_CONFIRMATIONS: envVar.int({ min: 1, max: 10_000 }).default(12),
  CUSTODY_CHAIN_MAX_FEE_PER_GAS: wei('CUSTODY_CHAIN_MAX_FEE_PER_GAS').default(200_000_000_000n),
  CUSTODY_CHAIN_MAX_PRIORITY_FEE_PER_GAS: wei('CUSTODY_CHAIN_MAX_PRIORITY_FEE_PER_GAS').default(5_000_000_000n),
  CUSTODY_CHAIN_MIN_PRIORITY_FEE_PER_GAS: wei('CUSTODY_CHAIN_MIN_PRIORITY_FEE_PER_GAS').default(1_000_000n),
  CUSTODY_CHAIN_POLL_INTERVAL: envVar.duration().default(2_000),
  CUSTODY_CHAIN_MAX_HEAD_AGE: envVar.duration().default(120_000),
  CUSTODY_CHAIN_STUCK_AFTER: envVar.duration().default(0),
  CUSTODY_CHAIN_CUSTODY_ADDRESSES: envVar.list().default([]),
  CUSTODY_CHAIN_DEPOSIT_ADDRESSES: envVar.list().default([]),
});

export function loadChainAdapterConfig(env: NodeJS.ProcessEnv = process.env) {
  return defineConfig(
    schema.and(grpcServerTlsEnv).superRefine((e, ctx) => {
      const urls = e.CUSTODY_CHAIN_RPC_URLS ?? [e.CUSTODY_CHAIN_RPC_URL ?? e.ANVIL_RPC_URL];
      const problem = validateQuorum(urls.length, e.CUSTODY_CHAIN_RPC_QUORUM ?? Math.floor(urls.length / 2) + 1);
      if (problem) ctx.addIssue({ code: 'custom', path: ['CUSTODY_CHAIN_RPC_QUORUM'], message: problem });
    }).transform((e) => ({
      grpc: { host: e.CUSTODY_GRPC_HOST, port: e.CUSTODY_GRPC_PORT, credentials: grpcServerCredentials(e) },
      logLevel: e.CUSTODY_LOG_LEVEL,
      metricsPort: e.CUSTODY_METRICS_PORT,
      databaseUrl: e.CUSTODY_DB_URL,
      kafkaBrokers: e.KAFKA_BROKERS,
      rpcUrl: e.CUSTODY_CHAIN_RPC_URL ?? e.ANVIL_RPC_URL,
      // One endpoint: [rpcUrl]; several: reads agreed by rpcQuorum of them.
      rpcUrls: e.CUSTODY_CHAIN_RPC_URLS ?? [e.CUSTODY_CHAIN_RPC_URL ?? e.ANVIL_RPC_URL],
      rpcQuorum: e.CUSTODY_CHAIN_RPC_QUORUM ?? Math.floor((e.CUSTODY_CHAIN_RPC_URLS?.length ?? 1) / 2) + 1,
      pollIntervalMs: e.CUSTODY_CHAIN_POLL_INTERVAL,
      maxHeadAgeMs: e.CUSTODY_CHAIN_MAX_HEAD_AGE,
      stuckAfterMs: e.CUSTODY_CHAIN_STUCK_AFTER,
      custodyAddresses: e.CUSTODY_CHAIN_CUSTODY_ADDRESSES,
      // "address" or "address=customer-account"
      depositAddresses: e.CUSTODY_CHAIN_DEPOSIT_ADDRESSES.map((item) => {
        const [address = '', account = ''] = item.split('=');
        return { address, account };
      }),
      profile: {
        asset: e.CUSTODY_CHAIN_ASSET,
        chain: e.CUSTODY_CHAIN_NAME,
        chainId: BigInt(e.CUSTODY_CHAIN_ID),
        genesisHash: e.CUSTODY_CHAIN_GENESIS_HASH,
        confirmations: e.CUSTODY_CHAIN_CONFIRMATIONS,
        gasLimit: 21_000n,
        fees: {
          maxFeePerGas: e.CUSTODY_CHAIN_MAX_FEE_PER_GAS,
          maxPriorityFeePerGas: e.CUSTODY_CHAIN_MAX_PRIORITY_FEE_PER_GAS,
          minPriorityFeePerGas: e.CUSTODY_CHAIN_MIN_PRIORITY_FEE_PER_GAS,
        },
      },
    })),
    env,
  );
}

export type ChainAdapterConfig = ReturnType<typeof loadChainAdapterConfig>;
