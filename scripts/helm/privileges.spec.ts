// Least privilege on the platforms: Kafka ACLs (Strimzi KafkaUser), Vault policies and
// Kubernetes-auth roles, database roles — checked against the architecture's flows and the
// topic constants in libs/contracts. Needs .local/bin/helm.
import { describe, expect, it } from '@jest/globals';
import { ALL_TOPICS, Topics, deadLetterTopic } from '@custody/contracts';
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { ROOT, SERVICES, byKind, flows, one, render } from './harness.js';

interface Acl {
  resource: { type: string; name: string; patternType: string };
  operations: string[];
}
const manifests = render();
const f = flows();
const aclsOf = (svc: string): Acl[] => one(manifests, 'KafkaUser', `custody-${svc}`).spec.authorization.acls as Acl[];
const topicsWith = (svc: string, op: string): string[] =>
  aclsOf(svc).filter((a) => a.resource.type === 'topic' && a.operations.includes(op)).map((a) => a.resource.name).sort();

describe('Kafka: one principal per service with ACLs for only its topics', () => {
  it('every topic in libs/contracts has exactly one producer (incidents: the services that raise them), and flows name no unknown topic', () => {
    const producers = new Map<string, string[]>();
    for (const svc of SERVICES) for (const t of f[svc].produces) producers.set(t, [...(producers.get(t) ?? []), svc]);
    // Incidents are raised by whichever control detects them; every other topic has one owner.
    const shared: Record<string, string[]> = { [Topics.incidentRaised]: ['chain-adapter', 'ledger', 'policy'] };
    for (const t of ALL_TOPICS) expect([t, [...(producers.get(t) ?? [])].sort()]).toEqual([t, shared[t] ?? [producers.get(t)?.[0] ?? '(none)']]);
    for (const svc of SERVICES) for (const t of [...f[svc].produces, ...f[svc].consumes]) expect(ALL_TOPICS).toContain(t);
  });

  it('follows the withdrawal flow of ARCHITECTURE.md', () => {
    const consumes = (svc: (typeof SERVICES)[number], t: string): boolean => f[svc].consumes.includes(t);
    expect(consumes('risk', Topics.withdrawalRequested)).toBe(true);
    expect(consumes('policy', Topics.riskAssessed)).toBe(true);
    expect(consumes('chain-adapter', Topics.policyDecided)).toBe(true);
    expect(consumes('signer', Topics.txPrepared)).toBe(true);
    expect(consumes('chain-adapter', Topics.txSigned)).toBe(true);
    expect(consumes('ledger', Topics.txStatus) && consumes('intake', Topics.txStatus)).toBe(true);
    for (const t of ALL_TOPICS.filter((t) => t !== Topics.auditRecorded)) expect(consumes('audit', t)).toBe(true);
  });

  it.each(SERVICES.map((s) => [s]))('%s: Write exactly on what it produces and its DLQs, Read exactly on what it consumes', (svc) => {
    const flow = f[svc];
    const dlqRead = flow.readsDeadLetters ? ALL_TOPICS.filter((t) => [...SERVICES].some((s) => f[s].produces.includes(t))).map(deadLetterTopic) : [];
    expect(topicsWith(svc, 'Write')).toEqual([...flow.produces, ...flow.consumes.map(deadLetterTopic)].sort());
    expect(topicsWith(svc, 'Read')).toEqual([...flow.consumes, ...dlqRead].sort());
    for (const acl of aclsOf(svc)) {
      expect(acl.resource.patternType).toBe('literal');
      expect(acl.resource.name).not.toContain('*');
      for (const op of acl.operations) expect(['Read', 'Write', 'Describe']).toContain(op);
      expect(['topic', 'group']).toContain(acl.resource.type);
    }
    const groups = aclsOf(svc).filter((a) => a.resource.type === 'group');
    expect(groups.map((g) => [g.resource.name, g.operations])).toEqual((flow.consumerGroups ?? []).map((g) => [g, ['Read']])); // = the code's groups: consumer-groups.spec.ts
  });

  it('the signer may only read tx.prepared and write tx.signed, tx.refused, key.lifecycle (+ its DLQ)', () => {
    expect(topicsWith('signer', 'Read')).toEqual([Topics.txPrepared]);
    expect(topicsWith('signer', 'Write')).toEqual([Topics.keyLifecycle, deadLetterTopic(Topics.txPrepared), Topics.txRefused, Topics.txSigned].sort());
  });

  it('chain-adapter reads no maintenance.scheduled: no code of it subscribes to that topic (a subscription needs the flow first)', () => {
    expect(topicsWith('chain-adapter', 'Read')).not.toContain(Topics.maintenanceScheduled);
    expect(topicsWith('chain-adapter', 'Write')).not.toContain(deadLetterTopic(Topics.maintenanceScheduled));
    const walk = (dir: string): string[] =>
      readdirSync(dir, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? walk(join(dir, e.name)) : e.name.endsWith('.ts') && !e.name.endsWith('.spec.ts') ? [join(dir, e.name)] : []));
    const sources = walk(join(ROOT, 'services/chain-adapter/src')).map((p) => readFileSync(p, 'utf8'));
    expect(sources.length).toBeGreaterThan(5);
    expect(sources.some((t) => t.includes('Topics.keyLifecycle'))).toBe(true); // the scan sees the subscriptions it should
    expect(sources.filter((t) => t.includes('Topics.maintenanceScheduled') || t.includes("'custody.maintenance.scheduled.v1'"))).toEqual([]);
  });

  it('pods authenticate as their own principal; every topic and DLQ exists as a KafkaTopic (services cannot create topics)', () => {
    for (const svc of SERVICES) {
      const w = manifests.find((m) => (m.kind === 'Deployment' || m.kind === 'StatefulSet') && m.metadata.name === `custody-${svc}`)!;
      const vol = (w.spec.template.spec.volumes as { name: string; secret?: { secretName: string } }[]).find((v) => v.name === 'kafka-user');
      expect(vol?.secret?.secretName).toBe(`custody-${svc}`);
    }
    const topics = byKind(manifests, 'KafkaTopic').map((t) => t.spec.topicName as string).sort();
    expect(topics).toEqual([...ALL_TOPICS, ...ALL_TOPICS.map(deadLetterTopic)].sort());
    expect(one(manifests, 'KafkaTopic', 'custody-audit-recorded-v1').spec.partitions).toBe(1);
  });
});

describe('Vault: one policy and one Kubernetes-auth role per service, only its paths', () => {
  const policy = (svc: string): string => readFileSync(join(ROOT, 'deploy/vault/policies', `${svc}.hcl`), 'utf8');
  const paths = (svc: string): string[] => [...policy(svc).matchAll(/^path "([^"]+)"/gm)].map((m) => m[1]!);
  const TRANSIT_KEYS: Record<string, RegExp> = { signer: /^(signer-\*|policy-decision)$/, policy: /^policy-decision(\/\*)?$/, audit: /^audit-log(\/\*)?$/ };

  it.each(SERVICES.map((s) => [s]))('%s: KV under its own prefix, transit only on its keys, no export/admin/sudo/delete', (svc) => {
    const ps = paths(svc);
    expect(ps.length).toBeGreaterThan(0);
    for (const p of ps) {
      const kv = /^custody-kv\/(data|metadata)\/([^/]+)\/\*$/.exec(p);
      const transit = /^custody-transit\/(encrypt|decrypt|sign|verify|keys)\/(.+)$/.exec(p);
      if (kv) expect(kv[2]).toBe(svc);
      else if (transit) expect(transit[2]).toMatch(TRANSIT_KEYS[svc] ?? /^$/);
      else throw new Error(`${svc}: unexpected path ${p}`);
    }
    const text = policy(svc).replace(/^\s*#.*$/gm, '');
    expect(text).not.toMatch(/\b(sudo|delete|deny)\b/);
    expect(text).not.toMatch(/export|backup|restore|sys\/|auth\//);
  });

  it('only the signer may decrypt with a wrapping key; keys are read-only (no create/update on transit/keys)', () => {
    for (const svc of SERVICES) expect(/custody-transit\/decrypt/.test(policy(svc))).toBe(svc === 'signer');
    for (const svc of SERVICES) {
      for (const m of policy(svc).matchAll(/path "custody-transit\/keys\/[^"]+" \{\s*capabilities = \[([^\]]*)\]/g)) expect(m[1]!.trim()).toBe('"read"');
    }
  });

  it.each(SERVICES.map((s) => [s]))('%s: the role binds only its ServiceAccount, its policy and the chart\'s token audience', (svc) => {
    const role = JSON.parse(readFileSync(join(ROOT, 'deploy/vault/roles', `${svc}.json`), 'utf8')) as Record<string, unknown>;
    expect(role.bound_service_account_names).toEqual([`custody-${svc}`]);
    expect(role.token_policies).toEqual([`custody-${svc}`]);
    expect(role.token_no_default_policy).toBe(true);
    expect(role.audience).toBe('vault');
    const w = manifests.find((m) => (m.kind === 'Deployment' || m.kind === 'StatefulSet') && m.metadata.name === `custody-${svc}`)!;
    const spec = w.spec.template.spec;
    expect(spec.serviceAccountName).toBe(`custody-${svc}`);
    const e = Object.fromEntries((spec.containers[0].env as { name: string; value?: string }[]).map((x) => [x.name, x.value]));
    if (e.CUSTODY_VAULT_ROLE !== undefined) expect(e.CUSTODY_VAULT_ROLE).toBe(`custody-${svc}`);
  });

  it('Vault is enabled exactly for the services holding signing or wrapping keys (signer, policy, audit)', () => {
    const withVault = SERVICES.filter((svc) => {
      const w = manifests.find((m) => (m.kind === 'Deployment' || m.kind === 'StatefulSet') && m.metadata.name === `custody-${svc}`)!;
      return (w.spec.template.spec.containers[0].env as { name: string }[]).some((x) => x.name === 'CUSTODY_VAULT_ADDR');
    });
    expect(withVault).toEqual(['policy', 'signer', 'audit']);
  });
});

describe('PostgreSQL: one schema, an owner role for migrations and an app role at run time', () => {
  it('provisions through libs/platform provisionServiceDatabase (not a copy of its SQL), before migrations', () => {
    const script = one(manifests, 'ConfigMap', 'custody-db-provision').data!['db-provision.mjs']!;
    expect(script).toMatch(/import \{ provisionServiceDatabase \} from '\/app\/libs\/platform\/dist\/database-provision\.js'/);
    for (const svc of SERVICES) {
      const prov = one(manifests, 'Job', `custody-${svc}-db-provision`);
      const mig = one(manifests, 'Job', `custody-${svc}-db-migrate`);
      expect(Number(prov.metadata.annotations!['helm.sh/hook-weight'])).toBeLessThan(Number(mig.metadata.annotations!['helm.sh/hook-weight']));
      expect(mig.spec.template.spec.containers[0].args).toEqual([`services/${svc}/dist/migrate.js`]);
    }
  });
});
