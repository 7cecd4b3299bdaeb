// policy: the compiled Wasm bundle decides on every screened withdrawal; operators vote over
// ApprovalService. Facts the policy needs that travel on no event it consumes come from the
// composition: account tier and opening date (demo data), the ETH hot wallet, and the
// ledger's hold (read from the composed ledger; absent → the policy denies). Every approve /
// reject is recorded in audit (the composed audit's gate) before it is applied; if audit
// cannot record it the vote is refused (AUDIT_UNAVAILABLE). The hot-wallet cap monitor
// (C-9.3.7.1-a) reads the composed ledger's custodial balances in process (holdableBalances).
import { readFile } from 'node:fs/promises';
import type { AuditHandle } from '@custody/audit';
import type { EventBus } from '@custody/event-bus';
import type { LedgerHandle } from '@custody/ledger';
import type { Logger } from '@custody/platform';
import { POLICY_MIGRATIONS, localDecisionSigner, startPolicy, type Operator, type OperatorDirectory, type PolicyHandle, type RegisteredDevice, type WalletBalanceSource, type WithdrawalFactsProvider } from '@custody/policy';
import type { EmbeddedDatabases, ServiceDatabase } from '../database.js';
import { DEMO_ACCOUNTS, DEMO_ASSET, ETH_HOT_WALLET } from '../demo-data.js';
import { ledgerHoldOf } from './ledger.js';

export function provisionPolicy(dbs: EmbeddedDatabases): Promise<ServiceDatabase> {
  return dbs.provision('policy', POLICY_MIGRATIONS);
}

export function embeddedFacts(ledger: LedgerHandle | undefined): WithdrawalFactsProvider {
  return {
    async factsFor(r) {
      const account = DEMO_ACCOUNTS.find((a) => a.id === r.customerAccount);
      const hold = ledger ? await ledgerHoldOf(ledger, r.withdrawalId) : undefined;
      return {
        ...(account ? { account: { id: account.id, tier: account.tier, openedAt: account.openedAt } } : {}),
        ...(r.asset === DEMO_ASSET ? { sourceWallet: ETH_HOT_WALLET } : {}),
        ...(hold ? { ledgerHold: hold } : {}),
      };
    },
  };
}

/**
 * The demo operators with their Ed25519 keys and registered (software) authenticators. With
 * `console`, device assertions are required, from software authenticators of that relying
 * party (docs/policies.md "Approver devices"; production registries accept hardware only).
 */
export function operatorDirectory(
  operators: readonly { id: string; role: string; keyId: string; publicKey: Uint8Array; device?: RegisteredDevice }[],
  console?: { rpId: string; origin: string },
): OperatorDirectory {
  const map = new Map<string, Operator>();
  for (const o of operators) map.set(o.id, { operatorId: o.id, roles: [o.role], keys: new Map([[o.keyId, o.publicKey]]), ...(o.device ? { devices: new Map([[o.device.deviceId, o.device]]) } : {}) });
  return { operators: map, ...(console ? { deviceAssertions: { required: true, rpId: console.rpId, origins: [console.origin], allowedKinds: ['software'] } } : {}) };
}

export async function composePolicy(deps: {
  bus: EventBus;
  db: ServiceDatabase;
  logger: Logger;
  clock: { now(): Date };
  port: number;
  bundleFile: string;
  decisionSeed: Uint8Array;
  operators: OperatorDirectory;
  facts: WithdrawalFactsProvider;
  /** Audit's operator-action gate: approvals are recorded there before they are applied. */
  operatorAudit: AuditHandle['gate'];
  /** The hot-wallet cap monitor's balance source (the composed ledger) and round interval. */
  treasury?: { balances: WalletBalanceSource; intervalMs: number };
}): Promise<PolicyHandle> {
  return startPolicy({
    bus: deps.bus,
    database: deps.db.app,
    logger: deps.logger.child({ service: 'policy' }),
    clock: deps.clock,
    grpc: { host: '127.0.0.1', port: deps.port, credentials: { kind: 'insecure' } },
    bootstrapBundle: new Uint8Array(await readFile(deps.bundleFile)),
    signer: localDecisionSigner('embedded-policy-k1', deps.decisionSeed),
    operators: deps.operators,
    facts: deps.facts,
    operatorAudit: deps.operatorAudit,
    outboxPollIntervalMs: 50,
    ...(deps.treasury ? { treasury: deps.treasury } : {}),
  });
}

/** How often the embedded policy's hot-wallet monitor runs a round (as the service's default). */
export const HOT_WALLET_MONITOR_INTERVAL_MS = 30_000;

/**
 * A balance source the demo can hold: while held, a monitor round waits for the balances
 * (it is not skipped and never sees "0"), so no sweep is proposed while the scripted
 * withdrawal paths run on the same hot wallet (their nonces and stories stay deterministic).
 * Released, every round reads the ledger again. Holding delays the monitor; it changes no
 * number, no rule and no grace period.
 */
export function holdableBalances(source: WalletBalanceSource): WalletBalanceSource & { hold(): void; release(): void } {
  let held: { promise: Promise<void>; resolve: () => void } | undefined;
  return {
    hold() {
      if (held) return;
      let resolve = (): void => undefined;
      const promise = new Promise<void>((r) => (resolve = r));
      held = { promise, resolve };
    },
    release() {
      held?.resolve();
      held = undefined;
    },
    async walletBalances(asset) {
      while (held) await held.promise;
      return source.walletBalances(asset);
    },
    // Not held: a booking lookup proposes nothing by itself (the round still waits for the balances).
    transferBooking: (transferId) => source.transferBooking(transferId),
  };
}
