// The Bitcoin withdrawals' consumers (application/bitcoin-withdrawals.ts), in consumer groups
// of their own so the EVM flow's ordering is untouched: key.lifecycle of keys on the Bitcoin
// chain (→ registry), policy.decided / tx.signed / tx.refused of the Bitcoin chain. Each
// effect in handleOnce (inbox) with its state change and events (outbox).
import { Topics, decodePayload, type DecodedEvent } from '@custody/contracts';
import { NonRetryableError, handleOnce, protobufEnvelopeCodec, withDeadLetter, type BusMetrics, type Envelope, type EventBus, type Subscription } from '@custody/event-bus';
import type { DataSource } from 'typeorm';
import { ChainAdapterError } from '../../domain/errors.js';
import type { BitcoinWithdrawalFlow } from '../../application/bitcoin-withdrawals.js';
import type { TopicNamer } from '../events.js';
import { PostgresBitcoinScope } from '../persistence/bitcoin-store.js';
import type { PostgresChainStore } from '../persistence/postgres-store.js';

export interface BitcoinConsumerOptions {
  readonly bus: EventBus;
  readonly dataSource: DataSource;
  readonly store: PostgresChainStore;
  readonly flow: BitcoinWithdrawalFlow;
  /** "<chain-adapter group>.bitcoin": policy.decided, tx.signed, tx.refused. */
  readonly groupId: string;
  /** "<chain-adapter group>.bitcoin.wallets": key.lifecycle. */
  readonly walletsGroupId: string;
  readonly topicName: TopicNamer;
  readonly now: () => Date;
  readonly maxAttempts?: number;
  readonly onResult?: (result: string, envelope: Envelope) => void;
  readonly metrics?: BusMetrics;
}

const NON_RETRYABLE = new Set(['INVALID_ADDRESS', 'INVALID_AMOUNT', 'INVALID_STATE']);

export async function startBitcoinConsumers(o: BitcoinConsumerOptions): Promise<Subscription> {
  const decode = (envelope: Envelope): DecodedEvent => {
    try {
      return decodePayload(envelope);
    } catch (err) {
      throw new NonRetryableError('payload cannot be decoded', { cause: err });
    }
  };
  const nonRetryable = (err: unknown): unknown => (err instanceof ChainAdapterError && NON_RETRYABLE.has(err.code) ? new NonRetryableError(`${err.code}: ${err.message}`, { cause: err }) : err);
  const handler = withDeadLetter<Envelope>({
    bus: o.bus,
    ...(o.metrics ? { metrics: o.metrics } : {}),
    maxAttempts: o.maxAttempts ?? 25,
    backoff: { initialMs: 500, maxMs: 30_000, factor: 2 },
    decode: (message) => protobufEnvelopeCodec.decode(message.value),
    handle: async (envelope) => {
      const event = decode(envelope);
      const ctx = { correlationId: envelope.correlationId, causationId: envelope.id };
      if (event.type === Topics.policyDecided) {
        const m = event.message;
        try {
          if (!o.flow.accepts(m)) return o.onResult?.('ignored', envelope);
          const outcome = await handleOnce(o.dataSource, o.groupId, envelope, (manager) => o.flow.prepare(m, o.store.within(manager), new PostgresBitcoinScope(manager, o.now), ctx));
          o.onResult?.(outcome.status === 'duplicate' ? 'duplicate' : outcome.result, envelope);
        } catch (err) {
          throw nonRetryable(err); // WALLET_UNKNOWN, FEE_CAP_EXCEEDED: retried with backoff — the withdrawal waits
        }
        return;
      }
      if (event.type === Topics.txSigned) {
        const m = event.message;
        if (m.chain !== o.flow.chain) return;
        const outcome = await handleOnce(o.dataSource, o.groupId, envelope, (manager) => o.flow.acceptSignature(m, new PostgresBitcoinScope(manager, o.now)));
        if (outcome.status === 'handled' && outcome.result.outcome === 'refused') {
          o.onResult?.('refused', envelope);
          throw new NonRetryableError(`signed transaction refused: ${outcome.result.reason ?? ''}`);
        }
        o.onResult?.(outcome.status === 'duplicate' ? 'duplicate' : outcome.result.outcome, envelope);
        return;
      }
      if (event.type === Topics.txRefused) {
        const m = event.message;
        if (m.chain !== o.flow.chain) return;
        const outcome = await handleOnce(o.dataSource, o.groupId, envelope, (manager) => o.flow.handleRefusal(m, o.store.within(manager), new PostgresBitcoinScope(manager, o.now), { eventId: envelope.id }));
        o.onResult?.(outcome.status === 'duplicate' ? 'duplicate' : `refusal:${outcome.result}`, envelope);
      }
    },
  });
  const walletsGroup = o.walletsGroupId;
  const lifecycleHandler = withDeadLetter<Envelope>({
    bus: o.bus,
    ...(o.metrics ? { metrics: o.metrics } : {}),
    maxAttempts: o.maxAttempts ?? 25,
    backoff: { initialMs: 200, maxMs: 10_000, factor: 2 },
    decode: (message) => protobufEnvelopeCodec.decode(message.value),
    handle: async (envelope) => {
      const event = decode(envelope);
      if (event.type !== Topics.keyLifecycle || event.message.chain !== o.flow.chain) return;
      const m = event.message;
      try {
        const outcome = await handleOnce(o.dataSource, walletsGroup, envelope, (manager) => o.flow.applyLifecycle(m, o.store.within(manager)));
        o.onResult?.(outcome.status === 'duplicate' ? 'duplicate' : outcome.result, envelope);
      } catch (err) {
        throw nonRetryable(err);
      }
    },
  });
  const wallets = await o.bus.subscribe({ groupId: walletsGroup, topics: [o.topicName(Topics.keyLifecycle)], handler: lifecycleHandler });
  let withdrawals: Subscription;
  try {
    withdrawals = await o.bus.subscribe({ groupId: o.groupId, topics: [Topics.policyDecided, Topics.txSigned, Topics.txRefused].map(o.topicName), handler });
  } catch (err) {
    await wallets.stop();
    throw err;
  }
  return {
    groupId: o.groupId,
    stop: async () => {
      await withdrawals.stop();
      await wallets.stop();
    },
  };
}
