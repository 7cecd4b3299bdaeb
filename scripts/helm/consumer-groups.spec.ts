// Kafka consumer groups: each service's KafkaUser may Read exactly the consumer groups the
// service joins, as literal names. The groups are defined once, by the services
// (services/<svc>/src/consumer-groups.ts, the default group id of <svc>.module.ts, exported
// from the package); files/flows.yaml lists them per service (`consumerGroups`) and
// templates/kafka-users.yaml grants Read on those. This spec fails when the two differ, when a
// module goes back to a group literal of its own, or when the code joins a group the constant
// does not name. Needs .local/bin/helm.
//
// The constants are imported from their own small files (no service wiring is loaded); scripts/
// is not a workspace project, so the Nx boundary rule (services <-> libs) does not apply here.
import { describe, expect, it } from '@jest/globals';
import { cpSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { parse, stringify } from 'yaml';
import { AUDIT_CONSUMER_GROUPS } from '../../services/audit/src/consumer-groups.js';
import { CHAIN_ADAPTER_CONSUMER_GROUPS } from '../../services/chain-adapter/src/consumer-groups.js';
import { INTAKE_CONSUMER_GROUPS } from '../../services/intake/src/consumer-groups.js';
import { LEDGER_CONSUMER_GROUPS } from '../../services/ledger/src/consumer-groups.js';
import { POLICY_CONSUMER_GROUPS } from '../../services/policy/src/consumer-groups.js';
import { RISK_CONSUMER_GROUPS } from '../../services/risk/src/consumer-groups.js';
import { SIGNER_CONSUMER_GROUPS } from '../../services/signer/src/consumer-groups.js';
import { CHART, CI_VALUES, NAMESPACE, ROOT, SERVICES, flows, helm, one, parseManifests, render, type ServiceName } from './harness.js';

/** The services' own constants, by service, with the name each module must use. */
const CODE: Readonly<Record<ServiceName, { readonly name: string; readonly groups: readonly string[] }>> = {
  intake: { name: 'INTAKE_CONSUMER_GROUPS', groups: INTAKE_CONSUMER_GROUPS },
  risk: { name: 'RISK_CONSUMER_GROUPS', groups: RISK_CONSUMER_GROUPS },
  policy: { name: 'POLICY_CONSUMER_GROUPS', groups: POLICY_CONSUMER_GROUPS },
  signer: { name: 'SIGNER_CONSUMER_GROUPS', groups: SIGNER_CONSUMER_GROUPS },
  'chain-adapter': { name: 'CHAIN_ADAPTER_CONSUMER_GROUPS', groups: CHAIN_ADAPTER_CONSUMER_GROUPS },
  ledger: { name: 'LEDGER_CONSUMER_GROUPS', groups: LEDGER_CONSUMER_GROUPS },
  audit: { name: 'AUDIT_CONSUMER_GROUPS', groups: AUDIT_CONSUMER_GROUPS },
};

interface Acl {
  resource: { type: string; name: string; patternType: string };
  operations: string[];
}
const groupAcls = (text: string, svc: string): Acl[] =>
  (one(parseManifests(text), 'KafkaUser', `custody-${svc}`).spec.authorization.acls as Acl[]).filter((a) => a.resource.type === 'group');

const manifests = render();
const renderedGroupAcls = (svc: string): Acl[] =>
  (one(manifests, 'KafkaUser', `custody-${svc}`).spec.authorization.acls as Acl[]).filter((a) => a.resource.type === 'group');
const flowGroups = (svc: ServiceName): string[] => flows()[svc].consumerGroups ?? [];

/** Non-test TypeScript under services/<svc>/src. */
function sources(svc: string): { path: string; text: string }[] {
  const walk = (dir: string): string[] =>
    readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
      e.isDirectory() ? walk(join(dir, e.name)) : e.name.endsWith('.ts') && !e.name.endsWith('.spec.ts') && !e.name.endsWith('.d.ts') ? [join(dir, e.name)] : [],
    );
  return walk(join(ROOT, 'services', svc, 'src')).map((p) => ({ path: relative(ROOT, p), text: readFileSync(p, 'utf8') }));
}
/** Group ids written as literals in the code: `groupId: 'x'`, `consumerGroupId ?? 'x'`, `GROUP_DEFAULT = 'x'`, … */
const literalGroups = (text: string): string[] => [...text.matchAll(/\b\w*group\w*\s*(?::\s*string\s*)?(?:\?\?|=|:)\s*'([^']+)'/gi)].map((m) => m[1]!);
/** Groups derived from the main one in a template literal: `${o.groupId}.wallets` → '.wallets'. */
const derivedSuffixes = (text: string): string[] => [...text.matchAll(/`\$\{\s*[\w.]*group(?:Id)?\s*\}([.\w-]+)`/gi)].map((m) => m[1]!);

describe('Kafka consumer groups: the KafkaUser of each service reads exactly the groups its code joins', () => {
  it('reads the constants, the flows and the rendered KafkaUsers (sanity: the source scanners find what they look for)', () => {
    for (const svc of SERVICES) expect([svc, CODE[svc].groups.length > 0]).toEqual([svc, true]);
    expect(CHAIN_ADAPTER_CONSUMER_GROUPS).toEqual(['chain-adapter', 'chain-adapter.wallets', 'chain-adapter.bitcoin', 'chain-adapter.bitcoin.wallets']);
    expect(literalGroups("deps.consumerGroupId ?? 'ledger.postings'; const INBOX_GROUP_DEFAULT = 'signer.tx-prepared'; groupId: 'x'")).toEqual(['ledger.postings', 'signer.tx-prepared', 'x']);
    expect(derivedSuffixes('const walletsGroup = `${o.groupId}.wallets`;')).toEqual(['.wallets']);
  });

  it.each(SERVICES.map((s) => [s]))('%s: Read on exactly its code\'s consumer groups, literal names, Read only', (svc) => {
    const acls = renderedGroupAcls(svc);
    expect({ svc, acl: acls.map((a) => a.resource.name).sort() }).toEqual({ svc, acl: [...CODE[svc].groups].sort() });
    expect({ svc, flows: [...flowGroups(svc)].sort() }).toEqual({ svc, flows: [...CODE[svc].groups].sort() });
    for (const a of acls) {
      expect(a.resource.patternType).toBe('literal');
      expect(a.resource.name).not.toMatch(/[*?]/);
      expect(a.operations).toEqual(['Read']);
    }
  });

  it('no two services share a consumer group (a shared group would split one service\'s events with another)', () => {
    const all = SERVICES.flatMap((s) => CODE[s].groups);
    expect(new Set(all).size).toBe(all.length);
  });

  it.each(SERVICES.map((s) => [s]))('%s: the module\'s default group id is the exported constant, and the code joins no group the constant does not name', (svc) => {
    const files = sources(svc);
    const mod = files.find((f) => f.path === `services/${svc}/src/${svc}.module.ts`)!;
    expect(mod.text).toContain(CODE[svc].name);
    expect({ svc, literalsInModule: literalGroups(mod.text) }).toEqual({ svc, literalsInModule: [] });
    const index = files.find((f) => f.path === `services/${svc}/src/index.ts`)!;
    expect(index.text).toMatch(new RegExp(`export \\{[^}]*\\b${CODE[svc].name}\\b[^}]*\\} from '\\./consumer-groups\\.js'`));
    const [main] = CODE[svc].groups;
    const joined = new Set<string>([main!]);
    for (const f of files) {
      for (const g of literalGroups(f.text)) joined.add(g);
      for (const s of derivedSuffixes(f.text)) joined.add(`${main!}${s}`);
    }
    expect({ svc, joined: [...joined].sort() }).toEqual({ svc, joined: [...CODE[svc].groups].sort() });
  });

  it.each(SERVICES.map((s) => [s]))('%s: the group the pod runs with is the default (no override from main.ts), or the chart passes one the ACLs allow', (svc) => {
    const config = readFileSync(join(ROOT, 'services', svc, 'src/config.ts'), 'utf8');
    const mainTs = readFileSync(join(ROOT, 'services', svc, 'src/main.ts'), 'utf8');
    const w = manifests.find((m) => (m.kind === 'Deployment' || m.kind === 'StatefulSet') && m.metadata.name === `custody-${svc}`)!;
    const env = Object.fromEntries((w.spec.template.spec.containers[0].env as { name: string; value?: string }[]).map((e) => [e.name, e.value]));
    if (config.includes('CUSTODY_KAFKA_GROUP_ID')) {
      expect({ svc, env: env.CUSTODY_KAFKA_GROUP_ID }).toEqual({ svc, env: CODE[svc].groups[0] });
    } else {
      expect({ svc, override: /consumerGroup(Id)?\s*:/.test(mainTs) }).toEqual({ svc, override: false });
      // and the chart sets no group variable nobody reads (it would suggest a knob that does nothing)
      expect({ svc, env: env.CUSTODY_KAFKA_GROUP_ID }).toEqual({ svc, env: undefined });
    }
  });
});

describe('kafka-users.yaml fails closed on the consumer groups of files/flows.yaml', () => {
  /** Renders a copy of the chart whose flows.yaml was changed by `edit`. */
  function renderWithFlows(edit: (services: Record<string, Record<string, unknown>>) => void): { status: number | null; stdout: string; stderr: string } {
    const dir = mkdtempSync(join(tmpdir(), 'custody-chart-'));
    try {
      const chart = join(dir, 'custody');
      cpSync(CHART, chart, { recursive: true });
      const file = join(chart, 'files/flows.yaml');
      const doc = parse(readFileSync(file, 'utf8')) as { services: Record<string, Record<string, unknown>> };
      edit(doc.services);
      writeFileSync(file, stringify(doc));
      return helm(['template', 'custody', chart, '--namespace', NAMESPACE, '-f', CI_VALUES]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }

  it('an unchanged copy renders the same groups (the harness itself is sound)', () => {
    const r = renderWithFlows(() => undefined);
    expect(r.status).toBe(0);
    expect(groupAcls(r.stdout, 'ledger').map((a) => a.resource.name)).toEqual([...LEDGER_CONSUMER_GROUPS]);
  });

  it('refuses a consuming service without consumerGroups', () => {
    const r = renderWithFlows((s) => delete s.ledger!.consumerGroups);
    expect(r.status).not.toBe(0);
    expect(r.stderr).toMatch(/ledger consumes topics but files\/flows\.yaml names no consumerGroups/);
  });

  it('refuses a wildcard or prefix-like group name', () => {
    const r = renderWithFlows((s) => (s.ledger!.consumerGroups = ['ledger.*']));
    expect(r.status).not.toBe(0);
    expect(r.stderr).toMatch(/consumer group "ledger\.\*" of ledger must be a literal name/);
  });
});
