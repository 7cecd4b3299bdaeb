// Key -> partition, the same way Kafka's default partitioner does it (Java client
// `Utils.murmur2` + `toPositive(hash) % numPartitions`, which kafkajs 2.x also uses as its
// DefaultPartitioner). The in-process bus uses it, so a key lands on the same partition
// number on both buses for the same partition count.

const SEED = 0x9747b28c;
const M = 0x5bd1e995;

const utf8 = new TextEncoder();

/** Kafka's murmur2 (signed 32-bit result, like Java's `int`). */
export function murmur2(data: Uint8Array): number {
  const length = data.length;
  let h = (SEED ^ length) | 0;
  const length4 = length >>> 2;
  for (let i = 0; i < length4; i++) {
    const i4 = i * 4;
    let k = (data[i4]! & 0xff) | ((data[i4 + 1]! & 0xff) << 8) | ((data[i4 + 2]! & 0xff) << 16) | ((data[i4 + 3]! & 0xff) << 24);
    k = Math.imul(k, M);
    k ^= k >>> 24;
    k = Math.imul(k, M);
    h = Math.imul(h, M) ^ k;
  }
  const tail = length & ~3;
  const rest = length % 4;
  if (rest >= 3) h ^= (data[tail + 2]! & 0xff) << 16;
  if (rest >= 2) h ^= (data[tail + 1]! & 0xff) << 8;
  if (rest >= 1) {
    h ^= data[tail]! & 0xff;
    h = Math.imul(h, M);
  }
  h ^= h >>> 13;
  h = Math.imul(h, M);
  h ^= h >>> 15;
  return h | 0;
}

/** Partition of a key among `partitions` partitions: (murmur2(utf8(key)) & 0x7fffffff) % partitions. */
export function partitionForKey(key: string, partitions: number): number {
  if (!Number.isInteger(partitions) || partitions < 1) {
    throw new RangeError(`partitionForKey: partitions must be a positive integer, got ${partitions}`);
  }
  return (murmur2(utf8.encode(key)) & 0x7fffffff) % partitions;
}
