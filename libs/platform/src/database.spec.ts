import { describe, it, expect } from '@jest/globals';
import { EntitySchema } from 'typeorm';
import { createServiceDataSource, serviceIdentifier } from './database.js';
import { provisionServiceDatabase, serviceRoleNames } from './database-provision.js';

const Thing = new EntitySchema<{ id: number }>({ name: 'thing', columns: { id: { type: Number, primary: true, generated: true } } });

describe('createServiceDataSource (no connection is made)', () => {
  it('pins schema and search_path, never synchronises or runs migrations on its own', () => {
    const ds = createServiceDataSource({ service: 'chain-adapter', url: 'postgres://chain_adapter_app:pw@127.0.0.1:5432/custody', entities: [Thing] });
    expect(ds.isInitialized).toBe(false);
    expect(ds.options).toMatchObject({
      type: 'postgres',
      schema: 'chain_adapter',
      applicationName: 'chain-adapter',
      synchronize: false,
      migrationsRun: false,
      dropSchema: false,
      installExtensions: false,
      migrationsTableName: 'migrations',
      extra: { options: '-c search_path=chain_adapter -c statement_timeout=30000' },
    });
  });

  it('accepts discrete connection fields and an explicit schema', () => {
    const ds = createServiceDataSource({
      service: 'ledger',
      schema: 'ledger_v2',
      host: '127.0.0.1',
      port: 5432,
      username: 'ledger_app',
      password: 'pw',
      database: 'custody',
      entities: [],
      statementTimeoutMs: 5000,
    });
    expect(ds.options).toMatchObject({ host: '127.0.0.1', port: 5432, username: 'ledger_app', database: 'custody', schema: 'ledger_v2' });
    expect((ds.options.extra as { options: string }).options).toBe('-c search_path=ledger_v2 -c statement_timeout=5000');
  });

  it.each(['Ledger', 'ledger; DROP TABLE x', 'a-b', '"q"', ''])('refuses the unsafe schema name %j', (schema) => {
    expect(() => createServiceDataSource({ service: 'ledger', schema, url: 'postgres://h/db', entities: [] })).toThrow(TypeError);
  });
});

describe('role and schema names', () => {
  it('derive from the service name', () => {
    expect(serviceIdentifier('chain-adapter')).toBe('chain_adapter');
    expect(serviceRoleNames('chain-adapter')).toEqual({ ownerRole: 'chain_adapter_owner', appRole: 'chain_adapter_app' });
    expect(() => serviceIdentifier('Intake')).toThrow(TypeError);
  });

  it('provisioning refuses short passwords before connecting anywhere', async () => {
    // The URL points nowhere: the check must fail first.
    await expect(provisionServiceDatabase('postgres://nobody@127.0.0.1:1/none', { service: 'intake', ownerPassword: 'short', appPassword: 'x'.repeat(20) })).rejects.toThrow(
      /ownerPassword must have at least 12/,
    );
  });
});
