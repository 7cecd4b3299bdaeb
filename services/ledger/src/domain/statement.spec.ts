// Statement arithmetic (domain/statement.ts) and the use case's checks and paging
// (application/statements.ts) over a fake reader.
import { describe, expect, it } from '@jest/globals';
import fc from 'fast-check';
import { LedgerStatements, type StatementReader, type StatementSlice, type StatementSliceQuery } from '../application/statements.js';
import { StatementInconsistentError, checkAsset, checkPeriod, statementPage, type JournalLineRow, type StatementBalance } from './statement.js';

const Z: StatementBalance = { available: 0n, held: 0n };
const day = 24 * 60 * 60 * 1000;
const t0 = new Date('2026-01-01T00:00:00.000Z');
const line = (sequence: bigint, lineNo: number, bucket: 'available' | 'held', amount: bigint): JournalLineRow => ({
  sequence,
  lineNo,
  entryId: `e${sequence}`,
  kind: 'HOLD',
  causeEventId: `ev${sequence}`,
  referenceId: `w${sequence}`,
  correlationId: 'c',
  bookedAt: t0,
  bucket,
  amount,
});

describe('customer statement arithmetic', () => {
  it('running balances follow the lines (customer view = -journal amount) and opening + lines = closing', () => {
    // opening 100 available; hold 30 (available -30, held +30)
    const page = statementPage({ opening: { available: 100n, held: 0n }, closing: { available: 70n, held: 30n }, before: Z, after: Z, lines: [line(5n, 1, 'available', 30n), line(5n, 2, 'held', -30n)] });
    expect(page.lines.map((l) => [l.amount, l.balanceAfter])).toEqual([
      [-30n, { available: 70n, held: 0n }],
      [30n, { available: 70n, held: 30n }],
    ]);
    expect(page.pageClosing).toEqual({ available: 70n, held: 30n });
  });

  it('any mismatch between opening + lines and closing is an internal error, never a statement', () => {
    fc.assert(
      fc.property(fc.bigInt({ min: 0n, max: 10n ** 20n }), fc.bigInt({ min: 1n, max: 10n ** 20n }), fc.bigInt({ min: -5n, max: 5n }), (open, amt, skew) => {
        const lines = [line(1n, 1, 'available', -amt)];
        const closing = { available: open + amt + skew, held: 0n };
        const run = () => statementPage({ opening: { available: open, held: 0n }, closing, before: Z, after: Z, lines });
        if (skew === 0n) expect(run().pageClosing).toEqual(closing);
        else expect(run).toThrow(StatementInconsistentError);
      }),
    );
    expect(() => statementPage({ opening: Z, closing: Z, before: Z, after: Z, lines: [line(2n, 1, 'available', -1n), line(1n, 1, 'available', 1n)] })).toThrow(/booking order/);
  });

  it('period and asset checks name the field', () => {
    expect(() => checkPeriod(undefined, t0)).toThrow(expect.objectContaining({ code: 'FIELD_REQUIRED', field: 'from' }));
    expect(() => checkPeriod(t0, undefined)).toThrow(expect.objectContaining({ code: 'FIELD_REQUIRED', field: 'to' }));
    expect(() => checkPeriod(t0, t0)).toThrow(expect.objectContaining({ code: 'PERIOD_INVALID', field: 'to' }));
    expect(() => checkPeriod(t0, new Date(t0.getTime() + 366 * day + 1))).toThrow(expect.objectContaining({ code: 'PERIOD_TOO_LONG', field: 'to' }));
    expect(checkPeriod(t0, new Date(t0.getTime() + 366 * day)).to.getTime()).toBe(t0.getTime() + 366 * day);
    expect(() => checkAsset('eth')).toThrow(expect.objectContaining({ code: 'ASSET_INVALID', field: 'asset' }));
    expect(() => checkAsset('')).toThrow(expect.objectContaining({ code: 'FIELD_REQUIRED', field: 'asset' }));
    expect(checkAsset('USDC')).toBe('USDC');
  });
});

describe('LedgerStatements (fake reader)', () => {
  const slice = (over: Partial<StatementSlice> = {}): StatementSlice => ({
    lines: [line(7n, 1, 'available', -10n)],
    more: true,
    sums: { beforeFrom: { available: -5n, held: 0n }, beforeTo: { available: -20n, held: 0n }, periodBefore: Z, periodAfter: { available: -5n, held: 0n } },
    ...over,
  });
  const reader = (s: StatementSlice): StatementReader & { calls: StatementSliceQuery[] } => {
    const calls: StatementSliceQuery[] = [];
    return { calls, statementSlice: (q) => (calls.push(q), Promise.resolve(s)) };
  };
  const req = { clientId: 'acme', customerAccount: 'dave', asset: 'ETH', from: t0, to: new Date(t0.getTime() + day), pageSize: 1, pageToken: '' };

  it('a page token continues only the statement it came from; bad input reaches no reader', async () => {
    const r = reader(slice());
    const statements = new LedgerStatements(r);
    const first = await statements.statement(req);
    expect(first).toMatchObject({ account: 'customer:acme:dave', opening: { available: 5n }, closing: { available: 20n }, pageClosing: { available: 15n } });
    expect(first.nextPageToken).toMatch(/^7\.[0-9a-f]{16}$/);
    await statements.statement({ ...req, pageToken: first.nextPageToken });
    expect(r.calls[1]?.afterSequence).toBe(7n);
    const calls = r.calls.length;
    await expect(statements.statement({ ...req, asset: 'BTC', pageToken: first.nextPageToken })).rejects.toMatchObject({ code: 'PAGE_TOKEN_INVALID', field: 'page_token' });
    await expect(statements.statement({ ...req, to: new Date(t0.getTime() + 2 * day), pageToken: first.nextPageToken })).rejects.toMatchObject({ code: 'PAGE_TOKEN_INVALID' });
    await expect(statements.statement({ ...req, pageToken: '7.zz' })).rejects.toMatchObject({ code: 'PAGE_TOKEN_INVALID' });
    await expect(statements.statement({ ...req, pageSize: 501 })).rejects.toMatchObject({ code: 'PAGE_SIZE_INVALID', field: 'page_size' });
    await expect(statements.statement({ ...req, clientId: '' })).rejects.toMatchObject({ code: 'FIELD_REQUIRED', field: 'client_id' });
    await expect(statements.statement({ ...req, from: req.to, to: t0 })).rejects.toMatchObject({ code: 'PERIOD_INVALID', field: 'to' });
    expect(r.calls.length).toBe(calls);
  });

  it('a reader whose lines do not add up gives STATEMENT_INCONSISTENT, not a statement', async () => {
    const statements = new LedgerStatements(reader(slice({ sums: { ...slice().sums, periodAfter: Z } })));
    await expect(statements.statement(req)).rejects.toMatchObject({ code: 'STATEMENT_INCONSISTENT' });
  });
});
