import { describe, it, expect } from '@jest/globals';
import { createCounter, createGauge, createHistogram, createMetrics } from './metrics.js';
import { sampleValue } from '../test/fixtures/prometheus.js';

describe('createMetrics', () => {
  it('has the default process metrics, all labelled with the service', async () => {
    const registry = createMetrics('policy');
    const text = await registry.metrics();
    expect(text).toMatch(/^process_cpu_user_seconds_total\{service="policy"\} \d/m);
    expect(text).toMatch(/^nodejs_eventloop_lag_seconds\{service="policy"\}/m);
    expect(text).toMatch(/^nodejs_heap_size_total_bytes\{service="policy"\}/m);
  });

  it('keeps registries of different services apart', async () => {
    const a = createMetrics('ledger');
    const b = createMetrics('audit');
    createCounter(a, { name: 'custody_ledger_postings_total', help: 'Postings.' }).inc({});
    expect(sampleValue(await a.metrics(), 'custody_ledger_postings_total', { service: 'ledger' })).toBe(1);
    expect(await b.metrics()).not.toContain('custody_ledger_postings_total');
  });

  it('rejects a bad service name', () => {
    expect(() => createMetrics('Chain Adapter')).toThrow(/kebab/);
  });
});

describe('bounded metrics', () => {
  it('counter: declared label values are recorded, all combinations start at zero', async () => {
    const registry = createMetrics('policy');
    const decisions = createCounter(registry, {
      name: 'custody_policy_decisions_total',
      help: 'Policy decisions by outcome.',
      labels: { outcome: ['allow', 'deny', 'hold'], mode: ['live', 'replay'] },
    });
    decisions.inc({ outcome: 'deny', mode: 'live' });
    decisions.inc({ outcome: 'deny', mode: 'live' }, 2);
    const text = await registry.metrics();
    expect(sampleValue(text, 'custody_policy_decisions_total', { outcome: 'deny', mode: 'live', service: 'policy' })).toBe(3);
    expect(sampleValue(text, 'custody_policy_decisions_total', { outcome: 'allow', mode: 'replay', service: 'policy' })).toBe(0);
  });

  it('counter: an undeclared value (an address, an id) is recorded as "other", never as itself', async () => {
    const registry = createMetrics('risk');
    const hits = createCounter(registry, { name: 'custody_risk_hits_total', help: 'Hits.', labels: { list: ['ofac', 'internal'] } });
    hits.inc({ list: '0xdeadbeef' as 'ofac' });
    const text = await registry.metrics();
    expect(sampleValue(text, 'custody_risk_hits_total', { list: 'other', service: 'risk' })).toBe(1);
    expect(text).not.toContain('0xdeadbeef');
  });

  it('histogram: observes and times in seconds', async () => {
    const registry = createMetrics('signer');
    const latency = createHistogram(registry, {
      name: 'custody_signer_sign_duration_seconds',
      help: 'Signing latency.',
      labels: { backend: ['pkcs11', 'vault', 'local'] },
      buckets: [0.01, 0.1, 1],
    });
    latency.observe({ backend: 'pkcs11' }, 0.05);
    const end = latency.startTimer({ backend: 'local' });
    const seconds = end();
    expect(seconds).toBeGreaterThanOrEqual(0);
    const text = await registry.metrics();
    const bucket = (le: string) => sampleValue(text, 'custody_signer_sign_duration_seconds_bucket', { le, backend: 'pkcs11', service: 'signer' });
    expect(bucket('0.01')).toBe(0);
    expect(bucket('0.1')).toBe(1);
    expect(sampleValue(text, 'custody_signer_sign_duration_seconds_count', { backend: 'local', service: 'signer' })).toBe(1);
    expect(sampleValue(text, 'custody_signer_sign_duration_seconds_count', { backend: 'vault', service: 'signer' })).toBeUndefined();
  });

  it('gauge: set, inc, dec', async () => {
    const registry = createMetrics('ledger');
    const drift = createGauge(registry, { name: 'custody_ledger_reconciliation_drift', help: 'Drift in base units.', labels: { asset: ['btc', 'eth'] } });
    drift.set({ asset: 'btc' }, 10);
    drift.inc({ asset: 'btc' }, 5);
    drift.dec({ asset: 'btc' });
    expect(sampleValue(await registry.metrics(), 'custody_ledger_reconciliation_drift', { asset: 'btc', service: 'ledger' })).toBe(14);
  });

  it('enforces naming and label rules', () => {
    const registry = createMetrics('intake');
    expect(() => createCounter(registry, { name: 'requests_total', help: 'x' })).toThrow(/must match/);
    expect(() => createCounter(registry, { name: 'custody_intake_requests', help: 'x' })).toThrow(/_total/);
    expect(() => createHistogram(registry, { name: 'custody_intake_latency_total', help: 'x' })).toThrow(/only counters/);
    expect(() => createCounter(registry, { name: 'custody_intake_a_total', help: 'x', labels: { service: ['a'] } })).toThrow(/reserved/);
    expect(() => createCounter(registry, { name: 'custody_intake_b_total', help: 'x', labels: { code: [] } })).toThrow(/1-64 values/);
    const tooMany = Array.from({ length: 65 }, (_, i) => `v${i}`);
    expect(() => createCounter(registry, { name: 'custody_intake_c_total', help: 'x', labels: { code: tooMany } })).toThrow(/1-64 values/);
  });
});
