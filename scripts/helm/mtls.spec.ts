// Service-to-service gRPC mTLS in the rendered chart (values tls.*): every gRPC server serves TLS
// and requires client certificates, every caller of files/flows.yaml presents its own
// certificate, certificates come from cert-manager Certificates or existing Secrets by reference
// only, and the probes check gRPC health over mTLS. Needs .local/bin/helm (scripts/infra/helm.sh).
import { describe, expect, it } from '@jest/globals';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { SERVICES, byKind, component, flows, one, readRepoFile, render, template, type Manifest, type ServiceName } from './harness.js';

/* eslint-disable @typescript-eslint/no-explicit-any */
const manifests = render();
const workloadIn = (ms: readonly Manifest[], svc: string): Manifest => {
  const found = ms.filter((m) => (m.kind === 'Deployment' || m.kind === 'StatefulSet') && component(m) === svc);
  if (found.length !== 1) throw new Error(`expected one workload for ${svc}, found ${found.length}`);
  return found[0]!;
};
const containerIn = (ms: readonly Manifest[], svc: string): any => workloadIn(ms, svc).spec.template.spec.containers[0];
const envOf = (c: any): Record<string, string | undefined> => Object.fromEntries((c.env as { name: string; value?: string }[]).map((e) => [e.name, e.value]));

/** Files a container can read from mounted Secrets: path -> "secretName:key". */
function secretFiles(ms: readonly Manifest[], svc: string): Map<string, string> {
  const spec = workloadIn(ms, svc).spec.template.spec;
  const files = new Map<string, string>();
  for (const mount of spec.containers[0].volumeMounts as { name: string; mountPath: string; readOnly?: boolean }[]) {
    const volume = (spec.volumes as any[]).find((v) => v.name === mount.name);
    if (!volume?.secret) continue;
    expect(mount.readOnly).toBe(true);
    for (const item of volume.secret.items as { key: string; path: string }[]) files.set(`${mount.mountPath}/${item.path}`, `${volume.secret.secretName}:${item.key}`);
  }
  return files;
}

/** The gRPC TLS variables a service's config.ts reads (server and client side). */
function tlsVariablesRead(svc: ServiceName): string[] {
  const text = readRepoFile(`services/${svc}/src/config.ts`);
  const names = (text.match(/\bCUSTODY_[A-Z0-9_]+\b/g) ?? []).filter((n) => /(TLS|GRPC)/.test(n) && /(_FILE|_TLS|_ADDRESS)$/.test(n));
  // the platform's grpcServerTlsEnv (libs/platform/src/grpc-tls-env.ts)
  if (/\bgrpcServerTlsEnv\b/.test(text)) names.push('CUSTODY_GRPC_TLS', 'CUSTODY_GRPC_TLS_CERT_FILE', 'CUSTODY_GRPC_TLS_KEY_FILE', 'CUSTODY_GRPC_TLS_CLIENT_CA_FILE');
  return [...new Set(names)].sort();
}

/**
 * Variables a service reads that the chart deliberately leaves unset, with the reason. Anything a
 * service reads that is neither set nor listed here fails the test: wire it in the chart.
 */
const NOT_SET: Record<string, string> = {
  CUSTODY_INTAKE_SIGNER_ADDRESS: 'the signer has no callers (files/flows.yaml, C-8.2.2.4-b): GetDepositAddress fails closed',
  CUSTODY_INTAKE_SIGNER_TLS: 'idem',
  CUSTODY_INTAKE_SIGNER_TLS_CA_FILE: 'idem',
  CUSTODY_INTAKE_SIGNER_TLS_CERT_FILE: 'idem',
  CUSTODY_INTAKE_SIGNER_TLS_KEY_FILE: 'idem',
};

describe('gRPC servers: TLS with client-certificate verification in every workload', () => {
  it.each(SERVICES.map((s) => [s]))('%s serves mTLS from its own certificate Secret, mounted read-only', (svc) => {
    const e = envOf(containerIn(manifests, svc));
    const files = secretFiles(manifests, svc);
    expect(e.CUSTODY_GRPC_TLS).toBe('mtls');
    expect(files.get(e.CUSTODY_GRPC_TLS_CERT_FILE!)).toBe(`custody-${svc}-grpc-tls:tls.crt`);
    expect(files.get(e.CUSTODY_GRPC_TLS_KEY_FILE!)).toBe(`custody-${svc}-grpc-tls:tls.key`);
    expect(files.get(e.CUSTODY_GRPC_TLS_CLIENT_CA_FILE!)).toBe(`custody-${svc}-grpc-tls:ca.crt`);
    expect(e.CUSTODY_GRPC_TLS_SERVER_NAME).toBe(`custody-${svc}`);
  });

  it('the variables are found in the services\' config.ts (the scan below is not empty)', () => {
    const all = SERVICES.flatMap((s) => tlsVariablesRead(s));
    expect(all).toEqual(expect.arrayContaining(['CUSTODY_GRPC_TLS_CLIENT_CA_FILE', 'CUSTODY_TLS_CLIENT_CA_FILE', 'CUSTODY_POLICY_LEDGER_GRPC_KEY_FILE', 'CUSTODY_SIGNER_GRPC_TLS']));
  });

  it.each(SERVICES.map((s) => [s]))('%s: every gRPC TLS variable its config.ts reads is set to a mounted file (or deliberately unset)', (svc) => {
    const e = envOf(containerIn(manifests, svc));
    const files = secretFiles(manifests, svc);
    for (const name of tlsVariablesRead(svc)) {
      if (NOT_SET[name]) {
        expect([name, e[name]]).toEqual([name, undefined]);
        continue;
      }
      expect([name, e[name] !== undefined]).toEqual([name, true]);
      if (name.endsWith('_FILE')) expect([name, files.has(e[name]!)]).toEqual([name, true]);
      else if (name.endsWith('_TLS')) expect([name, e[name]]).toEqual([name, 'mtls']);
    }
  });

  it('risk and the signer, which do not use the platform settings yet, get their own variable names', () => {
    const risk = envOf(containerIn(manifests, 'risk'));
    expect([risk.CUSTODY_TLS_CERT_FILE, risk.CUSTODY_TLS_KEY_FILE, risk.CUSTODY_TLS_CLIENT_CA_FILE]).toEqual([risk.CUSTODY_GRPC_TLS_CERT_FILE, risk.CUSTODY_GRPC_TLS_KEY_FILE, risk.CUSTODY_GRPC_TLS_CLIENT_CA_FILE]);
    const signer = envOf(containerIn(manifests, 'signer'));
    expect(signer.CUSTODY_SIGNER_GRPC_TLS).toBe('mtls');
    expect(signer.CUSTODY_SIGNER_GRPC_TLS_CLIENT_CA_FILE).toBe(signer.CUSTODY_GRPC_TLS_CLIENT_CA_FILE);
    expect(signer.CUSTODY_SIGNER_GRPC_PORT).toBeUndefined(); // no DepositAddressService: nobody may call the signer
  });
});

describe('gRPC callers (files/flows.yaml calls) present their own certificate', () => {
  const f = flows();
  const callers = SERVICES.filter((s) => f[s].calls.length > 0);

  it('there are callers to check', () => {
    expect(callers.length).toBeGreaterThanOrEqual(3);
  });

  it.each(callers.map((s) => [s, f[s].calls.join(', ')]))('%s (calls %s) has a client certificate with client auth mounted', (svc) => {
    const files = secretFiles(manifests, svc);
    expect([...files.values()]).toEqual(expect.arrayContaining([`custody-${svc}-grpc-tls:tls.crt`, `custody-${svc}-grpc-tls:tls.key`, `custody-${svc}-grpc-tls:ca.crt`]));
    expect(one(manifests, 'Certificate', `custody-${svc}-grpc`).spec.usages).toContain('client auth');
  });

  it.each([
    ['policy', 'ledger', 'CUSTODY_POLICY_LEDGER_GRPC', 'custody-ledger.custody.svc:50051'],
    ['policy', 'audit', 'CUSTODY_POLICY_AUDIT_GRPC', 'custody-audit.custody.svc:50051'],
    ['ledger', 'chain-adapter', 'CUSTODY_LEDGER_CHAIN_GRPC', undefined],
  ])('%s -> %s: the client variables point at the mounted certificate, key and CA', (caller, callee, prefix, address) => {
    expect(f[caller as ServiceName].calls).toContain(callee);
    const e = envOf(containerIn(manifests, caller));
    const files = secretFiles(manifests, caller);
    expect(e[`${prefix}_ADDRESS`]).toBe(address);
    expect(files.get(e[`${prefix}_CERT_FILE`]!)).toBe(`custody-${caller}-grpc-tls:tls.crt`);
    expect(files.get(e[`${prefix}_KEY_FILE`]!)).toBe(`custody-${caller}-grpc-tls:tls.key`);
    expect(files.get(e[`${prefix}_CA_FILE`]!)).toBe(`custody-${caller}-grpc-tls:ca.crt`);
    // the callee's certificate carries the name the caller dials
    if (address) expect(one(manifests, 'Certificate', `custody-${callee}-grpc`).spec.dnsNames).toContain(address.split(':')[0]);
  });
});

describe('certificates: cert-manager Certificates (default) or existing Secrets, by reference only', () => {
  it.each(SERVICES.map((s) => [s]))('%s: a Certificate for its in-cluster names and its ServiceAccount identity, server + client auth', (svc) => {
    const cert = one(manifests, 'Certificate', `custody-${svc}-grpc`);
    expect(cert.apiVersion).toBe('cert-manager.io/v1');
    expect(cert.spec.secretName).toBe(`custody-${svc}-grpc-tls`);
    expect(cert.spec.dnsNames).toEqual([`custody-${svc}`, `custody-${svc}.custody`, `custody-${svc}.custody.svc`, `custody-${svc}.custody.svc.cluster.local`]);
    expect(cert.spec.uris).toEqual([`spiffe://cluster.local/ns/custody/sa/custody-${svc}`]);
    expect(cert.spec.usages).toEqual(['digital signature', 'server auth', 'client auth']);
    expect(cert.spec.issuerRef).toEqual({ name: 'custody-internal-ca', kind: 'Issuer', group: 'cert-manager.io' });
    expect(cert.spec.privateKey).toEqual({ algorithm: 'ECDSA', size: 256, encoding: 'PKCS8', rotationPolicy: 'Always' });
    expect(cert.spec.isCA ?? false).toBe(false);
  });

  it('the issuer is configurable (e.g. a ClusterIssuer of a Vault PKI)', () => {
    const ms = render(['--set', 'tls.certManager.issuerRef.name=vault-pki', '--set', 'tls.certManager.issuerRef.kind=ClusterIssuer']);
    for (const c of byKind(ms, 'Certificate')) expect(c.spec.issuerRef).toEqual({ name: 'vault-pki', kind: 'ClusterIssuer', group: 'cert-manager.io' });
  });

  it('existingSecrets: no Certificate, the pods reference the named Secrets (per-service override)', () => {
    const ms = render(['--set', 'tls.mode=existingSecrets', '--set', 'services.intake.tls.secretName=intake-from-vault']);
    expect(byKind(ms, 'Certificate')).toEqual([]);
    expect(secretFiles(ms, 'intake').get(envOf(containerIn(ms, 'intake')).CUSTODY_GRPC_TLS_KEY_FILE!)).toBe('intake-from-vault:tls.key');
    expect(secretFiles(ms, 'ledger').get(envOf(containerIn(ms, 'ledger')).CUSTODY_GRPC_TLS_KEY_FILE!)).toBe('custody-ledger-grpc-tls:tls.key');
  });

  it('a separate trust bundle replaces ca.crt of the service Secrets (CA rotation)', () => {
    const ms = render(['--set', 'tls.caSecret.name=custody-trust-bundle', '--set', 'tls.caSecret.key=bundle.pem']);
    for (const svc of SERVICES) {
      const files = secretFiles(ms, svc);
      const e = envOf(containerIn(ms, svc));
      expect(files.get(e.CUSTODY_GRPC_TLS_CLIENT_CA_FILE!)).toBe('custody-trust-bundle:bundle.pem');
      expect([...files.values()]).not.toContain(`custody-${svc}-grpc-tls:ca.crt`);
    }
    expect(secretFiles(ms, 'policy').get(envOf(containerIn(ms, 'policy')).CUSTODY_POLICY_LEDGER_GRPC_CA_FILE!)).toBe('custody-trust-bundle:bundle.pem');
  });

  it('no key or certificate material in the manifests: no Secret rendered, keys only as file paths', () => {
    const text = template().stdout;
    expect(text).not.toMatch(/-----BEGIN [A-Z ]*(PRIVATE KEY|CERTIFICATE)-----/);
    expect(text).not.toMatch(/\b(tls\.key|tls\.crt)\s*:\s*[A-Za-z0-9+/=]{40,}/);
    expect(byKind(manifests, 'Secret')).toEqual([]);
    for (const svc of SERVICES) {
      for (const ev of containerIn(manifests, svc).env as { name: string; value?: string; valueFrom?: any }[]) {
        if (/KEY|CERT|CA_FILE/.test(ev.name) && /TLS|GRPC/.test(ev.name)) expect(ev.value).toMatch(/^\/var\/run\/secrets\/custody\/grpc-(tls|ca)\/[a-z.]+$/);
        expect(ev.valueFrom?.secretKeyRef).toBeUndefined();
      }
    }
  });

  it.each([
    ['a plaintext mode', ['--set', 'tls.mode=insecure'], /tls\/mode/],
    ['an inline private key', ['--set', 'tls.key=abc'], /additional properties 'key' not allowed/],
    ['an inline certificate per service', ['--set', 'services.intake.tls.cert=abc'], /additional properties 'cert' not allowed/],
    ['a weak key', ['--set', 'tls.certManager.privateKey.algorithm=RSA', '--set', 'tls.certManager.privateKey.size=1024'], /privateKey/],
    ['an unknown issuer kind', ['--set', 'tls.certManager.issuerRef.kind=Secret'], /issuerRef\/kind/],
  ])('the schema refuses %s', (_what, args, message) => {
    const r = template(args);
    expect(r.status).not.toBe(0);
    expect(r.stderr).toMatch(message);
  });
});

describe('probes: gRPC health over mTLS as an exec probe (kubelet grpc probes cannot do TLS)', () => {
  const values = readFileSync(join(process.cwd(), 'helm/custody/values.yaml'), 'utf8');

  it.each(SERVICES.map((s) => [s]))('%s: the probe gets the address, its certificate and a server name its certificate carries', (svc) => {
    const c = containerIn(manifests, svc);
    const e = envOf(c);
    expect(e.CUSTODY_GRPC_HOST).toBe('$(CUSTODY_POD_IP)');
    expect(e.CUSTODY_GRPC_PORT).toBe('50051');
    expect(one(manifests, 'Certificate', `custody-${svc}-grpc`).spec.dnsNames).toContain(e.CUSTODY_GRPC_TLS_SERVER_NAME);
    for (const probe of ['startupProbe', 'readinessProbe', 'livenessProbe']) {
      expect(c[probe].exec.command).toEqual(['/nodejs/bin/node', '/app/grpc-health-probe.mjs']);
      expect(c[probe].grpc).toBeUndefined();
      expect(Number(e.CUSTODY_GRPC_PROBE_TIMEOUT)).toBeLessThan(c[probe].timeoutSeconds * 1000);
    }
  });

  it('the image ships the probe where the chart runs it', () => {
    const dockerfile = readRepoFile('deploy/docker/Dockerfile');
    expect(dockerfile).toMatch(/^WORKDIR \/app$/m);
    expect(dockerfile).toMatch(/^COPY --chown=0:0 deploy\/docker\/grpc-health-probe\.mjs \/app\/grpc-health-probe\.mjs$/m);
    expect(values).toMatch(/command: \["\/nodejs\/bin\/node", "\/app\/grpc-health-probe\.mjs"\]/);
  });
});
