import { describe, it, expect } from '@jest/globals';
import { Topics } from '@custody/contracts';
import { createBusMetrics } from './bus-metrics.js';
import { createMetrics } from './metrics.js';
import { sampleValue } from '../test/fixtures/prometheus.js';

describe('createBusMetrics', () => {
  it('counts consumed messages by topic, group and outcome, starting at zero', async () => {
    const registry = createMetrics('policy');
    const hooks = createBusMetrics(registry, { groups: ['policy.decide'] });
    const series = { topic: Topics.riskAssessed, group: 'policy.decide', service: 'policy' };
    let text = await registry.metrics();
    expect(sampleValue(text, 'custody_bus_consumed_total', { ...series, outcome: 'ok' })).toBe(0);
    hooks.consumed?.(Topics.riskAssessed, 'policy.decide', 'ok');
    hooks.consumed?.(Topics.riskAssessed, 'policy.decide', 'ok');
    hooks.consumed?.(Topics.riskAssessed, 'policy.decide', 'error');
    text = await registry.metrics();
    expect(sampleValue(text, 'custody_bus_consumed_total', { ...series, outcome: 'ok' })).toBe(2);
    expect(sampleValue(text, 'custody_bus_consumed_total', { ...series, outcome: 'error' })).toBe(1);
  });

  it('counts dead letters by topic, group and code', async () => {
    const registry = createMetrics('risk');
    const hooks = createBusMetrics(registry, { groups: ['risk'] });
    hooks.deadLettered?.(Topics.withdrawalRequested, 'risk', 'DECODE_FAILED');
    const text = await registry.metrics();
    const series = { topic: Topics.withdrawalRequested, group: 'risk', service: 'risk' };
    expect(sampleValue(text, 'custody_bus_dead_letters_total', { ...series, code: 'DECODE_FAILED' })).toBe(1);
    expect(sampleValue(text, 'custody_bus_dead_letters_total', { ...series, code: 'RETRIES_EXHAUSTED' })).toBe(0);
  });

  it('records an undeclared topic or group as "other", never the raw value', async () => {
    const registry = createMetrics('ledger');
    const hooks = createBusMetrics(registry, { topics: ['t.a.v1'], groups: ['g'] });
    hooks.consumed?.('wallet-42.secret.v1', 'g-123', 'ok');
    const text = await registry.metrics();
    expect(sampleValue(text, 'custody_bus_consumed_total', { topic: 'other', group: 'other', outcome: 'ok', service: 'ledger' })).toBe(1);
    expect(text).not.toContain('wallet-42');
    expect(text).not.toContain('g-123');
  });

  it('sets the oldest pending outbox age from each relay poll', async () => {
    const registry = createMetrics('signer');
    const hooks = createBusMetrics(registry);
    hooks.relayLag?.(12.5, 3);
    expect(sampleValue(await registry.metrics(), 'custody_bus_outbox_oldest_pending_seconds', { service: 'signer' })).toBe(12.5);
    hooks.relayLag?.(0, 0);
    expect(sampleValue(await registry.metrics(), 'custody_bus_outbox_oldest_pending_seconds', { service: 'signer' })).toBe(0);
  });
});
