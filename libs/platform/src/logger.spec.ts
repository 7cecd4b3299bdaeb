import { describe, it, expect } from '@jest/globals';
import { currentCorrelation, withCorrelation } from './correlation.js';
import { createLogger, type CreateLoggerOptions } from './logger.js';
import { MNEMONIC_12, PEM } from '../test/fixtures/secrets.js';

function capture(options: Partial<CreateLoggerOptions> = {}) {
  const lines: string[] = [];
  const logger = createLogger({ service: 'intake', level: 'trace', destination: { write: (s: string) => lines.push(s) }, ...options });
  const records = (): Array<Record<string, unknown>> => lines.map((l) => JSON.parse(l) as Record<string, unknown>);
  return { logger, lines, records, raw: () => lines.join('') };
}

const SECRETS = ['hunter2', 'k-123-api', 'tok-abc', 'sealed-pin-9876', 'MHcCAQEE', 'dbpass-777', 'abandon abandon', 'Bearer-xyz'];

describe('createLogger', () => {
  it('writes one JSON object per line with level label, ISO time, service and message', () => {
    const { logger, records } = capture({ base: { version: '1.2.3' } });
    logger.info({ withdrawalId: 'w-1' }, 'accepted');
    const [record] = records();
    expect(record).toMatchObject({ level: 'info', service: 'intake', version: '1.2.3', withdrawalId: 'w-1', msg: 'accepted' });
    expect(typeof record?.time).toBe('string');
    expect(Number.isNaN(Date.parse(record?.time as string))).toBe(false);
  });

  it('respects the level', () => {
    const { logger, lines } = capture({ level: 'warn' });
    logger.info('hidden');
    logger.warn('shown');
    expect(lines).toHaveLength(1);
  });

  it('adds correlation ids from the async context, also across awaits', async () => {
    const { logger, records } = capture();
    logger.info('outside');
    await withCorrelation({ correlationId: 'c-1', causationId: 'e-9', traceparent: '00-abc-def-01' }, async () => {
      await new Promise((resolve) => setTimeout(resolve, 5));
      logger.info('inside');
      expect(currentCorrelation()?.correlationId).toBe('c-1');
      withCorrelation({ correlationId: 'c-2' }, () => logger.info('nested'));
    });
    const [outside, inside, nested] = records();
    expect(outside).not.toHaveProperty('correlationId');
    expect(inside).toMatchObject({ correlationId: 'c-1', causationId: 'e-9', traceparent: '00-abc-def-01' });
    expect(nested).toMatchObject({ correlationId: 'c-2' });
    expect(nested).not.toHaveProperty('causationId');
    expect(currentCorrelation()).toBeUndefined();
  });

  it('never writes secrets: keys at any depth, secret-shaped strings, errors, messages, bindings', () => {
    const { logger, raw, records } = capture();
    logger.info(
      {
        password: 'hunter2',
        request: { headers: { authorization: 'Bearer Bearer-xyz', 'x-api-key': 'k-123-api' } },
        deep: { a: { b: { c: { d: { token: 'tok-abc', items: [{ hsmPin: 'sealed-pin-9876' }] } } } } },
        keyMaterial: PEM,
        dsn: 'postgres://intake_app:dbpass-777@127.0.0.1:5432/custody',
        backup: { words: MNEMONIC_12 },
      },
      'request received',
    );
    logger.error(new Error(`cannot load ${PEM}`), 'signer failed');
    logger.error({ err: new Error('connect postgres://u:dbpass-777@db/x'), step: 'connect' }, 'db failed');
    logger.warn('retrying with password=hunter2 and %s', 'postgres://x:dbpass-777@h/db');
    logger.child({ apiKey: 'k-123-api', dsn: 'postgres://x:dbpass-777@h/db' }).child({ session: { token: 'tok-abc' } }).info('child');

    const output = raw();
    for (const secret of SECRETS) expect(output).not.toContain(secret);

    const [first, second, third, fourth, fifth] = records();
    expect(first).toMatchObject({
      password: '[Redacted]',
      dsn: 'postgres://intake_app:[Redacted]@127.0.0.1:5432/custody',
      keyMaterial: '[Redacted]',
      backup: { words: '[Redacted]' },
    });
    expect(second).toMatchObject({ msg: 'signer failed', err: { type: 'Error', message: 'cannot load [Redacted]' } });
    expect(third).toMatchObject({ step: 'connect', err: { message: 'connect postgres://u:[Redacted]@db/x' } });
    expect(fourth?.msg).toBe('retrying with password=[Redacted] and postgres://x:[Redacted]@h/db');
    expect(fifth).toMatchObject({ service: 'intake', apiKey: '[Redacted]', session: { token: '[Redacted]' }, msg: 'child' });
  });

  it('keeps non-secret fields intact', () => {
    const { logger, records } = capture();
    logger.info({ keyId: 'k-1', publicKey: '02ab', amount: '1000', address: '0xabc', txHash: '0x' + 'f'.repeat(64) }, 'ok');
    expect(records()[0]).toMatchObject({ keyId: 'k-1', publicKey: '02ab', amount: '1000', address: '0xabc', txHash: '0x' + 'f'.repeat(64) });
  });
});
