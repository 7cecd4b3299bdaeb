// Consumes key.lifecycle (→ wallet registry), policy.decided (→ prepare), tx.signed
// (→ accept + broadcast) and tx.refused (→ a spent decision's withdrawal FAILED and its nonce
// released, WithdrawalFlow.handleRefusal). Thin: decode,
// plan outside the transaction, effect inside handleOnce (inbox) so each event acts once.
// A fee above the cap is retried with backoff (the withdrawal waits visibly, metric
// custody_chain_withdrawals_waiting_fee), so is a decision for a wallet the registry does not
// know yet (WALLET_UNKNOWN); an undecodable record, a malformed key.lifecycle event or a
// refused signature goes to the dead-letter topic.
import { Topics, decodePayload, type DecodedEvent } from '@custody/contracts';
import { NonRetryableError, handleOnce, protobufEnvelopeCodec, withDeadLetter, type BusMetrics, type Envelope, type EventBus, type Subscription } from '@custody/event-bus';
import type { DataSource } from 'typeorm';
import { ChainAdapterError } from '../../domain/errors.js';
import type { WithdrawalFlow } from '../../application/withdrawals.js';
import type { WalletRegistry } from '../../application/wallets.js';
import type { TopicNamer } from '../events.js';
import type { PostgresChainStore } from '../persistence/postgres-store.js';

export interface ConsumerOptions {
  readonly bus: EventBus;
  readonly dataSource: DataSource;
  readonly store: PostgresChainStore;
  readonly flow: WithdrawalFlow;
  readonly wallets: WalletRegistry;
  readonly groupId: string;
  readonly topicName: TopicNamer;
  readonly onWaiting?: (code: string) => void;
  readonly maxAttempts?: number;
  readonly onResult?: (result: string, envelope: Envelope) => void;
  readonly metrics?: BusMetrics;
  /** Chains handled by another flow in this process (Bitcoin: bitcoin-consumers.ts): their tx.signed is not this flow's. */
  readonly otherChains?: ReadonlySet<string>;
}

export async function startConsumers(o: ConsumerOptions): Promise<Subscription> {
  const handler = withDeadLetter<Envelope>({
    bus: o.bus,
    ...(o.metrics ? { metrics: o.metrics } : {}),
    // A fee above the cap or an unhealthy node makes the decision wait (~10 min of retries)
    // before it is parked on the dead-letter topic for an operator; never dropped.
    maxAttempts: o.maxAttempts ?? 25,
    backoff: { initialMs: 500, maxMs: 30_000, factor: 2 },
    decode: (message) => protobufEnvelopeCodec.decode(message.value),
    handle: async (envelope) => {
      let event: DecodedEvent;
      try {
        event = decodePayload(envelope);
      } catch (err) {
        throw new NonRetryableError('payload cannot be decoded', { cause: err });
      }
      const ctx = { correlationId: envelope.correlationId, causationId: envelope.id };
      if (event.type === Topics.policyDecided) {
        let plan;
        try {
          plan = await o.flow.plan(event.message);
        } catch (err) {
          if (err instanceof ChainAdapterError && (err.code === 'INVALID_ADDRESS' || err.code === 'INVALID_AMOUNT' || err.code === 'INVALID_STATE')) {
            throw new NonRetryableError(`${err.code}: ${err.message}`, { cause: err });
          }
          if (err instanceof ChainAdapterError) o.onWaiting?.(err.code);
          throw err; // fee cap, unhealthy node: retried with backoff — the withdrawal waits
        }
        if (!plan) return o.onResult?.('ignored', envelope);
        const p = plan;
        const outcome = await handleOnce(o.dataSource, o.groupId, envelope, (m) => o.flow.commit(p, o.store.within(m), ctx));
        o.onResult?.(outcome.status === 'duplicate' ? 'duplicate' : outcome.result, envelope);
        return;
      }
      if (event.type === Topics.txSigned) {
        const m = event.message;
        if (o.otherChains?.has(m.chain)) return;
        const outcome = await handleOnce(o.dataSource, o.groupId, envelope, (manager) => o.flow.acceptSignature(m, o.store.within(manager)));
        if (outcome.status === 'handled' && outcome.result.outcome === 'refused') {
          o.onResult?.('refused', envelope);
          throw new NonRetryableError(`signed transaction refused: ${outcome.result.reason ?? ''}`);
        }
        o.onResult?.(outcome.status === 'duplicate' ? 'duplicate' : outcome.result.outcome, envelope);
        // After commit: send. A failure here leaves the row SIGNED; the follower resolves it.
        await o.flow.broadcast(m.withdrawalId).catch(() => undefined);
        return;
      }
      if (event.type === Topics.txRefused) {
        // Same group as tx.signed and the decisions: exactly once (inbox); unknown/foreign
        // refusals are recorded as such and change nothing.
        const m = event.message;
        const outcome = await handleOnce(o.dataSource, o.groupId, envelope, (manager) =>
          o.flow.handleRefusal(m, o.store.within(manager), { eventId: envelope.id, correlationId: envelope.correlationId }),
        );
        o.onResult?.(outcome.status === 'duplicate' ? 'duplicate' : `refusal:${outcome.result}`, envelope);
      }
    },
  });
  // key.lifecycle has a consumer group of its own: a decision waiting for its wallet
  // (WALLET_UNKNOWN, retried in the handler) must not hold back the event that registers it.
  const walletsGroup = `${o.groupId}.wallets`;
  const lifecycleHandler = withDeadLetter<Envelope>({
    bus: o.bus,
    ...(o.metrics ? { metrics: o.metrics } : {}),
    maxAttempts: o.maxAttempts ?? 25,
    backoff: { initialMs: 200, maxMs: 10_000, factor: 2 },
    decode: (message) => protobufEnvelopeCodec.decode(message.value),
    handle: async (envelope) => {
      let event: DecodedEvent;
      try {
        event = decodePayload(envelope);
      } catch (err) {
        throw new NonRetryableError('payload cannot be decoded', { cause: err });
      }
      if (event.type !== Topics.keyLifecycle) return;
      const m = event.message;
      let outcome;
      try {
        outcome = await handleOnce(o.dataSource, walletsGroup, envelope, (manager) => o.wallets.apply(m, o.store.within(manager)));
      } catch (err) {
        // A lifecycle event without a wallet id or with a malformed address is not guessed at.
        if (err instanceof ChainAdapterError && (err.code === 'INVALID_ADDRESS' || err.code === 'INVALID_STATE')) throw new NonRetryableError(`key.lifecycle ${err.code}: ${err.message}`, { cause: err });
        throw err;
      }
      o.onResult?.(outcome.status === 'duplicate' ? 'duplicate' : outcome.result.outcome, envelope);
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
