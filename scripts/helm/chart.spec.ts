// The rendered chart: lint, workload hardening, network segmentation, single owner of a
// wallet's nonce sequence, secrets by reference. Needs .local/bin/helm (scripts/infra/helm.sh).
import { describe, expect, it } from '@jest/globals';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { CHART, CI_VALUES, SERVICES, byKind, component, flows, helm, one, render, template, type Manifest, type ServiceName } from './harness.js';

/* eslint-disable @typescript-eslint/no-explicit-any */
const manifests = render();
const WORKLOAD_KINDS = new Set(['Deployment', 'StatefulSet', 'Job']);
const workloads = manifests.filter((m) => WORKLOAD_KINDS.has(m.kind));
const policies = byKind(manifests, 'NetworkPolicy');
const policyOf = (svc: string): Manifest => one(manifests, 'NetworkPolicy', `custody-${svc}`);
const podSpec = (m: Manifest): any => m.spec.template.spec;
const workloadOf = (svc: string): Manifest => {
  const found = manifests.filter((m) => (m.kind === 'Deployment' || m.kind === 'StatefulSet') && component(m) === svc);
  if (found.length !== 1) throw new Error(`expected one workload for ${svc}, found ${found.length}`);
  return found[0]!;
};
const env = (container: any): Record<string, string | undefined> =>
  Object.fromEntries((container.env as { name: string; value?: string }[]).map((e) => [e.name, e.value]));

function expectTemplateFailure(args: readonly string[], message: RegExp): void {
  const r = template(args);
  expect(r.status).not.toBe(0);
  expect(r.stderr).toMatch(message);
}

describe('helm lint and template', () => {
  it('lints cleanly (strict) with the CI values', () => {
    const r = helm(['lint', CHART, '--strict', '-f', CI_VALUES]);
    expect(r.stderr + r.stdout).toMatch(/1 chart\(s\) linted, 0 chart\(s\) failed/);
    expect(r.status).toBe(0);
  });

  it('renders one workload, ServiceAccount, PDB and NetworkPolicy per service, and a Service for all but the signer', () => {
    for (const svc of SERVICES) {
      expect(workloadOf(svc).metadata.name).toBe(`custody-${svc}`);
      expect(one(manifests, 'ServiceAccount', `custody-${svc}`).automountServiceAccountToken).toBe(false);
      expect(one(manifests, 'PodDisruptionBudget', `custody-${svc}`).spec.maxUnavailable).toBe(1);
      expect(policyOf(svc).spec.policyTypes).toEqual(['Ingress', 'Egress']);
    }
    expect(byKind(manifests, 'Service').map((s) => component(s)).sort()).toEqual(['audit', 'chain-adapter', 'intake', 'ledger', 'policy', 'risk']);
  });

  it('refuses to render signing-path services without an image digest (default values)', () => {
    const r = template([], { ciValues: false });
    expect(r.status).not.toBe(0);
    expect(r.stderr).toMatch(/image\.digest is required: (policy|signer|chain-adapter) is on the signing path/);
  });
});

describe('every workload: non-root, full securityContext, probes on the gRPC health service (over mTLS), limits', () => {
  it.each(workloads.map((w) => [`${w.kind}/${w.metadata.name}`, w] as const))('%s', (_name, w) => {
    const spec = podSpec(w);
    expect(spec.securityContext).toMatchObject({ runAsNonRoot: true, seccompProfile: { type: 'RuntimeDefault' } });
    expect(spec.securityContext.runAsUser).toBeGreaterThan(0);
    expect(spec.automountServiceAccountToken).toBe(false);
    expect(spec.hostNetwork ?? false).toBe(false);
    expect(spec.hostPID ?? false).toBe(false);
    expect(spec.hostIPC ?? false).toBe(false);
    expect(spec.initContainers ?? []).toEqual([]);
    for (const c of spec.containers) {
      expect(c.securityContext).toEqual({
        runAsNonRoot: true,
        runAsUser: 65532,
        runAsGroup: 65532,
        readOnlyRootFilesystem: true,
        allowPrivilegeEscalation: false,
        privileged: false,
        capabilities: { drop: ['ALL'] },
        seccompProfile: { type: 'RuntimeDefault' },
      });
      for (const kind of ['requests', 'limits']) {
        expect(c.resources[kind].cpu).toBeDefined();
        expect(c.resources[kind].memory).toBeDefined();
      }
      expect(c.image).not.toMatch(/:latest(@|$)/);
      expect(c.image).toMatch(/:[A-Za-z0-9_][A-Za-z0-9_.-]*(@sha256:[a-f0-9]{64})?$/);
      if (w.kind !== 'Job') {
        const grpcPort = (c.ports as { name: string; containerPort: number }[]).find((p) => p.name === 'grpc')?.containerPort;
        expect(grpcPort).toBe(50051);
        // exec probes: grpc.health.v1 over mTLS (kubelet's grpc probe cannot do TLS; scripts/helm/mtls.spec.ts)
        for (const probe of ['startupProbe', 'readinessProbe', 'livenessProbe']) expect(c[probe].exec).toEqual({ command: ['/nodejs/bin/node', '/app/grpc-health-probe.mjs'] });
        const e = env(c);
        expect(e.CUSTODY_GRPC_HOST).toBe('$(CUSTODY_POD_IP)'); // a specific address, never 0.0.0.0
      }
    }
  });

  it('signing-path images are deployed by digest', () => {
    for (const svc of ['signer', 'policy', 'chain-adapter']) {
      expect(podSpec(workloadOf(svc)).containers[0].image).toMatch(/@sha256:[a-f0-9]{64}$/);
    }
  });

  it('leaves the service 5 s less than terminationGracePeriodSeconds to finish in-flight work', () => {
    for (const svc of SERVICES) {
      const spec = podSpec(workloadOf(svc));
      expect(env(spec.containers[0]).CUSTODY_SHUTDOWN_GRACE).toBe(`${spec.terminationGracePeriodSeconds - 5}s`);
    }
    expect(podSpec(workloadOf('chain-adapter')).terminationGracePeriodSeconds).toBe(60);
  });
});

describe('single owner of a wallet nonce sequence: chain-adapter', () => {
  it('is a StatefulSet with exactly one replica (no replacement pod before the old one is gone)', () => {
    const w = workloadOf('chain-adapter');
    expect(w.kind).toBe('StatefulSet');
    expect(w.spec.replicas).toBe(1);
    expect(w.spec.podManagementPolicy).toBe('OrderedReady');
  });

  it('the schema refuses a second replica, whichever way it is asked for', () => {
    expectTemplateFailure(['--set', 'services.chainAdapter.replicas=2'], /chainAdapter\/replicas': value must be 1/);
    expectTemplateFailure(['--set', 'chainAdapter.replicas=2'], /additional properties 'chainAdapter' not allowed/);
  });

  it('stateless services roll with maxUnavailable 0 and spread over zones and hosts', () => {
    for (const svc of SERVICES.filter((s) => s !== 'chain-adapter')) {
      const w = workloadOf(svc);
      expect(w.spec.strategy).toEqual({ type: 'RollingUpdate', rollingUpdate: { maxUnavailable: 0, maxSurge: 1 } });
      expect(w.spec.replicas).toBeGreaterThanOrEqual(2);
      const keys = (podSpec(w).topologySpreadConstraints as { topologyKey: string }[]).map((t) => t.topologyKey);
      expect(keys).toEqual(['topology.kubernetes.io/zone', 'kubernetes.io/hostname']);
    }
  });
});

// ---- network -------------------------------------------------------------------------------

type Peer = { podSelector?: { matchLabels?: Record<string, string> }; namespaceSelector?: { matchLabels?: Record<string, string> }; ipBlock?: { cidr: string } };
type Rule = { from?: Peer[]; to?: Peer[]; ports?: { port: number; protocol?: string }[] };
const ingressOf = (svc: string): Rule[] => policyOf(svc).spec.ingress as Rule[];
const egressOf = (svc: string): Rule[] => policyOf(svc).spec.egress as Rule[];
const sameNamespaceComponent = (p: Peer): string | undefined =>
  p.namespaceSelector === undefined && p.ipBlock === undefined ? p.podSelector?.matchLabels?.['app.kubernetes.io/component'] : undefined;
const PRIVATE = /^(10\.|172\.(1[6-9]|2[0-9]|3[01])\.|192\.168\.|f[cd][0-9a-f]{2}:)/i;

/** src -> dst pairs of custody services whose gRPC traffic both policies admit. */
function connectivityMatrix(): string[] {
  const pairs: string[] = [];
  for (const src of SERVICES) {
    for (const dst of SERVICES) {
      if (src === dst) continue;
      const out = egressOf(src).some((r) => (r.to ?? []).some((p) => sameNamespaceComponent(p) === dst));
      const inn = ingressOf(dst).some((r) => (r.from ?? []).some((p) => sameNamespaceComponent(p) === src));
      if (out && inn) pairs.push(`${src}->${dst}`);
      if (out !== inn) throw new Error(`asymmetric policy ${src}->${dst}: egress ${out}, ingress ${inn}`);
    }
  }
  return pairs.sort();
}

describe('C-9.3.10.2-a default-deny network policy: only the architecture flows are allowed', () => {
  it('denies all ingress and egress in the namespace by default', () => {
    const deny = one(manifests, 'NetworkPolicy', 'custody-default-deny');
    expect(deny.spec).toEqual({ podSelector: {}, policyTypes: ['Ingress', 'Egress'] });
  });

  it('every service has its own policy selecting exactly its pods', () => {
    for (const svc of SERVICES) {
      const np = policyOf(svc);
      expect(np.spec.podSelector.matchLabels).toEqual({ 'app.kubernetes.io/name': 'custody', 'app.kubernetes.io/instance': 'custody', 'app.kubernetes.io/component': svc });
      expect(podSpec(workloadOf(svc)).containers).toHaveLength(1);
    }
    // + the namespace default-deny and the database Jobs' policy (DNS + PostgreSQL egress only)
    expect(policies.map((p) => p.metadata.name).sort()).toEqual([...SERVICES.map((s) => `custody-${s}`), 'custody-db-jobs', 'custody-default-deny'].sort());
    expect(one(manifests, 'NetworkPolicy', 'custody-db-jobs').spec.ingress).toEqual([]);
  });

  it('no rule is open-ended: every rule names its peers and its ports', () => {
    for (const svc of SERVICES) {
      for (const r of ingressOf(svc)) {
        expect((r.from ?? []).length).toBeGreaterThan(0);
        expect((r.ports ?? []).length).toBeGreaterThan(0);
      }
      for (const r of egressOf(svc)) {
        expect((r.to ?? []).length).toBeGreaterThan(0);
        expect((r.ports ?? []).length).toBeGreaterThan(0);
      }
    }
  });

  it('the service-to-service gRPC connectivity matrix is exactly the architecture\'s', () => {
    expect(connectivityMatrix()).toEqual(
      ['chain-adapter->audit', 'intake->audit', 'intake->chain-adapter', 'intake->ledger', 'intake->policy', 'intake->risk', 'ledger->chain-adapter', 'policy->audit', 'policy->ledger', 'risk->audit', 'signer->audit'].sort(),
    );
  });

  it('only intake is reachable from the integrators\' edge; only risk, policy, audit and intake\'s admin port from operators', () => {
    const edge = JSON.stringify({ namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'ingress' } } });
    const ops = JSON.stringify({ namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'custody-operators' } } });
    const reachedBy = (peer: string): string[] => SERVICES.filter((s) => ingressOf(s).some((r) => (r.from ?? []).some((p) => JSON.stringify(p) === peer))).sort();
    expect(reachedBy(edge)).toEqual(['intake']);
    expect(reachedBy(ops)).toEqual(['audit', 'intake', 'policy', 'risk']);
    // intake: operators get the admin port only, the integrators' edge the gateway port only.
    const intakeRules = ingressOf('intake');
    const portsFrom = (peer: string) => intakeRules.filter((r) => (r.from ?? []).some((p) => JSON.stringify(p) === peer)).flatMap((r) => (r.ports ?? []).map((p) => p.port));
    expect(portsFrom(ops)).toEqual([50052]);
    expect(portsFrom(edge)).toEqual([50051]);
  });

  it('egress follows files/flows.yaml: DNS and Kafka for all, the database, Vault where enabled, the egress proxy only for risk and chain-adapter', () => {
    const f = flows();
    const ns = (r: Rule): string | undefined => r.to?.[0]?.namespaceSelector?.matchLabels?.['kubernetes.io/metadata.name'];
    for (const svc of SERVICES) {
      const targets = egressOf(svc).map((r) => ns(r) ?? (r.to?.[0]?.ipBlock ? 'hsm' : `svc:${sameNamespaceComponent(r.to![0]!)}`));
      const expected = ['kube-system', 'kafka', 'postgres'];
      if (['policy', 'signer', 'audit'].includes(svc)) expected.push('vault');
      if (svc === 'signer') expected.push('hsm');
      if (f[svc as ServiceName].egress.includes('egressProxy')) expected.push('egress');
      for (const callee of f[svc as ServiceName].calls) expected.push(`svc:${callee}`);
      expect(targets).toEqual(expected);
    }
  });
});

describe('C-9.3.10.3-a segmentation: signer and ledger have no Internet route', () => {
  it.each(['signer', 'ledger'])('%s egress reaches only in-cluster selectors or private addresses, never the egress proxy', (svc) => {
    for (const rule of egressOf(svc)) {
      for (const peer of rule.to!) {
        if (peer.ipBlock) expect(peer.ipBlock.cidr).toMatch(PRIVATE);
        else expect(peer.podSelector ?? peer.namespaceSelector).toBeDefined();
        expect(peer.namespaceSelector?.matchLabels?.['kubernetes.io/metadata.name']).not.toBe('egress');
      }
    }
    const e = env(podSpec(workloadOf(svc)).containers[0]);
    expect(e.HTTPS_PROXY).toBeUndefined();
  });

  it('no custody service has a direct route out: the egress proxy (risk, chain-adapter) is the only way to the Internet', () => {
    const proxied = SERVICES.filter((s) => egressOf(s).some((r) => r.to!.some((p) => p.namespaceSelector?.matchLabels?.['kubernetes.io/metadata.name'] === 'egress')));
    expect(proxied.sort()).toEqual(['chain-adapter', 'risk']);
    for (const svc of SERVICES) for (const r of egressOf(svc)) for (const p of r.to!) if (p.ipBlock) expect(p.ipBlock.cidr).toMatch(PRIVATE);
  });

  it.each([
    ['the HSM', 'networkPolicy.hsm.to=[{"ipBlock":{"cidr":"0.0.0.0/0"}}]'],
    ['Vault', 'networkPolicy.vault.to=[{"ipBlock":{"cidr":"8.8.8.8/32"}}]'],
    ['the database', 'networkPolicy.postgres.to=[{"ipBlock":{"cidr":"172.32.0.0/16"}}]'],
    ['Kafka', 'networkPolicy.kafka.to=[{"ipBlock":{"cidr":"::/0"}}]'],
    ['Kafka (empty peer list = anywhere)', 'networkPolicy.kafka.to=[]'],
  ])('values cannot open a public route through %s', (_what, json) => {
    expectTemplateFailure(['--set-json', json], /networkPolicy\/(hsm|vault|postgres|kafka)\/to/);
  });
});

describe('C-8.2.2.4-b hardened signer runtime (chart part: read-only root, no ingress, no Internet egress, no API token)', () => {
  it('has no Service and admits no ingress except the metrics scrape from the monitoring namespace', () => {
    expect(byKind(manifests, 'Service').some((s) => component(s) === 'signer')).toBe(false);
    const ingress = ingressOf('signer');
    expect(ingress).toHaveLength(1);
    expect(ingress[0]!.ports).toEqual([{ port: 9464, protocol: 'TCP' }]);
    expect(ingress[0]!.from).toEqual([
      { namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'monitoring' } }, podSelector: { matchLabels: { 'app.kubernetes.io/name': 'prometheus' } } },
    ]);
    expect(SERVICES.filter((s) => flows()[s].calls.includes('signer'))).toEqual([]);
  });

  it('has no ingress at all when the metrics scrape is disabled', () => {
    const closed = render(['--set', 'networkPolicy.metricsScrape.enabled=false']);
    const np = one(closed, 'NetworkPolicy', 'custody-signer');
    expect(np.spec.ingress).toEqual([]);
    expect(byKind(closed, 'PodMonitor')).toEqual([]); // no scrape config that could only fail
    expect(np.spec.policyTypes).toContain('Ingress');
  });

  it('egress only to DNS, Kafka, its database, Vault, the HSM and the audit service\'s gRPC (operator audit gate)', () => {
    const egress = egressOf('signer');
    const ports = egress.map((r) => r.ports!.map((p) => `${p.port}/${p.protocol}`).join(','));
    expect(ports).toEqual(['53/UDP,53/TCP', '9093/TCP', '5432/TCP', '8200/TCP', '1792/TCP', '50051/TCP']);
    // the gRPC rule admits the audit pods only (KeyAdminService changes are recorded there first)
    expect(egress[5]!.to!.map(sameNamespaceComponent)).toEqual(['audit']);
  });

  it('mounts no Kubernetes API token; Vault gets an audience-bound projected token', () => {
    const spec = podSpec(workloadOf('signer'));
    expect(spec.automountServiceAccountToken).toBe(false);
    const projected = (spec.volumes as any[]).filter((v) => v.projected).flatMap((v) => v.projected.sources);
    expect(projected).toEqual([{ serviceAccountToken: { audience: 'vault', expirationSeconds: 600, path: 'token' } }]);
    expect(manifests.some((m) => ['Role', 'RoleBinding', 'ClusterRole', 'ClusterRoleBinding'].includes(m.kind))).toBe(false);
  });
});

// ---- secrets ------------------------------------------------------------------------------

const SECRET_LITERAL = [
  /-----BEGIN [A-Z ]*PRIVATE KEY-----/,
  /\b(postgres(ql)?|https?|wss?|kafka):\/\/[^\s/:@"']+:[^\s/@"']+@/i, // user:password@ in a URL
  // a key ENDING in a secret word with an inline value (block or flow style); `passwordKey:` or
  // `secretName:` name a reference and do not match
  /(?:^|[{,])[ \t]*[-\w]*?(password|passwd|secret|token|api[-_]?key|private[-_]?key|mnemonic|seed|pin)[ \t]*:[ \t]*(?!(?:true|false|null)\b)["']?[^\s"'{}[\],]{4,}/im,
];

describe('C-9.3.10.4-e no default credentials: secrets only by reference', () => {
  const valuesText = readFileSync(join(CHART, 'values.yaml'), 'utf8');
  const rendered = template().stdout;

  it('the chart renders no Secret and no secret-looking environment value', () => {
    expect(byKind(manifests, 'Secret')).toEqual([]);
    for (const w of workloads) {
      for (const c of podSpec(w).containers) {
        for (const e of c.env as { name: string; value?: string; valueFrom?: unknown }[]) {
          if (/PASSWORD|SECRET|TOKEN|API_KEY|PRIVATE|PIN$/.test(e.name)) {
            expect(e.name).toMatch(/_FILE$/); // a path to a mounted Secret, not the secret
            expect(e.value).toMatch(/^\/var\/run\/secrets\/custody\//);
          }
        }
      }
    }
  });

  it('neither values.yaml nor the manifests contain a credential literal (scanner self-test included)', () => {
    for (const pattern of SECRET_LITERAL) {
      expect(valuesText).not.toMatch(pattern);
      expect(rendered).not.toMatch(pattern);
    }
    // the scanner does catch what it is looking for
    expect('database:\n  password: hunter2hunter2\n').toMatch(SECRET_LITERAL[2]!);
    expect('env: { token: abcdef123 }\n').toMatch(SECRET_LITERAL[2]!);
    expect('url: https://alice:s3cret@node.example\n').toMatch(SECRET_LITERAL[1]!);
    expect('passwordKey: password\nexistingSecret: ""\nsecretName: custody-db\n').not.toMatch(SECRET_LITERAL[2]!);
  });

  it('runtime pods read only their app password; the owner password only the migration Job; the admin secret only the provision Job', () => {
    const secretItems = (m: Manifest): string[] =>
      (podSpec(m).volumes as any[]).filter((v) => v.secret).flatMap((v) => (v.secret.items as { key: string }[]).map((i) => `${v.secret.secretName}:${i.key}`));
    for (const svc of SERVICES) {
      const items = secretItems(workloadOf(svc));
      expect(items).toContain(`custody-${svc}-db:app-password`);
      expect(items.some((i) => i.endsWith(':owner-password') || i.startsWith('custody-pg-admin:'))).toBe(false);
      const migrate = one(manifests, 'Job', `custody-${svc}-db-migrate`);
      expect(secretItems(migrate)).toEqual([`custody-${svc}-db:owner-password`]);
      const id = svc.replace('-', '_');
      expect(env(podSpec(migrate).containers[0]).CUSTODY_DB_USER).toBe(`${id}_owner`);
      expect(env(podSpec(workloadOf(svc)).containers[0]).CUSTODY_DB_USER).toBe(`${id}_app`);
      expect(secretItems(one(manifests, 'Job', `custody-${svc}-db-provision`)).sort()).toEqual(
        ['custody-pg-admin:password', 'custody-pg-admin:username', `custody-${svc}-db:app-password`, `custody-${svc}-db:owner-password`].sort(),
      );
    }
  });

  it.each([
    ['a database password', ['--set', 'database.password=hunter2hunter2'], /additional properties 'password' not allowed/],
    ['a Vault token', ['--set', 'vault.token=s.abcdefghijkl'], /additional properties 'token' not allowed/],
    ['a secret-named env value', ['--set', 'services.intake.env.API_TOKEN=abc'], /propertyName 'API_TOKEN'|API_TOKEN/],
    ['credentials in an RPC URL', ['--set-json', 'chainRpc.endpoints.btc={"url":"https://user:pw@node.example"}'], /chainRpc\/endpoints\/btc\/url/],
    ['an unencrypted database connection', ['--set', 'database.sslMode=disable'], /sslMode/],
    ['the latest tag', ['--set', 'image.tag=latest'], /image\/tag/],
  ])('the schema refuses %s', (_what, args, message) => {
    expectTemplateFailure(args, message);
  });
});
