// Ledger reconciliation wiring (docs/ledger.md "Reconciliation"): values reconciliation.targets
// (asset -> chain) render CUSTODY_LEDGER_RECONCILE_TARGETS for the ledger, pointing at
// chain-adapter's Service on its gRPC port, in the form the ledger's own config parser accepts.
// Without it the job does not run and CustodyReconciliationDrift can never fire.
// Needs .local/bin/helm.
//
// loadLedgerConfig is imported from its own file (config.ts, no service wiring is loaded);
// scripts/ is not a workspace project, so the Nx boundary rule does not apply here.
import { describe, expect, it } from '@jest/globals';
import { loadLedgerConfig } from '../../services/ledger/src/config.js';
import { one, render, template, type Manifest } from './harness.js';

const envOf = (ms: readonly Manifest[], name: string): Record<string, string> => {
  const w = ms.find((m) => (m.kind === 'Deployment' || m.kind === 'StatefulSet') && m.metadata.name === name)!;
  return Object.fromEntries((w.spec.template.spec.containers[0].env as { name: string; value?: string }[]).filter((e) => e.value !== undefined).map((e) => [e.name, e.value!]));
};
/** What the ledger makes of the rendered value (its own parser, the one main.ts runs). */
const ledgerTargets = (value: string | undefined) =>
  loadLedgerConfig({
    CUSTODY_DB_URL: 'postgres://ledger_app@127.0.0.1:5432/custody',
    KAFKA_BROKERS: '127.0.0.1:9092',
    CUSTODY_GRPC_TLS: 'insecure',
    ...(value === undefined ? {} : { CUSTODY_LEDGER_RECONCILE_TARGETS: value }),
  }).reconciliation.targets;

describe('reconciliation.targets → the ledger reconciles each asset against chain-adapter', () => {
  it('default values: ETH on ethereum, at custody-chain-adapter.<ns>.svc on the Service\'s gRPC port; the ledger parses it', () => {
    const ms = render();
    const env = envOf(ms, 'custody-ledger');
    const grpc = (one(ms, 'Service', 'custody-chain-adapter').spec.ports as { name: string; port: number }[]).find((p) => p.name === 'grpc')!;
    expect(env.CUSTODY_LEDGER_RECONCILE_TARGETS).toBe(`ETH=ethereum@custody-chain-adapter.custody.svc:${grpc.port}`);
    expect(ledgerTargets(env.CUSTODY_LEDGER_RECONCILE_TARGETS)).toEqual([{ asset: 'ETH', chain: 'ethereum', address: `custody-chain-adapter.custody.svc:${grpc.port}` }]);
    // over mTLS: the ledger's chain client gets the pod's certificate and the CA
    for (const v of ['CUSTODY_LEDGER_CHAIN_GRPC_CA_FILE', 'CUSTODY_LEDGER_CHAIN_GRPC_CERT_FILE', 'CUSTODY_LEDGER_CHAIN_GRPC_KEY_FILE']) expect([v, env[v]]).toEqual([v, expect.stringMatching(/^\/var\/run\/secrets\/custody\//)]);
    // only the ledger gets it
    for (const svc of ['intake', 'risk', 'policy', 'signer', 'chain-adapter', 'audit']) expect([svc, envOf(ms, `custody-${svc}`).CUSTODY_LEDGER_RECONCILE_TARGETS]).toEqual([svc, undefined]);
  });

  it('several assets, and a changed chain-adapter gRPC port, follow the values (sorted by asset)', () => {
    const ms = render(['--set', 'reconciliation.targets.USDC=ethereum', '--set', 'services.chainAdapter.grpcPort=50099']);
    const value = envOf(ms, 'custody-ledger').CUSTODY_LEDGER_RECONCILE_TARGETS;
    expect(value).toBe('ETH=ethereum@custody-chain-adapter.custody.svc:50099,USDC=ethereum@custody-chain-adapter.custody.svc:50099');
    expect((one(ms, 'Service', 'custody-chain-adapter').spec.ports as { name: string; port: number }[]).find((p) => p.name === 'grpc')!.port).toBe(50099);
    expect(ledgerTargets(value).map((t) => t.asset)).toEqual(['ETH', 'USDC']);
  });

  it('no targets → no variable (the ledger then logs that reconciliation is OFF)', () => {
    const env = envOf(render(['--set', 'reconciliation.targets.ETH=null']), 'custody-ledger');
    expect(env.CUSTODY_LEDGER_RECONCILE_TARGETS).toBeUndefined();
    expect(ledgerTargets(undefined)).toEqual([]);
  });

  it('the schema refuses an asset or chain the ledger would not parse', () => {
    const lower = template(['--set', 'reconciliation.targets.eth=ethereum']);
    expect(lower.status).not.toBe(0);
    expect(lower.stderr).toMatch(/'eth' does not match pattern/);
    const badChain = template(['--set', 'reconciliation.targets.BTC=Bitcoin Main']);
    expect(badChain.status).not.toBe(0);
    expect(badChain.stderr).toMatch(/reconciliation\/targets\/BTC/);
  });

  it('a second source of the same variable (services.ledger.env) is refused, not silently duplicated', () => {
    const r = template(['--set', 'services.ledger.env.CUSTODY_LEDGER_RECONCILE_TARGETS=ETH=ethereum@elsewhere:1']);
    expect(r.status).not.toBe(0);
    expect(r.stderr).toMatch(/set reconciliation\.targets, not services\.ledger\.env\.CUSTODY_LEDGER_RECONCILE_TARGETS/);
  });
});
