// The only file that reads process.env. Validated once at boot (a bad value stops the
// service with a message naming the variable). One process per chain (C-5.5.3-b).
import { z } from 'zod';
import { defineConfig, envVar, grpcAllowedCallersEnv, grpcServerCredentials, grpcServerTlsEnv, operatorAuditEnv, operatorAuditSettings } from '@custody/platform';
import { validateQuorum } from './adapters/chain/quorum-evm-chain.js';
import { validateDepthTiers } from './domain/finality.js';

const wei = (name: string) => envVar.custom(`${name}: a non-negative integer in wei`, (raw) => (/^[0-9]{1,78}$/.test(raw) ? BigInt(raw) : undefined));

/** "above:confirmations,…" (base units, ascending): larger transfers need more confirmations. */
const depthTiers = envVar.custom('comma-separated <amount in base units>:<confirmations> pairs', (raw) => {
  const tiers = raw.split(',').map((s) => s.trim()).filter((s) => s.length > 0).map((item) => /^([0-9]{1,78}):([0-9]{1,5})$/.exec(item));
  return tiers.every((m) => m !== null) ? tiers.map((m) => ({ above: BigInt(m?.[1] ?? '0'), confirmations: Number(m?.[2]) })) : undefined;
});

/** "operator-id:<Ed25519 public key, 64 hex>:<certificate sha-256, 64 hex>[+<another>]", comma-separated. */
const operators = envVar.custom('comma-separated <operator id>:<ed25519 public key hex>:<certificate sha-256 hex>[+<sha-256>]', (raw) => {
  const items = raw.split(',').map((s) => s.trim()).filter((s) => s.length > 0).map((item) => /^([A-Za-z0-9._-]{1,64}):([0-9a-fA-F]{64}):([0-9a-fA-F]{64}(?:\+[0-9a-fA-F]{64})*)$/.exec(item));
  if (!items.every((m) => m !== null)) return undefined;
  const out = items.map((m) => ({ operatorId: m?.[1] ?? '', publicKey: Buffer.from(m?.[2] ?? '', 'hex'), certificateSha256: (m?.[3] ?? '').toLowerCase().split('+') }));
  return new Set(out.map((o) => o.operatorId)).size === out.length ? out : undefined;
});

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
  // Amount-scaled depth (C-8.3.3-b): e.g. "1000000000000000000:24,100000000000000000000:64".
  CUSTODY_CHAIN_CONFIRMATION_TIERS: depthTiers.default([]),
  // Pause breaker (latched, operator resume): a reorg this deep trips it (0: only past finality).
  CUSTODY_CHAIN_PAUSE_REORG_DEPTH: envVar.int({ min: 0, max: 10_000 }).default(0),
  // While tripped, every required depth is multiplied by this.
  CUSTODY_CHAIN_PAUSED_DEPTH_FACTOR: envVar.int({ min: 1, max: 100 }).default(2),
  // ChainAdminService operators (pinned certificate + Ed25519 signature); empty: the service refuses every call.
  CUSTODY_CHAIN_ADMIN_OPERATORS: operators.default([]),
  CUSTODY_CHAIN_MAX_FEE_PER_GAS: wei('CUSTODY_CHAIN_MAX_FEE_PER_GAS').default(200_000_000_000n),
  CUSTODY_CHAIN_MAX_PRIORITY_FEE_PER_GAS: wei('CUSTODY_CHAIN_MAX_PRIORITY_FEE_PER_GAS').default(5_000_000_000n),
  CUSTODY_CHAIN_MIN_PRIORITY_FEE_PER_GAS: wei('CUSTODY_CHAIN_MIN_PRIORITY_FEE_PER_GAS').default(1_000_000n),
  CUSTODY_CHAIN_POLL_INTERVAL: envVar.duration().default(2_000),
  CUSTODY_CHAIN_MAX_HEAD_AGE: envVar.duration().default(120_000),
  CUSTODY_CHAIN_STUCK_AFTER: envVar.duration().default(0),
  CUSTODY_CHAIN_CUSTODY_ADDRESSES: envVar.list().default([]),
  CUSTODY_CHAIN_DEPOSIT_ADDRESSES: envVar.list().default([]),
  // Bitcoin withdrawals (application/bitcoin-withdrawals.ts) next to the EVM chain: wired only when CUSTODY_BTC_CHAIN_NAME is set.
  CUSTODY_BTC_CHAIN_NAME: envVar.string({ minLength: 1 }).optional(),
  CUSTODY_BTC_ASSET: envVar.string({ minLength: 2 }).default('BTC'),
  CUSTODY_BTC_NETWORK: z.enum(['mainnet', 'testnet', 'regtest']).default('mainnet'),
  CUSTODY_BTC_FEE_RATE_SAT_PER_VB: envVar.custom('an integer fee rate in sat/vB', (raw) => (/^[1-9][0-9]{0,4}$/.test(raw) ? BigInt(raw) : undefined)).default(2n),
  CUSTODY_BTC_MAX_FEE_SAT: envVar.custom('an integer fee cap in satoshis', (raw) => (/^[1-9][0-9]{0,15}$/.test(raw) ? BigInt(raw) : undefined)).default(100_000n),
  CUSTODY_BTC_CONFIRMATIONS: envVar.int({ min: 1, max: 10_000 }).default(6),
});

/**
 * ChainAdminService changes (ResumeChain, CancelWithdrawal) are recorded by audit's AuditService
 * before they are applied (the platform's operator audit gate, docs/chain-adapter.md). Address
 * absent: every admin change is refused (AUDIT_UNAVAILABLE) unless CUSTODY_AUDIT_GATE=disabled
 * (dev only; an error together with an address). mTLS by default, plaintext only to loopback.
 */
const AUDIT_GATE = {
  address: 'CUSTODY_CHAIN_ADAPTER_AUDIT_GRPC_ADDRESS',
  tls: 'CUSTODY_CHAIN_ADAPTER_AUDIT_GRPC_TLS',
  caFile: 'CUSTODY_CHAIN_ADAPTER_AUDIT_GRPC_CA_FILE',
  certFile: 'CUSTODY_CHAIN_ADAPTER_AUDIT_GRPC_CERT_FILE',
  keyFile: 'CUSTODY_CHAIN_ADAPTER_AUDIT_GRPC_KEY_FILE',
  timeout: 'CUSTODY_CHAIN_ADAPTER_AUDIT_TIMEOUT',
  gate: 'CUSTODY_AUDIT_GATE',
} as const;

export function loadChainAdapterConfig(env: NodeJS.ProcessEnv = process.env) {
  return defineConfig(
    // CUSTODY_GRPC_ALLOWED_CALLERS (optional): who may call the gRPC port.
    schema.and(grpcServerTlsEnv).and(grpcAllowedCallersEnv).and(operatorAuditEnv(AUDIT_GATE)).superRefine((e, ctx) => {
      const urls = e.CUSTODY_CHAIN_RPC_URLS ?? [e.CUSTODY_CHAIN_RPC_URL ?? e.ANVIL_RPC_URL];
      const problem = validateQuorum(urls.length, e.CUSTODY_CHAIN_RPC_QUORUM ?? Math.floor(urls.length / 2) + 1);
      if (problem) ctx.addIssue({ code: 'custom', path: ['CUSTODY_CHAIN_RPC_QUORUM'], message: problem });
      const tiers = validateDepthTiers(e.CUSTODY_CHAIN_CONFIRMATIONS, e.CUSTODY_CHAIN_CONFIRMATION_TIERS);
      if (tiers) ctx.addIssue({ code: 'custom', path: ['CUSTODY_CHAIN_CONFIRMATION_TIERS'], message: tiers });
    }).transform((e) => ({
      grpc: { host: e.CUSTODY_GRPC_HOST, port: e.CUSTODY_GRPC_PORT, credentials: grpcServerCredentials(e), ...(e.CUSTODY_GRPC_ALLOWED_CALLERS ? { allowedCallers: e.CUSTODY_GRPC_ALLOWED_CALLERS } : {}) },
      logLevel: e.CUSTODY_LOG_LEVEL,
      metricsPort: e.CUSTODY_METRICS_PORT,
      databaseUrl: e.CUSTODY_DB_URL,
      kafkaBrokers: e.KAFKA_BROKERS,
      rpcUrl: e.CUSTODY_CHAIN_RPC_URL ?? e.ANVIL_RPC_URL,
      // One endpoint: [rpcUrl]; several: reads agreed by rpcQuorum of them.
      rpcUrls: e.CUSTODY_CHAIN_RPC_URLS ?? [e.CUSTODY_CHAIN_RPC_URL ?? e.ANVIL_RPC_URL],
      rpcQuorum: e.CUSTODY_CHAIN_RPC_QUORUM ?? Math.floor((e.CUSTODY_CHAIN_RPC_URLS?.length ?? 1) / 2) + 1,
      breaker: { pauseReorgDepth: e.CUSTODY_CHAIN_PAUSE_REORG_DEPTH, depthFactor: e.CUSTODY_CHAIN_PAUSED_DEPTH_FACTOR },
      adminOperators: e.CUSTODY_CHAIN_ADMIN_OPERATORS,
      /** grpc: record every admin change in audit first; refuse: no endpoint, all refused; disabled: unaudited (dev). */
      audit: operatorAuditSettings(e, AUDIT_GATE),
      pollIntervalMs: e.CUSTODY_CHAIN_POLL_INTERVAL,
      maxHeadAgeMs: e.CUSTODY_CHAIN_MAX_HEAD_AGE,
      stuckAfterMs: e.CUSTODY_CHAIN_STUCK_AFTER,
      custodyAddresses: e.CUSTODY_CHAIN_CUSTODY_ADDRESSES,
      // "address" or "address=customer-account"
      depositAddresses: e.CUSTODY_CHAIN_DEPOSIT_ADDRESSES.map((item) => {
        const [address = '', account = ''] = item.split('=');
        return { address, account };
      }),
      ...(e.CUSTODY_BTC_CHAIN_NAME
        ? {
            bitcoin: {
              asset: e.CUSTODY_BTC_ASSET,
              chain: e.CUSTODY_BTC_CHAIN_NAME,
              network: e.CUSTODY_BTC_NETWORK,
              feeRateSatPerVb: e.CUSTODY_BTC_FEE_RATE_SAT_PER_VB,
              maxFeeSat: e.CUSTODY_BTC_MAX_FEE_SAT,
              confirmations: e.CUSTODY_BTC_CONFIRMATIONS,
            },
          }
        : {}),
      profile: {
        asset: e.CUSTODY_CHAIN_ASSET,
        chain: e.CUSTODY_CHAIN_NAME,
        chainId: BigInt(e.CUSTODY_CHAIN_ID),
        genesisHash: e.CUSTODY_CHAIN_GENESIS_HASH,
        confirmations: e.CUSTODY_CHAIN_CONFIRMATIONS,
        depthTiers: e.CUSTODY_CHAIN_CONFIRMATION_TIERS,
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
