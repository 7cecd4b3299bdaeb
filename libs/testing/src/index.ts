// @custody/testing — integration-test support shared by the services (never imported by
// service code). Curated entry point: named exports only.
export { requireEnv, rand } from './env.js';
export { waitFor } from './wait-for.js';
export { createTestDatabase, type TestDatabase, type TestDatabaseOptions } from './test-database.js';
export { createPrefixedTopics, deletePrefixedTopics } from './kafka-topics.js';
export { createTestPki, type TestPki, type TestPkiOptions, type TestIssuer, type TestCertificate, type TestCertificateRequest, type ExtendedKeyUsage } from './pki.js';
