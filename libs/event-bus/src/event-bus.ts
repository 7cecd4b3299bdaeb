// The EventBus port: what a service needs from a message broker, in plain TypeScript.
// Two adapters implement it with the same semantics: KafkaBus (adapters/kafka-bus.ts) and
// InProcessBus (in-process-bus.ts, the embedded default). docs/event-bus.md has the contract.

/** Record headers. Values are UTF-8 strings on both adapters. */
export type MessageHeaders = Readonly<Record<string, string>>;

export interface OutgoingMessage {
  readonly topic: string;
  /** Partition key: every message with the same key lands on the same partition, in order. */
  readonly key: string;
  readonly value: Uint8Array;
  readonly headers?: MessageHeaders;
}

export interface IncomingMessage {
  readonly topic: string;
  readonly partition: number;
  /** Position in the partition (a 64-bit integer, as a decimal string). */
  readonly offset: string;
  readonly key: string;
  readonly value: Uint8Array;
  readonly headers: MessageHeaders;
  /** When the broker appended the record. */
  readonly timestamp: Date;
}

export interface DeliveryContext {
  readonly groupId: string;
  /**
   * 1 on the first delivery of this message to this subscription, n after n-1 failed
   * attempts that were redelivered in place (a restarted consumer starts again at 1).
   */
  readonly attempt: number;
  /**
   * Aborted when the subscription stops or loses the partition. A handler that waits (a
   * backoff, a long call) should honour it and throw; the message is then not committed
   * and is delivered again, to this or another member of the group.
   */
  readonly signal: AbortSignal;
  /** Keeps group membership alive during long handling (Kafka heartbeat); a no-op in-process. */
  heartbeat(): Promise<void>;
}

/**
 * Handles one message. Resolving commits it (its offset may be committed lazily, never
 * before). Throwing means "not handled": the same message is delivered again after a
 * backoff and the partition does not move on — wrap with withDeadLetter() to bound that.
 */
export type MessageHandler = (message: IncomingMessage, context: DeliveryContext) => Promise<void>;

export interface BackoffOptions {
  /** Delay before the 2nd attempt. */
  readonly initialMs: number;
  /** Upper bound of any delay. */
  readonly maxMs: number;
  /** Growth per attempt; default 2. */
  readonly factor?: number;
}

export interface SubscribeOptions {
  /** Consumer group: each group sees every message; members of one group split the partitions. */
  readonly groupId: string;
  readonly topics: readonly string[];
  readonly handler: MessageHandler;
  /**
   * Where a group without a committed offset starts: true (default) = the oldest retained
   * message, false = only messages appended after the group first joined.
   */
  readonly fromBeginning?: boolean;
  /** Delay between in-place redeliveries of a message whose handler threw. */
  readonly redeliveryBackoff?: BackoffOptions;
}

export interface Subscription {
  readonly groupId: string;
  /**
   * Leaves the group: aborts DeliveryContext.signal, waits for in-flight handlers, commits
   * what succeeded. Idempotent.
   */
  stop(): Promise<void>;
}

export interface EventBus {
  /**
   * Appends the messages, in order per key, and resolves once every one is durably
   * acknowledged (Kafka: acks=all from an idempotent producer). A rejection means some may
   * have been appended: the caller publishes them again (at-least-once; consumers
   * de-duplicate by event id). Callers must not publish one key from two places at once.
   */
  publish(messages: readonly OutgoingMessage[]): Promise<void>;
  /** Resolves once the consumer has joined its group; delivery then runs in the background. */
  subscribe(options: SubscribeOptions): Promise<Subscription>;
  /** Stops every subscription and releases connections. */
  close(): Promise<void>;
}
