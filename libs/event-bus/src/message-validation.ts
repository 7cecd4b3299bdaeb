// Argument checks shared by both adapters, so a bad call fails the same way on each.
import { EventBusError } from './errors.js';
import type { OutgoingMessage, SubscribeOptions } from './event-bus.js';

export function assertValidOutgoing(messages: readonly OutgoingMessage[]): void {
  if (!Array.isArray(messages)) throw new EventBusError('INVALID_ARGUMENT', 'publish: messages must be an array');
  messages.forEach((message, index) => {
    const where = `publish: messages[${index}]`;
    if (typeof message?.topic !== 'string' || message.topic.length === 0) {
      throw new EventBusError('INVALID_ARGUMENT', `${where}.topic must be a non-empty string`);
    }
    if (typeof message.key !== 'string' || message.key.length === 0) {
      throw new EventBusError('INVALID_ARGUMENT', `${where}.key must be a non-empty string (ordering is per key)`);
    }
    if (!(message.value instanceof Uint8Array)) throw new EventBusError('INVALID_ARGUMENT', `${where}.value must be a Uint8Array`);
    for (const [name, value] of Object.entries(message.headers ?? {})) {
      if (typeof value !== 'string') throw new EventBusError('INVALID_ARGUMENT', `${where}.headers.${name} must be a string`);
    }
  });
}

export function assertValidSubscribe(options: SubscribeOptions): void {
  if (typeof options?.groupId !== 'string' || options.groupId.length === 0) {
    throw new EventBusError('INVALID_ARGUMENT', 'subscribe: groupId must be a non-empty string');
  }
  if (!Array.isArray(options.topics) || options.topics.length === 0 || options.topics.some((t) => typeof t !== 'string' || t.length === 0)) {
    throw new EventBusError('INVALID_ARGUMENT', 'subscribe: topics must be a non-empty array of non-empty strings');
  }
  if (new Set(options.topics).size !== options.topics.length) throw new EventBusError('INVALID_ARGUMENT', 'subscribe: topics must not repeat');
  if (typeof options.handler !== 'function') throw new EventBusError('INVALID_ARGUMENT', 'subscribe: handler must be a function');
}
