// @custody/signer — the single entry point: start the signing service on a bus.
export { composeSigner as startSigner, prefixedTopics, SIGNER_MIGRATIONS, SIGNER_ENTITIES, type SignerDeps, type SignerHandle } from './signer.module.js';
export type { KeyCustody, GeneratedKey, SignRequest, SignResult } from './application/key-custody.js';
export type { AssetProfile } from './application/sign-transaction.js';
export { DEFAULT_ADMIN_QUORUM, backupRequest, generationRequest, restoreRequest, type BackupRequest, type GenerateKeyRequest, type QuorumRule, type RestoreRequest } from './application/key-lifecycle.js';
export { openShare, type BackupManifest, type Custodian, type EncryptedShare } from './domain/backup.js';
export { keyTransitionSigningBytes, KEY_TRANSITION_DOMAIN, type Operator, type OperatorSignature, type KeyTransitionRequest } from './domain/operators.js';
export { REFUSAL_CODES, type RefusalCode } from './domain/refusal.js';
export type { KeyRecord, KeyState, KeyTier, KeyAlgorithm, AdminTransition } from './domain/key.js';
export { SIGNER_CONSUMER_GROUPS } from './consumer-groups.js';
