// Prometheus metrics: one registry per service (default process metrics, `service` label
// on every series) and metric helpers whose label values are declared up front, so an
// address or an id can never become a label (unbounded cardinality).
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

/** Creates the service's registry with Node/process default metrics and `service="<name>"` on every series. */
export function createMetrics(service: string): Registry {
  if (!/^[a-z][a-z0-9-]*$/.test(service)) throw new TypeError(`service name must be lower-case kebab, got ${JSON.stringify(service)}`);
  const registry = new Registry();
  registry.setDefaultLabels({ service });
  collectDefaultMetrics({ register: registry });
  return registry;
}

/** Label name -> the complete list of values it may take. */
export type LabelSpec = Readonly<Record<string, readonly string[]>>;
export type LabelValuesOf<L extends LabelSpec> = { readonly [K in keyof L]: L[K][number] };

/** Value recorded when code passes a label value that was not declared. */
export const OTHER_LABEL_VALUE = 'other';

const METRIC_NAME = /^custody_[a-z][a-z0-9_]*[a-z0-9]$/;
const LABEL_NAME = /^[a-z][a-z0-9_]*$/;
const RESERVED_LABELS = new Set(['service', 'le', 'quantile']);
const MAX_VALUES_PER_LABEL = 64;
/** Series are pre-created at zero when the label combinations are at most this many. */
const MAX_PREINITIALISED_SERIES = 256;

export interface MetricSpec<L extends LabelSpec> {
  /** `custody_<area>_<what>[_unit]`; counters end in `_total`. */
  readonly name: string;
  readonly help: string;
  readonly labels?: L;
}

function validate(spec: MetricSpec<LabelSpec>, kind: 'counter' | 'gauge' | 'histogram'): string[] {
  if (!METRIC_NAME.test(spec.name)) throw new TypeError(`metric name must match ${METRIC_NAME}, got ${JSON.stringify(spec.name)}`);
  if (kind === 'counter' && !spec.name.endsWith('_total')) throw new TypeError(`counter name must end in _total, got ${JSON.stringify(spec.name)}`);
  if (kind !== 'counter' && spec.name.endsWith('_total')) throw new TypeError(`only counters end in _total, got ${JSON.stringify(spec.name)}`);
  const labels = spec.labels ?? {};
  for (const [label, values] of Object.entries(labels)) {
    if (!LABEL_NAME.test(label) || RESERVED_LABELS.has(label)) throw new TypeError(`invalid or reserved label name ${JSON.stringify(label)} on ${spec.name}`);
    if (values.length === 0 || values.length > MAX_VALUES_PER_LABEL) {
      throw new TypeError(`label ${label} on ${spec.name} must declare 1-${MAX_VALUES_PER_LABEL} values, got ${values.length}`);
    }
  }
  return Object.keys(labels);
}

function normaliser<L extends LabelSpec>(labels: L | undefined): (values: Partial<Record<string, string>> | undefined) => Record<string, string> {
  const allowed = new Map(Object.entries(labels ?? {}).map(([k, v]) => [k, new Set(v)]));
  return (values) => {
    const out: Record<string, string> = {};
    for (const [label, set] of allowed) {
      const value = values?.[label];
      out[label] = value !== undefined && set.has(value) ? value : OTHER_LABEL_VALUE;
    }
    return out;
  };
}

function combinations(labels: LabelSpec | undefined): Record<string, string>[] {
  let combos: Record<string, string>[] = [{}];
  for (const [label, values] of Object.entries(labels ?? {})) {
    if (combos.length * values.length > MAX_PREINITIALISED_SERIES) return [];
    combos = combos.flatMap((c) => values.map((v) => ({ ...c, [label]: v })));
  }
  return combos;
}

export interface BoundedCounter<L extends LabelSpec> {
  inc(labels: LabelValuesOf<L>, value?: number): void;
  readonly metric: Counter<string>;
}

export interface BoundedGauge<L extends LabelSpec> {
  set(labels: LabelValuesOf<L>, value: number): void;
  inc(labels: LabelValuesOf<L>, value?: number): void;
  dec(labels: LabelValuesOf<L>, value?: number): void;
  readonly metric: Gauge<string>;
}

export interface BoundedHistogram<L extends LabelSpec> {
  observe(labels: LabelValuesOf<L>, value: number): void;
  /** Starts a timer; the returned function records and returns the elapsed seconds. */
  startTimer(labels: LabelValuesOf<L>): () => number;
  readonly metric: Histogram<string>;
}

/** A counter whose label values are limited to the declared lists (others are recorded as "other"). */
export function createCounter<const L extends LabelSpec = Record<never, never>>(registry: Registry, spec: MetricSpec<L>): BoundedCounter<L> {
  const labelNames = validate(spec, 'counter');
  const metric = new Counter({ name: spec.name, help: spec.help, labelNames, registers: [registry] });
  for (const combo of combinations(spec.labels)) metric.inc(combo, 0);
  const norm = normaliser(spec.labels);
  return {
    metric,
    inc: (labels, value = 1) => metric.inc(norm(labels as Record<string, string>), value),
  };
}

export function createGauge<const L extends LabelSpec = Record<never, never>>(registry: Registry, spec: MetricSpec<L>): BoundedGauge<L> {
  const labelNames = validate(spec, 'gauge');
  const metric = new Gauge({ name: spec.name, help: spec.help, labelNames, registers: [registry] });
  const norm = normaliser(spec.labels);
  return {
    metric,
    set: (labels, value) => metric.set(norm(labels as Record<string, string>), value),
    inc: (labels, value = 1) => metric.inc(norm(labels as Record<string, string>), value),
    dec: (labels, value = 1) => metric.dec(norm(labels as Record<string, string>), value),
  };
}

export interface HistogramSpec<L extends LabelSpec> extends MetricSpec<L> {
  /** Upper bounds in the metric's base unit (seconds for durations); prom-client's defaults otherwise. */
  readonly buckets?: readonly number[];
}

export function createHistogram<const L extends LabelSpec = Record<never, never>>(registry: Registry, spec: HistogramSpec<L>): BoundedHistogram<L> {
  const labelNames = validate(spec, 'histogram');
  const metric = new Histogram({
    name: spec.name,
    help: spec.help,
    labelNames,
    registers: [registry],
    ...(spec.buckets ? { buckets: [...spec.buckets] } : {}),
  });
  const norm = normaliser(spec.labels);
  return {
    metric,
    observe: (labels, value) => metric.observe(norm(labels as Record<string, string>), value),
    startTimer: (labels) => metric.startTimer(norm(labels as Record<string, string>)),
  };
}
