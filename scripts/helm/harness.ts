// Helpers for the chart tests: locate helm/promtool (installed by scripts/infra/helm.sh and
// promtool.sh into .local/bin), render the chart, parse the manifests.
import { spawnSync } from 'node:child_process';
import { accessSync, constants, existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse, parseAllDocuments } from 'yaml';

export const ROOT = process.cwd();
export const CHART = join(ROOT, 'helm/custody');
export const CI_VALUES = join(CHART, 'ci/test-values.yaml');
export const NAMESPACE = 'custody';
export const SERVICES = ['intake', 'risk', 'policy', 'signer', 'chain-adapter', 'ledger', 'audit'] as const;
export type ServiceName = (typeof SERVICES)[number];

if (!existsSync(join(CHART, 'Chart.yaml'))) throw new Error(`run the tests from the repository root (no chart at ${CHART})`);

/** Absolute path of a tool in .local/bin; throws (the test fails) with how to install it. */
export function tool(name: 'helm' | 'promtool'): string {
  const path = join(ROOT, '.local/bin', name);
  try {
    accessSync(path, constants.X_OK);
  } catch {
    throw new Error(`${name} not found at ${path}: run \`bash scripts/infra/${name}.sh\` (go install from the Go module proxy)`);
  }
  return path;
}

export interface RunResult {
  readonly status: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

export function run(cmd: string, args: readonly string[], cwd = ROOT): RunResult {
  const r = spawnSync(cmd, args, { cwd, encoding: 'utf8', timeout: 60_000, maxBuffer: 64 * 1024 * 1024 });
  if (r.error) throw r.error;
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

export function helm(args: readonly string[]): RunResult {
  return run(tool('helm'), args);
}

/** `helm template` with the test values plus extra flags; returns the raw result. */
export function template(extra: readonly string[] = [], { ciValues = true } = {}): RunResult {
  return helm(['template', 'custody', CHART, '--namespace', NAMESPACE, ...(ciValues ? ['-f', CI_VALUES] : []), ...extra]);
}

export interface Manifest {
  readonly apiVersion: string;
  readonly kind: string;
  readonly metadata: { readonly name: string; readonly namespace?: string; readonly labels?: Record<string, string>; readonly annotations?: Record<string, string> };
  readonly spec?: any; // eslint-disable-line @typescript-eslint/no-explicit-any
  readonly data?: Record<string, string>;
  readonly [key: string]: unknown;
}

export function parseManifests(text: string): Manifest[] {
  const docs = parseAllDocuments(text);
  for (const d of docs) if (d.errors.length > 0) throw new Error(`invalid YAML rendered: ${d.errors[0]?.message}`);
  return docs.map((d) => d.toJS() as Manifest | null).filter((m): m is Manifest => m !== null);
}

/** Renders with the test values and fails loudly if helm does. */
export function render(extra: readonly string[] = []): Manifest[] {
  const r = template(extra);
  if (r.status !== 0) throw new Error(`helm template failed (${r.status}): ${r.stderr}`);
  return parseManifests(r.stdout);
}

export function component(m: Manifest): string | undefined {
  return m.metadata.labels?.['app.kubernetes.io/component'];
}

export function byKind(ms: readonly Manifest[], kind: string): Manifest[] {
  return ms.filter((m) => m.kind === kind);
}

export function one(ms: readonly Manifest[], kind: string, name: string): Manifest {
  const found = ms.filter((m) => m.kind === kind && m.metadata.name === name);
  if (found.length !== 1) throw new Error(`expected one ${kind}/${name}, found ${found.length}`);
  return found[0]!;
}

export interface Flow {
  readonly produces: string[];
  readonly consumes: string[];
  /** Kafka consumer group ids the service's code joins (services/<svc>/src/consumer-groups.ts). */
  readonly consumerGroups?: string[];
  readonly readsDeadLetters?: boolean;
  readonly calls: string[];
  readonly egress: string[];
  readonly externalIngress: boolean;
  readonly operatorIngress: boolean;
}

export function flows(): Record<ServiceName, Flow> {
  return (parse(readFileSync(join(CHART, 'files/flows.yaml'), 'utf8')) as { services: Record<ServiceName, Flow> }).services;
}

export function readRepoFile(path: string): string {
  return readFileSync(join(ROOT, path), 'utf8');
}

const PROMQL_WORDS = new Set(['sum', 'max', 'min', 'by', 'on', 'or', 'and', 'unless', 'rate', 'increase', 'time', 'absent', 'without', 'ignoring', 'bool']);
/** Metric names used by a PromQL expression (identifiers followed by { or ( or a space that are not functions/keywords/labels). */
export function metricNames(expr: string): string[] {
  const noStrings = expr.replace(/"[^"]*"/g, '""').replace(/\{[^}]*\}/g, '{}').replace(/\([a-z_, ]*\)/g, '()');
  const names = noStrings.match(/\b[a-z_][a-z0-9_]*\b(?=\s*(\{|\[|\)|$|\s))/g) ?? [];
  return [...new Set(names.filter((n) => !PROMQL_WORDS.has(n) && /_/.test(n)))];
}
