// The platform walkthrough of the embedded default: withdrawal requests are stored with
// their `withdrawal.requested` event in the outbox (one transaction), the relay publishes
// them to the bus, and a consumer applies each effect exactly once through its inbox. One
// event is delivered twice on purpose (the inbox absorbs it) and one undecodable record is
// published (it goes to the dead-letter topic with its reason; the partition moves on).
// It proves, on the embedded components, what the integration tests prove on Kafka.
import { randomUUID } from 'node:crypto';
import type { DataSource } from 'typeorm';
import {
  OutboxRelay,
  PostgresOutboxStore,
  createEnvelope,
  enqueue,
  handleOnce,
  protobufEnvelopeCodec,
  protobufDeadLetterCodec,
  withDeadLetter,
  type EventBus,
  type Subscription,
} from '@custody/event-bus';
import { Topics, WithdrawalRequested, encodeEvent, decodeEvent, timestampFromDate, deadLetterTopic } from '@custody/contracts';
import type { Logger } from '@custody/platform';

export interface WalkthroughResult {
  readonly requested: number;
  readonly effects: number;
  readonly duplicatesAbsorbed: number;
  readonly deadLettered: ReadonlyArray<{ readonly reason: string; readonly topic: string }>;
  readonly totalAmount: bigint;
}

export interface WalkthroughDeps {
  readonly bus: EventBus;
  /** Runtime role of the walkthrough schema (DML only). */
  readonly dataSource: DataSource;
  readonly logger: Logger;
  readonly events: number;
  /** Bound on the whole walkthrough; it fails rather than hang. */
  readonly timeoutMs?: number;
}

const PRODUCER = 'embedded-walkthrough';
const GROUP = 'embedded-walkthrough-ledger';

export async function runPlatformWalkthrough(deps: WalkthroughDeps): Promise<WalkthroughResult> {
  const { bus, dataSource, logger, events } = deps;
  const deadline = Date.now() + (deps.timeoutMs ?? 60_000);
  const correlationId = randomUUID();
  let duplicatesAbsorbed = 0;
  const deadLettered: Array<{ reason: string; topic: string }> = [];
  const subscriptions: Subscription[] = [];

  // Consumer: decode envelope → inbox + effect in one transaction.
  subscriptions.push(
    await bus.subscribe({
      groupId: GROUP,
      topics: [Topics.withdrawalRequested],
      handler: withDeadLetter({
        bus,
        maxAttempts: 3,
        decode: (message) => protobufEnvelopeCodec.decode(message.value),
        handle: async (envelope) => {
          const event = decodeEvent(Topics.withdrawalRequested, envelope.payload);
          const outcome = await handleOnce(dataSource, GROUP, envelope, async (manager) => {
            await manager.query('INSERT INTO "walkthrough_effect" ("withdrawal_id", "amount", "event_id") VALUES ($1, $2, $3)', [
              event.withdrawalId,
              event.amount,
              envelope.id,
            ]);
          });
          if (outcome.status === 'duplicate') duplicatesAbsorbed++;
        },
      }),
    }),
  );
  // Dead letters are watched, never dropped.
  subscriptions.push(
    await bus.subscribe({
      groupId: `${GROUP}-dlq-watch`,
      topics: [deadLetterTopic(Topics.withdrawalRequested)],
      handler: async (message) => {
        const record = protobufDeadLetterCodec.decode(message.value);
        deadLettered.push({ reason: `${record.code}: ${record.reason}`, topic: record.topic });
      },
    }),
  );

  const relay = new OutboxRelay({
    store: new PostgresOutboxStore(dataSource),
    bus,
    pollIntervalMs: 20,
    onError: (error) => logger.warn({ err: error }, 'outbox relay batch failed; retrying'),
  });
  relay.start();

  let firstEnvelope: ReturnType<typeof createEnvelope> | undefined;
  let totalAmount = 0n;
  try {
    // Producer: state change + event, one transaction per request.
    for (let i = 0; i < events; i++) {
      const withdrawalId = randomUUID();
      const amount = BigInt(1_000_000 + i * 1_000); // base units (integers only)
      totalAmount += amount;
      const payload = encodeEvent(
        Topics.withdrawalRequested,
        WithdrawalRequested.fromPartial({
          withdrawalId,
          clientId: 'demo-exchange',
          customerAccount: `customer-${i % 10}`,
          asset: 'ETH',
          chain: 'ethereum-devnet',
          amount: amount.toString(),
          destinationAddress: '0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed',
          clientReference: `walkthrough-${i}`,
          idempotencyKey: `walkthrough-${correlationId}-${i}`,
          requestedAt: timestampFromDate(new Date()),
        }),
      );
      const envelope = createEnvelope({
        type: Topics.withdrawalRequested,
        key: withdrawalId,
        correlationId,
        producer: PRODUCER,
        schemaVersion: 1,
        payload,
      });
      firstEnvelope ??= envelope;
      await dataSource.transaction(async (manager) => {
        await manager.query(
          'INSERT INTO "walkthrough_withdrawal" ("id", "customer_account", "asset", "amount") VALUES ($1, $2, $3, $4)',
          [withdrawalId, `customer-${i % 10}`, 'ETH', amount.toString()],
        );
        await enqueue(manager, [{ topic: Topics.withdrawalRequested, envelope }]);
      });
      relay.notify();
    }

    // At-least-once in action: the same event delivered again; the inbox absorbs it.
    if (firstEnvelope) {
      await bus.publish([{ topic: Topics.withdrawalRequested, key: firstEnvelope.key, value: protobufEnvelopeCodec.encode(firstEnvelope), headers: {} }]);
    }
    // A poison record: not an envelope at all. It must reach the DLQ with its reason.
    await bus.publish([{ topic: Topics.withdrawalRequested, key: 'poison', value: new Uint8Array([0xff, 0xff, 0xff]), headers: {} }]);

    for (;;) {
      const [{ count }] = (await dataSource.query('SELECT count(*)::int AS count FROM "walkthrough_effect"')) as [{ count: number }];
      if (count >= events && duplicatesAbsorbed >= 1 && deadLettered.length >= 1) break;
      if (Date.now() > deadline) {
        throw new Error(`walkthrough timed out: ${count}/${events} effects, ${duplicatesAbsorbed} duplicates absorbed, ${deadLettered.length} dead letters`);
      }
      await new Promise((r) => setTimeout(r, 25));
    }
    const [row] = (await dataSource.query('SELECT count(*)::int AS effects, coalesce(sum("amount"), 0)::text AS total FROM "walkthrough_effect"')) as [
      { effects: number; total: string },
    ];
    if (BigInt(row.total) !== totalAmount) throw new Error(`effects sum ${row.total} != requested ${totalAmount}`);
    return { requested: events, effects: row.effects, duplicatesAbsorbed, deadLettered, totalAmount };
  } finally {
    await relay.stop();
    for (const s of subscriptions) await s.stop();
  }
}
