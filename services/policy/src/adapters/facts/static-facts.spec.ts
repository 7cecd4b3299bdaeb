import { describe, expect, it } from '@jest/globals';
import { StaticFactsProvider } from './static-facts.js';
import { parseOperatorDocument } from '../operators/operator-file.js';

describe('configuration-backed ports', () => {
  it('StaticFactsProvider gives known account and wallet facts and never a ledger hold', async () => {
    const p = new StaticFactsProvider({ accounts: { 'acct-1': { tier: 'retail', opened_at: '2024-01-01T00:00:00Z' } }, source_wallets: { BTC: { id: 'btc-hot-01', tier: 'hot' } } });
    const req = { withdrawalId: 'wd', clientId: 'c', customerAccount: 'acct-1', asset: 'BTC', amount: 1n };
    expect(await p.factsFor(req)).toEqual({ account: { id: 'acct-1', tier: 'retail', openedAt: '2024-01-01T00:00:00Z' }, sourceWallet: { id: 'btc-hot-01', tier: 'hot' } });
    expect(await p.factsFor({ ...req, customerAccount: 'toString', asset: 'constructor' })).toEqual({});
  });

  it('the operator document is validated: public keys are 32 bytes hex, roles are role names, ids unique', () => {
    const key = 'ab'.repeat(32);
    const dir = parseOperatorDocument({ operators: [{ id: 'op-alice', roles: ['compliance'], keys: { k1: key } }] });
    expect(dir.operators.get('op-alice')?.keys.get('k1')).toHaveLength(32);
    expect(() => parseOperatorDocument({ operators: [{ id: 'op-a', roles: ['compliance'], keys: { k1: 'ab' } }] })).toThrow();
    expect(() => parseOperatorDocument({ operators: [{ id: 'op-a', roles: ['Compliance!'], keys: { k1: key } }] })).toThrow();
    expect(() => parseOperatorDocument({ operators: [{ id: 'op-a', roles: ['x'], keys: {} }, { id: 'op-a', roles: ['x'], keys: {} }] })).toThrow(/twice/);
  });
});
