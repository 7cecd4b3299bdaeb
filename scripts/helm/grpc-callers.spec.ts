// Caller identity in the rendered chart: every gRPC server's CUSTODY_GRPC_ALLOWED_CALLERS names
// exactly the workload identities (SPIFFE URI SANs of their certificates) of the services whose
// files/flows.yaml `calls` include it — the inverse of `calls` — and nothing else; "none" when
// nobody calls it (the signer: intake→signer is deliberately not wired). The value must parse
// with the platform's variable, the one every service's config.ts reads. Needs .local/bin/helm.
import { describe, expect, it } from '@jest/globals';
import { callerAllowListVar, defineConfig, grpcAllowedCallersEnv, parseCallerRules } from '@custody/platform';
import { z } from 'zod';
import { NAMESPACE, SERVICES, byKind, component, flows, readRepoFile, render, type Manifest, type ServiceName } from './harness.js';

const VARIABLE = 'CUSTODY_GRPC_ALLOWED_CALLERS';
const f = flows();

const envIn = (ms: readonly Manifest[], svc: string): Record<string, string | undefined> => {
  const found = ms.filter((m) => (m.kind === 'Deployment' || m.kind === 'StatefulSet') && component(m) === svc);
  if (found.length !== 1) throw new Error(`expected one workload for ${svc}, found ${found.length}`);
  return Object.fromEntries((found[0]!.spec.template.spec.containers[0].env as { name: string; value?: string }[]).map((e) => [e.name, e.value]));
};
/** The inverse of flows.yaml `calls`: who calls `svc`. */
const callersOf = (svc: ServiceName): ServiceName[] => SERVICES.filter((caller) => f[caller].calls.includes(svc));
const spiffe = (svc: string, domain = 'cluster.local', ns = NAMESPACE) => `spiffe://${domain}/ns/${ns}/sa/custody-${svc}`;
/** The configured rules as `kind:value` strings ([] for none), through the platform's parser. */
const rulesOf = (value: string): string[] => defineConfig(grpcAllowedCallersEnv, { [VARIABLE]: value }).CUSTODY_GRPC_ALLOWED_CALLERS!.map((r) => `${r.kind}:${r.value}`);

describe('chart: each gRPC server allows exactly its callers from files/flows.yaml (CUSTODY_GRPC_ALLOWED_CALLERS)', () => {
  const manifests = render();

  const servers = SERVICES.filter((s) => !f[s].externalIngress);
  it.each(servers.map((s) => [s]))('%s: the allowed URIs equal the inverse of `calls`, nothing else', (svc) => {
    const value = envIn(manifests, svc)[VARIABLE];
    expect(value).toBeDefined();
    const expected = callersOf(svc).map((c) => `uri:${spiffe(c)}`).sort();
    expect(rulesOf(value!).sort()).toEqual(expected);
    if (expected.length === 0) expect(value).toBe('none');
  });

  it('the figures: ledger ← intake, policy; audit ← chain-adapter, intake, policy, risk, signer; chain-adapter ← intake, ledger; signer ← nobody', () => {
    const names = (svc: ServiceName) => rulesOf(envIn(manifests, svc)[VARIABLE]!).map((r) => r.replace(/^uri:spiffe:\/\/cluster\.local\/ns\/custody\/sa\/custody-/, ''));
    expect(names('ledger')).toEqual(['intake', 'policy']);
    expect(names('audit')).toEqual(['chain-adapter', 'intake', 'policy', 'risk', 'signer']);
    expect(names('chain-adapter')).toEqual(['intake', 'ledger']);
    expect(names('signer')).toEqual([]);
  });

  it('the signer allows nobody: health only on its main port, no DepositAddressService port and no list for it (intake→signer is not wired)', () => {
    const e = envIn(manifests, 'signer');
    expect(e[VARIABLE]).toBe('none');
    expect(callersOf('signer')).toEqual([]);
    expect(e.CUSTODY_SIGNER_GRPC_PORT).toBeUndefined();
    expect(e.CUSTODY_SIGNER_GRPC_ALLOWED_CALLERS).toBeUndefined();
    expect(envIn(manifests, 'intake').CUSTODY_INTAKE_SIGNER_ADDRESS).toBeUndefined();
  });

  it('externally reached ports (intake, the integrators) get no list: integrators are authenticated per integrator', () => {
    for (const svc of SERVICES.filter((s) => f[s].externalIngress)) expect(envIn(manifests, svc)[VARIABLE]).toBeUndefined();
    expect(SERVICES.filter((s) => f[s].externalIngress)).toEqual(['intake']);
  });

  it("every allowed URI is the URI SAN of the caller's cert-manager Certificate (the identity the server will see)", () => {
    const sans = new Map(byKind(manifests, 'Certificate').map((c) => [component(c), c.spec.uris as string[]]));
    expect(sans.size).toBe(SERVICES.length);
    for (const svc of servers) {
      for (const rule of rulesOf(envIn(manifests, svc)[VARIABLE]!)) {
        const caller = rule.replace(/^uri:.*\/sa\/custody-/, '');
        expect(sans.get(caller)).toEqual([rule.slice('uri:'.length)]);
      }
    }
  });

  it('follows tls.clusterDomain (the identities are never hard-coded)', () => {
    const other = render(['--set', 'tls.clusterDomain=custody.example']);
    expect(rulesOf(envIn(other, 'ledger')[VARIABLE]!)).toEqual([`uri:${spiffe('intake', 'custody.example')}`, `uri:${spiffe('policy', 'custody.example')}`]);
  });
});

describe('services read CUSTODY_GRPC_ALLOWED_CALLERS with the platform parser', () => {
  it.each(SERVICES.map((s) => [s]))('%s config.ts reads it (grpcAllowedCallersEnv or callerAllowListVar)', (svc) => {
    const text = readRepoFile(`services/${svc}/src/config.ts`);
    expect(/\bgrpcAllowedCallersEnv\b/.test(text) || /CUSTODY_GRPC_ALLOWED_CALLERS:\s*callerAllowListVar\(\)/.test(text)).toBe(true);
  });

  it('the same parser refuses what is not a rule (the chart can only render rules)', () => {
    expect(() => defineConfig(z.object({ X: callerAllowListVar() }), { X: 'custody-intake' })).toThrow(/X/);
    expect(parseCallerRules([`uri:${spiffe('intake')}`])).toEqual([{ kind: 'uri', value: spiffe('intake') }]);
  });
});
