// In-process EventBus for the embedded default (`npm start`, demos, unit tests of
// services). Same semantics as Kafka, in memory:
//  - topics have N partitions; a key's partition is Kafka's murmur2 partitioner
//    (partitioner.ts), so a key lands on the same partition number as on Kafka;
//  - each partition is an append-only retained log: a new group starts at its beginning
//    (or at its end with fromBeginning: false);
//  - consumer groups have committed offsets; every group sees every message; members of a
//    group split the partitions (partition p of a topic -> the (p mod n)-th member, in
//    join order, among the n members subscribed to that topic), re-split on join/leave;
//  - one message at a time per partition per group; the offset is committed only after the
//    handler resolved; a handler that throws gets the same message again after a backoff
//    (at-least-once, the partition waits).
// Differences from Kafka: nothing survives the process (the log lives in memory, it is
// never trimmed), publish never fails for broker reasons, and there are no rebalance pauses.
import { setImmediate as yieldToEventLoop } from 'node:timers/promises';
import { backoffDelay, sleep } from './backoff.js';
import { EventBusError } from './errors.js';
import type {
  BackoffOptions,
  DeliveryContext,
  EventBus,
  IncomingMessage,
  MessageHandler,
  MessageHeaders,
  OutgoingMessage,
  SubscribeOptions,
  Subscription,
} from './event-bus.js';
import { assertValidOutgoing, assertValidSubscribe } from './message-validation.js';
import type { BusMetrics } from './metrics.js';
import { partitionForKey } from './partitioner.js';

export interface InProcessBusOptions {
  /** Partitions of a topic that is first used without ensureTopic(). Default 3. */
  readonly defaultPartitions?: number;
  /** Default delay between redeliveries of a failing message. Default 100 ms doubling to 5 s. */
  readonly redeliveryBackoff?: BackoffOptions;
  readonly metrics?: BusMetrics;
  /** Record timestamps. Default `new Date()`. */
  readonly clock?: () => Date;
  /** Told about every handler failure (for logs); the message is redelivered regardless. */
  readonly onHandlerError?: (error: unknown, message: IncomingMessage, groupId: string) => void;
}

interface StoredRecord {
  readonly key: string;
  readonly value: Uint8Array;
  readonly headers: MessageHeaders;
  readonly timestamp: Date;
}

type DeliveryOutcome = 'ok' | 'failed' | 'revoked';

const DEFAULT_BACKOFF: BackoffOptions = Object.freeze({ initialMs: 100, maxMs: 5000, factor: 2 });
/** Deliveries between two yields to the event loop, so a long backlog cannot starve timers and I/O. */
const YIELD_EVERY = 64;

const tpKey = (topic: string, partition: number): string => `${partition}\u0000${topic}`;

export class InProcessBus implements EventBus {
  private readonly topics = new Map<string, StoredRecord[][]>();
  private readonly groups = new Map<string, ConsumerGroup>();
  private readonly defaultPartitions: number;
  private readonly clock: () => Date;
  private closed = false;

  constructor(readonly options: InProcessBusOptions = {}) {
    this.defaultPartitions = options.defaultPartitions ?? 3;
    if (!Number.isInteger(this.defaultPartitions) || this.defaultPartitions < 1) {
      throw new EventBusError('INVALID_ARGUMENT', `InProcessBus: defaultPartitions must be a positive integer, got ${options.defaultPartitions}`);
    }
    this.clock = options.clock ?? (() => new Date());
  }

  /** Creates `topic` with `partitions` partitions; a no-op if it exists with that many, an error otherwise. */
  ensureTopic(topic: string, partitions: number): void {
    if (typeof topic !== 'string' || topic.length === 0) throw new EventBusError('INVALID_ARGUMENT', 'ensureTopic: topic must be a non-empty string');
    if (!Number.isInteger(partitions) || partitions < 1) {
      throw new EventBusError('INVALID_ARGUMENT', `ensureTopic: partitions must be a positive integer, got ${partitions}`);
    }
    const existing = this.topics.get(topic);
    if (existing) {
      if (existing.length !== partitions) {
        throw new EventBusError(
          'TOPIC_PARTITIONS_MISMATCH',
          `topic ${topic} has ${existing.length} partitions, not ${partitions}; changing it would move keys between partitions`,
        );
      }
      return;
    }
    this.topics.set(
      topic,
      Array.from({ length: partitions }, () => []),
    );
  }

  async publish(messages: readonly OutgoingMessage[]): Promise<void> {
    this.assertOpen();
    assertValidOutgoing(messages);
    const timestamp = this.clock();
    const counts = new Map<string, number>();
    for (const message of messages) {
      const log = this.logOf(message.topic);
      const partition = partitionForKey(message.key, log.length);
      log[partition]!.push({
        key: message.key,
        value: message.value.slice(),
        headers: Object.freeze({ ...(message.headers ?? {}) }),
        timestamp,
      });
      counts.set(message.topic, (counts.get(message.topic) ?? 0) + 1);
    }
    for (const [topic, count] of counts) this.options.metrics?.published?.(topic, count);
    for (const group of this.groups.values()) group.onAppend(counts);
  }

  async subscribe(options: SubscribeOptions): Promise<Subscription> {
    this.assertOpen();
    assertValidSubscribe(options);
    for (const topic of options.topics) this.logOf(topic);
    let group = this.groups.get(options.groupId);
    if (!group) {
      group = new ConsumerGroup(options.groupId, this, this.options);
      this.groups.set(options.groupId, group);
    }
    const member = new Member(options, options.redeliveryBackoff ?? this.options.redeliveryBackoff ?? DEFAULT_BACKOFF, this.options);
    group.join(member);
    const owner = group;
    return Object.freeze({ groupId: options.groupId, stop: () => owner.leave(member) });
  }

  async close(): Promise<void> {
    this.closed = true;
    await Promise.all([...this.groups.values()].map((group) => group.leaveAll()));
  }

  /** Number of partitions of a topic (undefined if it does not exist). */
  partitionCount(topic: string): number | undefined {
    return this.topics.get(topic)?.length;
  }

  /** Next offset to be written, per partition. */
  endOffsets(topic: string): number[] {
    return (this.topics.get(topic) ?? []).map((log) => log.length);
  }

  /** Committed (next-to-read) offset per partition for a group, undefined where it never committed or joined. */
  committedOffsets(groupId: string, topic: string): (number | undefined)[] {
    const group = this.groups.get(groupId);
    return (this.topics.get(topic) ?? []).map((_, partition) => group?.committedOffset(tpKey(topic, partition)));
  }

  /** @internal the retained log of a topic, created with the default partition count if missing. */
  logOf(topic: string): StoredRecord[][] {
    let log = this.topics.get(topic);
    if (!log) {
      this.ensureTopic(topic, this.defaultPartitions);
      log = this.topics.get(topic)!;
    }
    return log;
  }

  private assertOpen(): void {
    if (this.closed) throw new EventBusError('BUS_CLOSED', 'InProcessBus is closed');
  }
}

class Member {
  readonly topics: ReadonlySet<string>;
  readonly abort = new AbortController();
  private readonly inFlight = new Set<Promise<DeliveryOutcome>>();
  active = true;

  constructor(
    readonly options: SubscribeOptions,
    readonly backoff: BackoffOptions,
    private readonly busOptions: InProcessBusOptions,
  ) {
    this.topics = new Set(options.topics);
  }

  get fromBeginning(): boolean {
    return this.options.fromBeginning ?? true;
  }

  deliver(message: IncomingMessage, attempt: number): Promise<DeliveryOutcome> {
    if (!this.active) return Promise.resolve('revoked');
    const handler: MessageHandler = this.options.handler;
    const context: DeliveryContext = Object.freeze({
      groupId: this.options.groupId,
      attempt,
      signal: this.abort.signal,
      heartbeat: async () => {},
    });
    const run = (async (): Promise<DeliveryOutcome> => {
      try {
        await handler(message, context);
        this.busOptions.metrics?.consumed?.(message.topic, this.options.groupId, 'ok');
        return 'ok';
      } catch (error) {
        this.busOptions.metrics?.consumed?.(message.topic, this.options.groupId, 'error');
        this.busOptions.onHandlerError?.(error, message, this.options.groupId);
        return 'failed';
      }
    })();
    this.inFlight.add(run);
    void run.finally(() => this.inFlight.delete(run));
    return run;
  }

  async idle(): Promise<void> {
    while (this.inFlight.size > 0) await Promise.allSettled([...this.inFlight]);
  }
}

class ConsumerGroup {
  private readonly members: Member[] = [];
  private readonly committed = new Map<string, number>();
  private readonly owners = new Map<string, Member>();
  private readonly lanes = new Map<string, Lane>();

  constructor(
    readonly groupId: string,
    private readonly bus: InProcessBus,
    private readonly busOptions: InProcessBusOptions,
  ) {}

  join(member: Member): void {
    for (const topic of member.topics) {
      const log = this.bus.logOf(topic);
      log.forEach((records, partition) => {
        const key = tpKey(topic, partition);
        if (!this.committed.has(key)) this.committed.set(key, member.fromBeginning ? 0 : records.length);
      });
    }
    this.members.push(member);
    this.rebalance();
  }

  async leave(member: Member): Promise<void> {
    const index = this.members.indexOf(member);
    if (index >= 0) {
      this.members.splice(index, 1);
      member.active = false;
      member.abort.abort(new EventBusError('BUS_CLOSED', `member of group ${this.groupId} stopped`));
      this.rebalance();
    }
    await member.idle();
  }

  async leaveAll(): Promise<void> {
    await Promise.all([...this.members].map((member) => this.leave(member)));
  }

  ownerOf(key: string): Member | undefined {
    return this.owners.get(key);
  }

  committedOffset(key: string): number | undefined {
    return this.committed.get(key);
  }

  commit(key: string, nextOffset: number): void {
    if (nextOffset > (this.committed.get(key) ?? 0)) this.committed.set(key, nextOffset);
  }

  onAppend(counts: ReadonlyMap<string, number>): void {
    for (const lane of this.lanes.values()) if (counts.has(lane.topic)) lane.wake();
  }

  private rebalance(): void {
    this.owners.clear();
    const topics = new Set(this.members.flatMap((member) => [...member.topics]));
    for (const topic of topics) {
      const subscribers = this.members.filter((member) => member.topics.has(topic));
      const log = this.bus.logOf(topic);
      log.forEach((records, partition) => {
        const key = tpKey(topic, partition);
        this.owners.set(key, subscribers[partition % subscribers.length]!);
        if (!this.lanes.has(key)) this.lanes.set(key, new Lane(this, topic, partition, records));
      });
    }
    for (const lane of this.lanes.values()) lane.wake();
  }
}

/** Delivers one partition's messages to whichever member of the group owns it, one at a time. */
class Lane {
  private readonly key: string;
  private running = false;
  private wakePending = false;
  private wakeWaiter: (() => void) | undefined;
  private lastOffset = -1;
  private lastOwner: Member | undefined;
  private attempt = 0;

  constructor(
    private readonly group: ConsumerGroup,
    readonly topic: string,
    readonly partition: number,
    private readonly log: readonly StoredRecord[],
  ) {
    this.key = tpKey(topic, partition);
  }

  wake(): void {
    this.wakePending = true;
    const waiter = this.wakeWaiter;
    this.wakeWaiter = undefined;
    waiter?.();
    if (!this.running) {
      this.running = true;
      void this.run();
    }
  }

  private waitForWake(): Promise<void> {
    if (this.wakePending) return Promise.resolve();
    return new Promise((resolve) => {
      this.wakeWaiter = resolve;
    });
  }

  private async run(): Promise<void> {
    // Never deliver inside the publish()/subscribe() call stack.
    await Promise.resolve();
    let delivered = 0;
    try {
      for (;;) {
        this.wakePending = false;
        const owner = this.group.ownerOf(this.key);
        if (!owner) return;
        const offset = this.group.committedOffset(this.key) ?? 0;
        const record = this.log[offset];
        if (!record) {
          await this.waitForWake();
          continue;
        }
        if (offset === this.lastOffset && owner === this.lastOwner) this.attempt += 1;
        else this.attempt = 1;
        this.lastOffset = offset;
        this.lastOwner = owner;
        const message: IncomingMessage = Object.freeze({
          topic: this.topic,
          partition: this.partition,
          offset: String(offset),
          key: record.key,
          value: record.value.slice(),
          headers: record.headers,
          timestamp: record.timestamp,
        });
        const outcome = await owner.deliver(message, this.attempt);
        if (outcome === 'ok') {
          this.group.commit(this.key, offset + 1);
        } else if (outcome === 'failed') {
          await sleep(backoffDelay(this.attempt, owner.backoff), owner.abort.signal);
        }
        if (++delivered % YIELD_EVERY === 0) await yieldToEventLoop();
      }
    } finally {
      this.running = false;
      if (this.wakePending && this.group.ownerOf(this.key)) this.wake();
    }
  }
}
