import { describe, expect, it } from '@jest/globals';
import fc from 'fast-check';
import { createRequire } from 'node:module';
import { murmur2, partitionForKey } from './partitioner.js';

const require = createRequire(import.meta.url);
// kafkajs's own DefaultPartitioner hash (Java-compatible since kafkajs 2.0): the oracle.
const kafkajsMurmur2 = require('kafkajs/src/producer/partitioners/default/murmur2.js') as (key: Buffer) => number;
const kafkajsDefaultPartitioner = (require('kafkajs') as { Partitioners: { DefaultPartitioner: () => (args: unknown) => number } }).Partitioners
  .DefaultPartitioner;

const utf8 = (text: string): Uint8Array => new TextEncoder().encode(text);

describe('murmur2 (Kafka default partitioner hash)', () => {
  // Known answers from Apache Kafka's clients UtilsTest.testMurmur2.
  it.each([
    ['21', -973932308],
    ['foobar', -790332482],
    ['a-little-bit-long-string', -985981536],
    ['a-little-bit-longer-string', -1486304829],
    ['lkjh234lh9fiuh90y23oiuhsafujhadof229phr9h19h89h8', -58897971],
    ['abc', 479470107],
  ])('murmur2(%j) = %d like the Java client', (input, expected) => {
    expect(murmur2(utf8(input))).toBe(expected);
  });

  it('agrees with kafkajs on arbitrary bytes', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 64 }), (bytes) => {
        expect(murmur2(bytes)).toBe(kafkajsMurmur2(Buffer.from(bytes)));
      }),
      { numRuns: 2000 },
    );
  });

  it('puts every key on the partition the kafkajs producer would choose', () => {
    const partitioner = kafkajsDefaultPartitioner();
    fc.assert(
      fc.property(fc.string({ minLength: 1, maxLength: 40, unit: 'grapheme' }), fc.integer({ min: 1, max: 64 }), (key, partitions) => {
        const partitionMetadata = Array.from({ length: partitions }, (_, partitionId) => ({ partitionId, leader: 0 }));
        const expected = partitioner({ topic: 't', partitionMetadata, message: { key, value: null } });
        expect(partitionForKey(key, partitions)).toBe(expected);
      }),
      { numRuns: 1000 },
    );
  });

  it('is stable and in range', () => {
    fc.assert(
      fc.property(fc.string(), fc.integer({ min: 1, max: 1000 }), (key, partitions) => {
        const p = partitionForKey(key, partitions);
        expect(Number.isInteger(p) && p >= 0 && p < partitions).toBe(true);
        expect(partitionForKey(key, partitions)).toBe(p);
      }),
    );
  });

  it('refuses a partition count that is not a positive integer', () => {
    expect(() => partitionForKey('k', 0)).toThrow(RangeError);
    expect(() => partitionForKey('k', 1.5)).toThrow(RangeError);
  });
});
