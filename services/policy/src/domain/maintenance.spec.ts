import { describe, expect, it } from '@jest/globals';
import { latestPerWindow, maintenanceWindowsInput, supersedes, type MaintenanceRecord } from './maintenance.js';
import { buildPolicyInput, withApprovals } from './policy-input.js';

const at = (iso: string): Date => new Date(iso);

function record(over: Partial<MaintenanceRecord> = {}): MaintenanceRecord {
  return {
    maintenanceId: 'mnt-1',
    chains: [],
    assets: ['BTC'],
    startsAt: at('2025-08-01T00:00:00Z'),
    endsAt: at('2025-08-01T06:00:00Z'),
    withdrawalsSuspended: true,
    depositsDelayed: false,
    cancelled: false,
    cancelledAt: undefined,
    cancelledBy: '',
    announcedBy: 'op-alice',
    eventId: 'e-1',
    occurredAt: at('2025-07-28T00:00:00Z'),
    ...over,
  };
}

const announced = record();
const cancelled = record({ cancelled: true, cancelledAt: at('2025-07-30T00:00:00Z'), cancelledBy: 'op-bob', eventId: 'e-2', occurredAt: at('2025-07-30T00:00:00Z') });

describe('latest record per maintenance id (supersedes / latestPerWindow)', () => {
  it('the first record of a window is kept; a newer one replaces it', () => {
    expect(supersedes(announced, undefined)).toBe(true);
    expect(supersedes(cancelled, announced)).toBe(true);
  });

  it('an older record arriving late neither resurrects a cancelled window nor cancels a newer announcement', () => {
    expect(supersedes(announced, cancelled)).toBe(false);
    const reannounced = record({ endsAt: at('2025-08-01T08:00:00Z'), eventId: 'e-3', occurredAt: at('2025-07-31T00:00:00Z') });
    expect(supersedes(cancelled, reannounced)).toBe(false);
  });

  it('a redelivery (same time, same state) changes nothing; at the same time a cancellation is the later record', () => {
    expect(supersedes(announced, announced)).toBe(false);
    const sameTimeCancel = record({ cancelled: true, eventId: 'e-4' });
    expect(supersedes(sameTimeCancel, announced)).toBe(true);
    expect(supersedes(announced, sameTimeCancel)).toBe(false);
  });

  it('refuses to compare two different windows', () => {
    expect(() => supersedes(record({ maintenanceId: 'a' }), record({ maintenanceId: 'b' }))).toThrow(TypeError);
  });

  it('reduces any arrival order to the same latest state per id', () => {
    const other = record({ maintenanceId: 'mnt-2', assets: [], chains: ['ethereum-mainnet'], eventId: 'e-9' });
    for (const order of [
      [announced, cancelled, other],
      [cancelled, announced, other],
      [other, cancelled, announced, announced],
    ]) {
      const latest = latestPerWindow(order);
      expect([...latest.keys()].sort()).toEqual(['mnt-1', 'mnt-2']);
      expect(latest.get('mnt-1')?.eventId).toBe('e-2');
      expect(latest.get('mnt-1')?.cancelled).toBe(true);
      expect(latest.get('mnt-2')?.eventId).toBe('e-9');
    }
  });
});

describe('announced windows → input.maintenance_windows', () => {
  it('maps every field, sorted by id, canonical times (start rounded down, end up), cancelled ones marked', () => {
    const b = record({ maintenanceId: 'b', startsAt: at('2025-08-01T00:00:00.900Z'), endsAt: at('2025-08-01T06:00:00.100Z') });
    const a = record({ maintenanceId: 'a', assets: [], chains: ['ethereum-mainnet'], withdrawalsSuspended: false, cancelled: true });
    expect(maintenanceWindowsInput([b, a], at('2025-08-01T03:00:00Z'))).toEqual([
      { id: 'a', start: '2025-08-01T00:00:00Z', end: '2025-08-01T06:00:00Z', assets: [], chains: ['ethereum-mainnet'], withdrawals_suspended: false, cancelled: true },
      { id: 'b', start: '2025-08-01T00:00:00Z', end: '2025-08-01T06:00:01Z', assets: ['BTC'], chains: [], withdrawals_suspended: true, cancelled: false },
    ]);
  });

  it('leaves out windows that have ended', () => {
    expect(maintenanceWindowsInput([announced], at('2025-08-01T06:00:00Z'))).toEqual([]);
    expect(maintenanceWindowsInput([announced], at('2025-08-01T05:59:59Z'))).toHaveLength(1);
  });

  it('buildPolicyInput carries the windows and the chain; withApprovals replaces the windows with the current ones', () => {
    const windows = maintenanceWindowsInput([announced], at('2025-08-01T03:00:00Z'));
    const input = buildPolicyInput({
      request: {
        withdrawalId: 'wd-1',
        clientId: 'client-1',
        customerAccount: 'acct-1',
        asset: 'BTC',
        chain: 'bitcoin-mainnet',
        amount: 1000n,
        destinationAddress: 'bc1qx',
        destinationTag: '',
        requestedAt: at('2025-08-01T02:59:00Z'),
      },
      assessment: { withdrawalId: 'wd-1', assessmentId: 'as-1', verdict: 'ALLOW', score: 1, sanctionsHit: false, assessedAt: at('2025-08-01T02:59:30Z') },
      facts: {},
      rolling24hTotal: 1000n,
      now: at('2025-08-01T03:00:00Z'),
      approvals: [],
      maintenanceWindows: windows,
    });
    expect(input['chain']).toBe('bitcoin-mainnet');
    expect(input['maintenance_windows']).toEqual(windows);
    const later = withApprovals(input, [], at('2025-08-01T04:00:00Z'), []);
    expect(later['maintenance_windows']).toEqual([]);
    expect(later['now']).toBe('2025-08-01T04:00:00Z');
  });
});
