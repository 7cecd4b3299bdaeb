// @custody/intake — the single entry point: start the integrator gateway on a bus.
export { composeIntake as startIntake, prefixedTopics, INTAKE_MIGRATIONS, INTAKE_ENTITIES, type IntakeDeps, type IntakeHandle } from './intake.module.js';
export type { DepositAddressProvider, DepositAddress } from './application/ports.js';
export { AuthHeaders } from './application/authenticate.js';
export { adminBodies, ADMIN_SERVICE_PATH } from './adapters/grpc/admin.js';
export { encodeSigningInput, SIGNING_DOMAIN, type SigningEnvelope, type BodyField } from './domain/canonical.js';
export { GrpcDepositAddressProvider, signerCustomerKey, type GrpcDepositAddressProviderOptions } from './adapters/signer/grpc-deposit-address-provider.js';
export { INTAKE_CONSUMER_GROUPS } from './consumer-groups.js';
