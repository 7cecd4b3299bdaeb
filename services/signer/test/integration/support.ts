// Plumbing for the signer's integration tests (same shape as intake's): a throw-away
// database provisioned like production, prefixed Kafka topics, the SoftHSM2 token facts.
import { createLogger } from '@custody/platform';
import { createTestDatabase as createServiceTestDatabase, requireEnv, type TestDatabase } from '@custody/testing';
import { SIGNER_ENTITIES, SIGNER_MIGRATIONS } from '../../src/index.js';

export { requireEnv, rand, waitFor, createPrefixedTopics, deletePrefixedTopics, type TestDatabase } from '@custody/testing';

export const quietLogger = () => createLogger({ service: 'signer-test', level: 'warn' });

export function pkcs11Options(): { modulePath: string; tokenLabel: string; pin: string } {
  return { modulePath: requireEnv('PKCS11_MODULE'), tokenLabel: requireEnv('PKCS11_TOKEN_LABEL'), pin: requireEnv('PKCS11_PIN') };
}

/** CREATE DATABASE signer_test_<rand>, provision schema + roles, run the migrations as owner. */
export const createTestDatabase = (): Promise<TestDatabase> => createServiceTestDatabase({ service: 'signer', entities: SIGNER_ENTITIES, migrations: SIGNER_MIGRATIONS });

/** A clock the test can move. */
export class TestClock {
  offsetMs = 0;
  now(): Date {
    return new Date(Date.now() + this.offsetMs);
  }
}
