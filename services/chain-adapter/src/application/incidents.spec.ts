// custody.incident.raised.v1 built from a chain incident: stable id, severity, evidence.
import { describe, expect, it } from '@jest/globals';
import { IncidentSeverity } from '@custody/contracts';
import { incidentEvent, incidentIdOf } from './incidents.js';
import type { IncidentRow } from './store.js';

const row: IncidentRow = { chain: 'anvil', asset: 'ETH', kind: 'REORG_BEYOND_FINALITY', detail: 'deposit d credited at block 7 was removed by a 4-block reorg', wallet: '0xabc', txHash: '0x01', evidence: { depositId: 'd', amount: '5' } };

describe('chain incidents as custody.incident.raised.v1', () => {
  it('the incident id is stable for the same finding and differs for another one', () => {
    expect(incidentIdOf(row)).toBe(incidentIdOf({ ...row, evidence: {} }));
    expect(incidentIdOf(row)).toMatch(/^chain-adapter:anvil:REORG_BEYOND_FINALITY:[0-9a-f]{32}$/);
    expect(incidentIdOf({ ...row, detail: 'deposit d credited at block 8 was removed by a 4-block reorg' })).not.toBe(incidentIdOf(row));
    expect(incidentIdOf({ ...row, incidentId: 'given' })).toBe('given');
  });

  it('carries source, kind, severity, chain, asset, wallet, detail and JSON evidence (strings only)', () => {
    const e = incidentEvent(row, new Date('2026-01-01T00:00:00Z'));
    if (e.type !== 'incident.raised') throw new Error(e.type);
    expect(e.message).toMatchObject({ incidentId: incidentIdOf(row), source: 'chain-adapter', kind: 'REORG_BEYOND_FINALITY', severity: IncidentSeverity.INCIDENT_SEVERITY_CRITICAL, chain: 'anvil', asset: 'ETH', wallet: '0xabc', detail: row.detail });
    expect(JSON.parse(e.message.evidenceJson)).toEqual({ depositId: 'd', amount: '5', kind: 'REORG_BEYOND_FINALITY', chain: 'anvil', wallet: '0xabc', txHash: '0x01' });
    expect(e.correlationId).toBe(e.message.incidentId);
    const refused = incidentEvent({ ...row, kind: 'SIGNED_TX_MISMATCH' }, new Date());
    expect(refused.type === 'incident.raised' && refused.message.severity).toBe(IncidentSeverity.INCIDENT_SEVERITY_WARNING);
  });
});
