import { describe, it, expect } from '@jest/globals';
import { readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import {
  ALL_TOPICS,
  AUDIT_LOG_KEY,
  EVENTS,
  EVENT_TYPES,
  TOPIC_NAME_PATTERN,
  TOPIC_PARTITION_KEYS,
  Topics,
  UnknownEventTypeError,
  deadLetterTopic,
  decodePayload,
  encodeEvent,
  isDeadLetterTopic,
  isEventType,
  partitionKeyOf,
  topicVersion,
} from './index.js';

const eventsProtoDir = fileURLToPath(new URL('../../../proto/custody/events/v1/', import.meta.url));

/** Top-level messages declared in proto/custody/events/v1/*.proto, per file. */
function eventProtoMessages(): Map<string, string> {
  const messages = new Map<string, string>();
  for (const file of readdirSync(eventsProtoDir).filter((f) => f.endsWith('.proto'))) {
    const text = readFileSync(eventsProtoDir + file, 'utf8');
    for (const match of text.matchAll(/^message\s+([A-Za-z0-9_]+)\s*\{/gm)) messages.set(match[1]!, file);
  }
  return messages;
}

// Messages in events/v1 that are not event payloads themselves.
const NOT_PAYLOADS = new Set(['EventEnvelope', 'DeadLetter', 'Reason', 'Approval', 'RequestSignature', 'RequiredApprovals', 'QuorumEvidence', 'TreasuryTransfer']);

describe('topics', () => {
  it('every topic follows custody.<entity>.<event>.v<N>', () => {
    expect(ALL_TOPICS.length).toBe(14);
    for (const topic of ALL_TOPICS) {
      expect(topic).toMatch(TOPIC_NAME_PATTERN);
      expect(topicVersion(topic)).toBe(1);
    }
    expect(new Set(ALL_TOPICS).size).toBe(ALL_TOPICS.length);
  });

  it('the pattern rejects names outside the rule', () => {
    for (const bad of ['custody.withdrawal.requested', 'custody.Withdrawal.requested.v1', 'custody.withdrawal.v1', 'other.withdrawal.requested.v1', 'custody.withdrawal.requested.v0', 'custody.tx.status.v1.dlq']) {
      expect(bad).not.toMatch(TOPIC_NAME_PATTERN);
    }
  });

  it('dead-letter topics are <topic>.dlq', () => {
    for (const topic of ALL_TOPICS) {
      expect(deadLetterTopic(topic)).toBe(`${topic}.dlq`);
      expect(isDeadLetterTopic(deadLetterTopic(topic))).toBe(true);
      expect(isDeadLetterTopic(topic)).toBe(false);
    }
  });

  it('keys: withdrawal id for request/decision topics, source wallet for tx.*', () => {
    for (const topic of ALL_TOPICS) {
      const entity = topic.split('.')[1];
      if (entity === 'tx') expect(TOPIC_PARTITION_KEYS[topic]).toBe('source_wallet');
      if (entity === 'withdrawal' || entity === 'risk' || entity === 'policy') expect(TOPIC_PARTITION_KEYS[topic]).toBe('withdrawal_id');
    }
    expect(partitionKeyOf(Topics.txPrepared, { ...EVENTS[Topics.txPrepared].codec.fromJSON({}), sourceWallet: 'w1', withdrawalId: 'wd' })).toBe('w1');
    expect(partitionKeyOf(Topics.riskAssessed, { ...EVENTS[Topics.riskAssessed].codec.fromJSON({}), withdrawalId: 'wd' })).toBe('wd');
    expect(partitionKeyOf(Topics.auditRecorded, EVENTS[Topics.auditRecorded].codec.fromJSON({}))).toBe(AUDIT_LOG_KEY);
  });
});

describe('event registry', () => {
  it('has exactly one entry per topic, type == topic, version from the name', () => {
    expect([...EVENT_TYPES].sort()).toEqual([...ALL_TOPICS].sort());
    for (const type of EVENT_TYPES) {
      const def = EVENTS[type];
      expect(def.type).toBe(type);
      expect(def.topic).toBe(type);
      expect(def.schemaVersion).toBe(topicVersion(type));
      expect(def.partitionKey).toBe(TOPIC_PARTITION_KEYS[type]);
      expect(isEventType(type)).toBe(true);
    }
  });

  it('covers every event message declared in proto/custody/events/v1', () => {
    const declared = [...eventProtoMessages().keys()].filter((m) => !NOT_PAYLOADS.has(m)).sort();
    const registered = EVENT_TYPES.map((t) => EVENTS[t].messageName.replace('custody.events.v1.', '')).sort();
    expect(registered).toEqual(declared);
    for (const known of NOT_PAYLOADS) expect(eventProtoMessages().has(known)).toBe(true);
  });

  it('every codec round-trips a default message and decodes by type', () => {
    for (const type of EVENT_TYPES) {
      const codec = EVENTS[type].codec;
      const message = codec.fromJSON({});
      const decoded = decodePayload({ type, payload: encodeEvent(type, message as never) });
      expect(decoded.type).toBe(type);
      expect(decoded.message).toEqual(message);
    }
  });

  it('unknown types are an error to dead-letter, not a silent drop', () => {
    expect(isEventType('custody.withdrawal.requested.v2')).toBe(false);
    expect(isEventType('toString')).toBe(false);
    expect(() => decodePayload({ type: 'custody.unknown.thing.v1', payload: Buffer.alloc(0) })).toThrow(UnknownEventTypeError);
  });
});
