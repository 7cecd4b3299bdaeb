import { describe, expect, it } from '@jest/globals';
import { PendingApproval } from '@custody/contracts';
import { formatPendingDetail, formatPendingTable, pendingToJson } from './format.js';
import { pendingOf } from '../../test/fixtures.js';

describe('pending approval output', () => {
  const p = PendingApproval.fromPartial({ ...pendingOf(), approvals: [{ operatorId: 'op-alice', role: 'compliance', approvedAt: { seconds: '1748858400', nanos: 0 } }] });

  it('JSON: amounts as decimal strings of base units, times ISO-8601, payload hex and whether it matches', () => {
    const j = pendingToJson(p);
    expect(j).toMatchObject({
      withdrawalId: 'wd-1',
      amount: '150000000',
      quorum: 2,
      roles: ['compliance', 'treasury'],
      approvals: [{ operatorId: 'op-alice', role: 'compliance', approvedAt: '2025-06-02T10:00:00.000Z' }],
      expiresAt: '2025-06-02T14:00:00.000Z',
      approvePayloadMatches: true,
    });
    expect(j.approvePayload).toBe(Buffer.from(p.approvePayload).toString('hex'));
    expect(JSON.parse(JSON.stringify(j))).toEqual(j);
    expect(pendingToJson({ ...p, amount: '2' }).approvePayloadMatches).toBe(false);
  });

  it('table: one line per decision with votes/quorum, and a count', () => {
    const text = formatPendingTable([p]);
    const [header, row, count] = text.split('\n');
    expect(header).toMatch(/^DECISION\s+WITHDRAWAL\s+ASSET\s+AMOUNT \(base units\)\s+VOTES\s+EXPIRES\s+REASONS$/);
    expect(row).toContain('150000000');
    expect(row).toContain('1/2 compliance+treasury');
    expect(count).toBe('1 pending');
    expect(formatPendingTable([])).toBe('no pending approvals');
  });

  it('detail: everything signed, and a warning when the payload does not match', () => {
    expect(formatPendingDetail(p)).toContain('signed payload   matches the fields above');
    expect(formatPendingDetail(p)).toContain('destination tag  (none)');
    expect(formatPendingDetail({ ...p, destinationAddress: 'bc1qother' })).toContain('DOES NOT MATCH the fields above: do not sign');
  });
});
