// Plumbing for ledger's integration tests: a throw-away database provisioned like production
// (owner runs migrations, app role serves), a superuser client, prefixed Kafka topics, and
// event factories.
import {
  DepositDetected,
  DepositState,
  KeyLifecycle,
  KeyPurpose,
  KeyTier,
  KeyTransition,
  Topics,
  TxState,
  TxStatus,
  WithdrawalRequested,
  WithdrawalStatus,
  WithdrawalStatusChanged,
  encodeEvent,
  timestampFromDate,
  topicVersion,
} from '@custody/contracts';
import { createEnvelope, type Envelope } from '@custody/event-bus';
import { createLogger } from '@custody/platform';
import { createTestDatabase as createServiceTestDatabase, type TestDatabase } from '@custody/testing';
import { LEDGER_ENTITIES, LEDGER_MIGRATIONS, type LedgerHandle } from '../../src/index.js';

export { requireEnv, rand, waitFor, createPrefixedTopics, deletePrefixedTopics, type TestDatabase } from '@custody/testing';

export const quietLogger = () => createLogger({ service: 'ledger-test', level: 'warn' });

/** CREATE DATABASE ledger_test_<rand>, provision schema + roles, run the migrations as owner. */
export const createTestDatabase = (): Promise<TestDatabase> => createServiceTestDatabase({ service: 'ledger', entities: LEDGER_ENTITIES, migrations: LEDGER_MIGRATIONS });

export function withdrawalRequested(withdrawalId: string, customer: string, asset: string, chain: string, amount: bigint): Envelope {
  const payload = encodeEvent(
    Topics.withdrawalRequested,
    WithdrawalRequested.fromPartial({ withdrawalId, clientId: 'acme', customerAccount: customer, asset, chain, amount: amount.toString(), destinationAddress: '0x0000000000000000000000000000000000000001' }),
  );
  return createEnvelope({ type: Topics.withdrawalRequested, key: withdrawalId, correlationId: `corr-${withdrawalId}`, producer: 'intake', schemaVersion: topicVersion(Topics.withdrawalRequested), payload });
}

export function withdrawalStatus(withdrawalId: string, status: WithdrawalStatus): Envelope {
  const payload = encodeEvent(Topics.withdrawalStatus, WithdrawalStatusChanged.fromPartial({ withdrawalId, clientId: 'acme', status }));
  return createEnvelope({ type: Topics.withdrawalStatus, key: withdrawalId, correlationId: `corr-${withdrawalId}`, producer: 'intake', schemaVersion: topicVersion(Topics.withdrawalStatus), payload });
}

export function txStatus(withdrawalId: string, state: TxState, chain: string, feePaid = '', sourceWallet = HOT_WALLET): Envelope {
  const payload = encodeEvent(Topics.txStatus, TxStatus.fromPartial({ withdrawalId, chain, sourceWallet, txHash: `0x${withdrawalId.replace(/-/g, '')}`, state, feePaid }));
  return createEnvelope({ type: Topics.txStatus, key: sourceWallet, correlationId: `corr-${withdrawalId}`, producer: 'chain-adapter', schemaVersion: topicVersion(Topics.txStatus), payload });
}

export function depositDetected(depositId: string, customer: string, asset: string, amount: bigint, state: DepositState = DepositState.DEPOSIT_STATE_FINAL): Envelope {
  const payload = encodeEvent(
    Topics.depositDetected,
    DepositDetected.fromPartial({ depositId, chain: asset === 'BTC' ? 'bitcoin' : 'ethereum', asset, address: 'addr', customerAccount: customer, clientId: 'acme', amount: amount.toString(), txHash: `tx-${depositId}`, state }),
  );
  return createEnvelope({ type: Topics.depositDetected, key: 'addr', correlationId: `dep-${depositId}`, producer: 'chain-adapter', schemaVersion: topicVersion(Topics.depositDetected), payload });
}

export { DepositState, TxState, WithdrawalStatus };

/** The hot wallet the tests' withdrawals settle from (registered through key.lifecycle). */
export const HOT_WALLET = 'eth-hot-01';

/** custody.key.lifecycle.v1 GENERATED of a signature key of `walletId` (what the signer emits). */
export function keyLifecycle(walletId: string, tier: KeyTier = KeyTier.KEY_TIER_HOT, opts: { chain?: string; address?: string; keyId?: string; at?: Date } = {}): Envelope {
  const keyId = opts.keyId ?? `${walletId}-k1`;
  const payload = encodeEvent(
    Topics.keyLifecycle,
    KeyLifecycle.fromPartial({
      keyId,
      transition: KeyTransition.KEY_TRANSITION_GENERATED,
      purpose: KeyPurpose.KEY_PURPOSE_SIGNATURE,
      tier,
      chain: opts.chain ?? 'ethereum',
      actor: 'signer',
      walletId,
      address: opts.address ?? '',
      transitionedAt: timestampFromDate(opts.at ?? new Date()),
    }),
  );
  return createEnvelope({ type: Topics.keyLifecycle, key: keyId, correlationId: `key-${keyId}`, producer: 'signer', schemaVersion: topicVersion(Topics.keyLifecycle), payload });
}

/** Registers a wallet directly through the ledger application (as key.lifecycle would). */
export function registerWallet(ledger: LedgerHandle, walletId: string = HOT_WALLET, tier: 'hot' | 'warm' | 'cold' = 'hot', opts: { chain?: string; address?: string } = {}): Promise<unknown> {
  return ledger.store.transaction((tx) =>
    ledger.postings.registerWallet({ keyId: `${walletId}-k1`, signatureKey: true, walletId, tier, chain: opts.chain ?? 'ethereum', address: opts.address ?? '', at: new Date() }, tx),
  );
}

export { KeyTier };
