import { describe, expect, it } from '@jest/globals';
import { createMetrics } from '@custody/platform';
import { createSignerMetrics } from './metrics.js';

describe('signer metrics', () => {
  it('records latency by outcome and refusals by reason code', async () => {
    const registry = createMetrics('signer');
    const record = createSignerMetrics(registry);
    record({ kind: 'signed', seconds: 0.004 });
    record({ kind: 'refused', code: 'KEY_SUSPENDED', seconds: 0.002 });
    const text = await registry.metrics();
    expect(text).toMatch(/custody_signer_refusals_total\{reason="KEY_SUSPENDED",service="signer"\} 1/);
    expect(text).toMatch(/custody_signer_refusals_total\{reason="TOKEN_EXPIRED",service="signer"\} 0/);
    expect(text).toMatch(/custody_signer_request_duration_seconds_count\{service="signer",outcome="signed"\} 1/);
  });

  it('counts released signatures by configured chain; duplicates and refusals are not signatures; an unknown chain is "other"', async () => {
    const registry = createMetrics('signer');
    const record = createSignerMetrics(registry, ['ethereum', 'bitcoin']);
    record({ kind: 'signed', chain: 'ethereum', seconds: 0.004 });
    record({ kind: 'duplicate', chain: 'ethereum', seconds: 0.001 });
    record({ kind: 'refused', code: 'KEY_SUSPENDED', chain: 'ethereum', seconds: 0.001 });
    record({ kind: 'signed', chain: 'made-up-chain-42', seconds: 0.004 });
    const text = await registry.metrics();
    expect(text).toMatch(/custody_signer_signatures_total\{chain="ethereum",service="signer"\} 1\n/);
    expect(text).toMatch(/custody_signer_signatures_total\{chain="bitcoin",service="signer"\} 0\n/);
    expect(text).toMatch(/custody_signer_signatures_total\{chain="other",service="signer"\} 1\n/);
    expect(text).not.toContain('made-up-chain-42');
  });
});
