// Composition of the embedded default. The only place that wires concrete adapters for it:
// the services that exist, each with its own schema + roles in one database, all on one
// in-process bus, gRPC on 127.0.0.1 only. One file per service under wiring/.
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import type { Writable } from 'node:stream';
import { InProcessBus, CreateEventBusTables1795478400000 } from '@custody/event-bus';
import { createLogger, createMetrics, createServiceDataSource, runMigrations, startMetricsServer, type Logger } from '@custody/platform';
import type { EmbeddedConfig } from './config.js';
import { EmbeddedDatabases, ensureDatabase, localRolePassword, type ServiceDatabase } from './database.js';
import { DEMO_CONSOLE, demoOperators, formatDemo, LocalKey, registerDemoIntegrator, registerDepositIntegrator, runDemo, runDeposits, type DemoTreasury, type DepositResult, type PathResult } from './demo.js';
import { DEMO_ASSET, DEMO_CHAIN, ETH, ETH_HOT_WALLET } from './demo-data.js';
import { CreateWalkthroughTables1795478500000 } from './walkthrough-migration.js';
import { runPlatformWalkthrough, type WalkthroughResult } from './platform-walkthrough.js';
import { startDevChain, type DevChain } from './wiring/anvil.js';
import { composeAudit, provisionAudit } from './wiring/audit.js';
import { composeChainAdapter, DEMO_CONFIRMATIONS, forgetLostChain, provisionChainAdapter } from './wiring/chain-adapter.js';
import { composeIntake, provisionIntake } from './wiring/intake.js';
import { localSeed } from './wiring/keys.js';
import { composeLedger, ledgerWalletBalances, provisionLedger, registerOfflineWallet, seedOpeningBalances } from './wiring/ledger.js';
import { composePolicy, embeddedFacts, holdableBalances, HOT_WALLET_MONITOR_INTERVAL_MS, operatorDirectory, provisionPolicy } from './wiring/policy.js';
import { composeRisk, provisionRisk } from './wiring/risk.js';
import { composeSigner, DEPOSIT_ACCOUNT_PATH, depositXpubFromSeed, ensureHotKey, provisionSigner, type Custodian } from './wiring/signer.js';
import { localMtls } from './wiring/tls.js';
import { localDecisionSigner, treasurySettingsFromData } from '@custody/policy';

export interface ComposedService {
  readonly name: string;
  readonly schema: string;
  readonly detail: string;
}

export interface EmbeddedSystem {
  readonly grpcPort: number;
  readonly metricsUrl: string;
  readonly walkthrough: WalkthroughResult;
  readonly services: readonly ComposedService[];
  readonly notComposed: readonly { readonly name: string; readonly why: string }[];
  printSummary(out: Writable): void;
  /** Registers the demo integrator and submits the demo withdrawals (see demo.ts). */
  runDemo(): Promise<{ results: PathResult[]; deposits: DepositResult; text: string }>;
  stop(): Promise<void>;
}

const WALKTHROUGH_SERVICE = 'embedded-walkthrough';

/** The demo hot wallet's balance on the dev chain is topped up to this at start. */
const HOT_WALLET_FUNDING = 1_000n * ETH;

export async function startEmbedded(config: EmbeddedConfig): Promise<EmbeddedSystem> {
  const logger: Logger = createLogger({ service: 'embedded', level: config.CUSTODY_LOG_LEVEL });
  const registry = createMetrics('embedded');
  const onHandlerError = (error: unknown, message: { topic: string }, groupId: string) => logger.warn({ err: error, topic: message.topic, groupId }, 'handler failed; redelivering');
  const bus = new InProcessBus({ onHandlerError });
  const offsetMs = config.CUSTODY_EMBEDDED_CLOCK_OFFSET;
  const clock = { now: () => new Date(Date.now() + offsetMs) };
  const stack: Array<() => Promise<void>> = [async () => bus.close()];
  const stop = async () => {
    for (const close of stack.reverse()) await close().catch((error: unknown) => logger.error({ err: error }, 'shutdown step failed'));
    stack.length = 0;
  };

  try {
    const dataDir = resolve(config.CUSTODY_EMBEDDED_DATA_DIR);
    const adminUrl = await ensureDatabase(config.CUSTODY_PG_ADMIN_URL, config.CUSTODY_EMBEDDED_DATABASE);
    const dbs = new EmbeddedDatabases(adminUrl, await localRolePassword(dataDir));

    // 1. The platform walkthrough, on a bus of its own: its synthetic withdrawal.requested
    //    events and its poison record must not reach the services.
    const walkthrough = await runWalkthrough(dbs, logger, config.CUSTODY_WALKTHROUGH_EVENTS);

    // 2. Schemas + roles + migrations, then republish every retained outbox BEFORE any relay
    //    starts (the in-process log starts empty; inboxes skip what was applied).
    const bundleFile = resolve(config.CUSTODY_POLICY_BUNDLE);
    const withPolicy = existsSync(bundleFile);
    const db = {
      audit: await provisionAudit(dbs),
      ledger: await provisionLedger(dbs),
      risk: await provisionRisk(dbs),
      policy: withPolicy ? await provisionPolicy(dbs) : undefined,
      intake: await provisionIntake(dbs),
      signer: await provisionSigner(dbs),
      chainAdapter: await provisionChainAdapter(dbs),
    };
    const all = Object.values(db).filter((d): d is ServiceDatabase => d !== undefined);
    for (const d of all) await dbs.republish(d);

    // 3. Services. Each consumer group reads the in-process log from its beginning.
    const services: ComposedService[] = [];
    const replayed = (d: ServiceDatabase) => (d.republished > 0 ? `; ${d.republished} outbox events republished` : '');

    const audit = await composeAudit({ bus, db: db.audit, logger, clock, port: config.CUSTODY_AUDIT_GRPC_PORT, checkpointSeed: await localSeed(dataDir, 'audit-checkpoint') });
    stack.push(() => audit.stop());
    services.push({ name: 'audit', schema: db.audit.roles.schema, detail: `hash-chained log of every topic; AuditQueryService on 127.0.0.1:${audit.grpcPort ?? '?'}${replayed(db.audit)}` });

    const ledger = await composeLedger({ bus, db: db.ledger, logger, clock });
    stack.push(() => ledger.stop());
    services.push({ name: 'ledger', schema: db.ledger.roles.schema, detail: `double-entry books: hold on request, release on denial, settle on FINAL${replayed(db.ledger)}` });

    const risk = await composeRisk({ bus, dbs, logger, clock, sanctionsListFile: resolve(config.CUSTODY_SANCTIONS_LIST) });
    stack.push(() => risk.service.stop());
    services.push({
      name: 'risk',
      schema: db.risk.roles.schema,
      detail: `sanctions screening; OFAC SDN list ${risk.list.version.slice(0, 12)}… (${risk.list.entries} address${risk.list.entries === 1 ? '' : 'es'}, ${config.CUSTODY_SANCTIONS_LIST})${replayed(db.risk)}`,
    });

    // The local EVM dev node, the signer with the hot wallet key, the chain-adapter.
    const chain: DevChain = await startDevChain({ dataDir, name: config.CUSTODY_EMBEDDED_DATABASE });
    stack.push(() => chain.stop());
    const forgotten = chain.fresh ? await forgetLostChain(db.chainAdapter) : 0;
    const operators = demoOperators();
    const custodians: Custodian[] = [
      { id: 'op-carol', role: 'key_custodian', key: new LocalKey('op-carol-embedded') },
      { id: 'op-dave', role: 'security_officer', key: new LocalKey('op-dave-embedded') },
    ];
    const decisionSeed = await localSeed(dataDir, 'policy-decision');
    const decisionKey = localDecisionSigner('embedded-policy-k1', decisionSeed);
    // Deposit addresses: the signer's DepositAddressService over mTLS on 127.0.0.1 (throw-away
    // CA and certificates, in memory, new at each start; only intake's certificate is allowed),
    // deriving from the xpub of a BIP-32 seed kept in the data directory.
    const mtls = localMtls({ ca: 'custody-embedded-ca', server: 'signer', client: 'intake' });
    const depositXpub = depositXpubFromSeed(await localSeed(dataDir, 'signer-deposit-hd'));
    const signer = await composeSigner({
      bus,
      db: db.signer,
      logger,
      clock,
      masterKey: await localSeed(dataDir, 'signer-master'),
      trustedPolicyKeys: new Map([['embedded-policy-k1', decisionKey.publicKey]]),
      operators: [...operators, ...custodians],
      chainId: chain.chainId,
      deposits: { xpub: depositXpub, mtls, port: 0 },
      operatorAudit: audit.gate,
    });
    stack.push(() => signer.stop());
    if (signer.grpcPort === undefined) throw new Error('the signer started without its DepositAddressService');
    const depositPort = signer.grpcPort;
    const hot = await ensureHotKey(signer, custodians, clock, ETH_HOT_WALLET.id);
    const balance = BigInt(await chain.call<string>('eth_getBalance', [hot.address, 'latest']));
    if (balance < HOT_WALLET_FUNDING / 2n) await chain.call('anvil_setBalance', [hot.address, `0x${HOT_WALLET_FUNDING.toString(16)}`]);
    services.push({
      name: 'signer',
      schema: db.signer.roles.schema,
      detail: `local sealed key store; hot wallet ${ETH_HOT_WALLET.id} key ${hot.keyId} at ${hot.address}${hot.generated ? ' (generated: 2 custodians signed the ceremony)' : ''}${hot.activated ? ', activated for 24 h by 2 custodians' : ''}; DepositAddressService on 127.0.0.1:${depositPort} (mTLS, caller allow-list: intake's certificate ${mtls.client.pin.slice(0, 19)}…), deposit xpub ${DEPOSIT_ACCOUNT_PATH} ${depositXpub.slice(0, 12)}…${depositXpub.slice(-6)}${replayed(db.signer)}`,
    });
    const chainAdapter = await composeChainAdapter({ bus, db: db.chainAdapter, logger, clock, chain, custodyAddresses: [hot.address], operatorAudit: audit.gate });
    stack.push(() => chainAdapter.stop());
    services.push({
      name: 'chain-adapter',
      schema: db.chainAdapter.roles.schema,
      detail: `anvil dev node ${chain.url} (chain id ${chain.chainId}, 1 s blocks, FINAL at ${DEMO_CONFIRMATIONS})${chain.fresh ? '; new chain' : ''}${forgotten ? `; ${forgotten} withdrawals of a lost chain forgotten` : ''}${replayed(db.chainAdapter)}`,
    });

    let approvalPort: number | undefined;
    // The hot-wallet cap monitor reads the composed ledger's custodial balances (C-9.3.7.1-a).
    const balances = holdableBalances(ledgerWalletBalances(ledger));
    let treasury: Omit<DemoTreasury, 'release'> | undefined;
    if (db.policy) {
      const policy = await composePolicy({
        bus,
        db: db.policy,
        logger,
        clock,
        port: config.CUSTODY_APPROVAL_GRPC_PORT,
        bundleFile,
        decisionSeed,
        // Votes need an assertion of the operator's registered authenticator (software ones in the demo).
        operators: operatorDirectory(operators.map((o) => ({ id: o.id, role: o.role, keyId: o.key.keyId, publicKey: o.key.publicKey, device: o.device.registration('software') })), DEMO_CONSOLE),
        facts: embeddedFacts(ledger),
        // Approvals are recorded in audit (same hash chain) before they are applied.
        operatorAudit: audit.gate,
        treasury: { balances, intervalMs: HOT_WALLET_MONITOR_INTERVAL_MS },
      });
      stack.push(() => policy.stop());
      approvalPort = policy.grpcPort;
      // Our own cold wallet of the bundle's treasury.json: its key is offline (not in this
      // signer); the ledger knows it by id and address so a sweep into it is booked on FINAL.
      const settings = treasurySettingsFromData(policy.bundles.current().data).assets.get(DEMO_ASSET);
      const cold = settings?.wallets[settings.sweepTo][0];
      if (settings && cold) {
        await registerOfflineWallet(ledger, { walletId: cold.id, tier: settings.sweepTo, chain: DEMO_CHAIN, address: cold.address }, clock);
        treasury = { policy, asset: DEMO_ASSET, cap: settings.cap, target: settings.target, hotWallet: ETH_HOT_WALLET.id, cold: { walletId: cold.id, address: cold.address } };
      }
      services.push({
        name: 'policy',
        schema: db.policy.roles.schema,
        detail: `Wasm bundle ${(policy.bundles.activeDigest ?? '').slice(0, 12)}…; ApprovalService on 127.0.0.1:${policy.grpcPort}, votes recorded in audit before applied${replayed(db.policy)}`,
      });
    }

    const intake = await composeIntake({ bus, db: db.intake, logger, clock, port: config.CUSTODY_GRPC_PORT, signer: { port: depositPort, mtls }, operatorAudit: audit.gate });
    stack.push(() => intake.stop());
    services.push({ name: 'intake', schema: db.intake.roles.schema, detail: `CustodyGateway on 127.0.0.1:${intake.grpcPort} (Ed25519-signed calls); deposit addresses from the signer over mTLS${replayed(db.intake)}` });

    const notComposed = [...(withPolicy ? [] : [{ name: 'policy', why: `no compiled bundle at ${config.CUSTODY_POLICY_BUNDLE} (npm start builds it when opa is installed: bash scripts/infra/opa.sh)` }])];

    const metrics = await startMetricsServer({ registry, port: config.CUSTODY_METRICS_PORT });
    stack.push(async () => metrics.close());

    return {
      grpcPort: intake.grpcPort,
      metricsUrl: metrics.url,
      walkthrough,
      services,
      notComposed,
      printSummary(out) {
        const w = walkthrough;
        out.write(
          [
            '',
            'Custody policy engine — embedded default',
            `  database        PostgreSQL "${config.CUSTODY_EMBEDDED_DATABASE}": one schema + owner/app roles per service`,
            '  bus             in-process (per-key order, consumer groups, at-least-once, dead-letter topics)',
            `  gRPC            127.0.0.1 only, health + reflection on every server; integrators: 127.0.0.1:${intake.grpcPort}`,
            `  metrics         ${metrics.url}`,
            ...(offsetMs ? [`  clock           moved forward ${Math.round(offsetMs / 60_000)} min (CUSTODY_EMBEDDED_CLOCK_OFFSET)`] : []),
            '',
            `Services composed (${services.length} of 7):`,
            ...services.map((s) => `  ${s.name.padEnd(14)}  schema "${s.schema}" — ${s.detail}`),
            ...(notComposed.length ? ['Not composed:', ...notComposed.map((s) => `  ${s.name.padEnd(14)}  ${s.why}`)] : []),
            '',
            'Platform walkthrough: outbox → bus → inbox (its own schema and in-process bus)',
            `  withdrawal requests stored with their event (one transaction): ${w.requested}`,
            `  effects applied exactly once:                                 ${w.effects}`,
            `  duplicate deliveries absorbed by the inbox:                   ${w.duplicatesAbsorbed}`,
            `  dead-lettered (undecodable record, partition moved on):       ${w.deadLettered.length}${w.deadLettered[0] ? ` — ${w.deadLettered[0].reason}` : ''}`,
            `  amount requested = amount applied (base units, bigint):       ${w.totalAmount}`,
            '',
          ].join('\n'),
        );
      },
      async runDemo() {
        const integrator = await registerDemoIntegrator(intake, clock);
        // The monitor waits while the withdrawal paths run on the hot wallet; the sweep path
        // releases it after them (so no hot withdrawal of the demo can meet a sweep or a pause).
        balances.hold();
        await seedOpeningBalances(ledger, integrator.clientId);
        const results = await runDemo({
          bus,
          intake,
          ledger,
          integrator,
          gatewayPort: intake.grpcPort,
          approvalPort,
          operators,
          auditPort: audit.grpcPort,
          clock,
          chain: { call: (method, params) => chain.call(method, params), hotAddress: hot.address },
          ...(treasury ? { treasury: { ...treasury, release: () => balances.release() } } : {}),
        }).finally(() => balances.release());
        const deposits = await runDeposits({ gatewayPort: intake.grpcPort, integrator: await registerDepositIntegrator(intake, clock), clock });
        return { results, deposits, text: `\nDemo integrator ${integrator.clientId} registered (Ed25519 key generated at this start, kept in memory).${formatDemo(results, deposits)}` };
      },
      stop,
    };
  } catch (error) {
    await stop();
    throw error;
  }
}

async function runWalkthrough(dbs: EmbeddedDatabases, logger: Logger, events: number): Promise<WalkthroughResult> {
  const db = await dbs.provision(WALKTHROUGH_SERVICE, [CreateEventBusTables1795478400000, CreateWalkthroughTables1795478500000]);
  const owner = createServiceDataSource({ url: db.ownerUrl, service: WALKTHROUGH_SERVICE, schema: db.roles.schema, entities: [] });
  await owner.initialize();
  try {
    await runMigrations(owner);
    // A fresh story each start: the walkthrough's own rows only.
    await owner.query('TRUNCATE "walkthrough_effect", "walkthrough_withdrawal", "outbox", "inbox"');
  } finally {
    await owner.destroy();
  }
  const bus = new InProcessBus({ onHandlerError: (error, message, groupId) => logger.warn({ err: error, topic: message.topic, groupId }, 'walkthrough handler failed; redelivering') });
  const app = createServiceDataSource({ url: db.app.url, service: WALKTHROUGH_SERVICE, schema: db.roles.schema, entities: [] });
  await app.initialize();
  try {
    return await runPlatformWalkthrough({ bus, dataSource: app, logger, events });
  } finally {
    await app.destroy();
    await bus.close();
  }
}
