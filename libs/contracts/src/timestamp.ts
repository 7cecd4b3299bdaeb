// google.protobuf.Timestamp helpers. The generated code keeps Timestamp as the wire
// shape { seconds: string (int64, forceLong=string), nanos: number } — lossless, so a
// decoded event re-encodes to the same bytes. Convert at the edges with these.
import type { Timestamp } from './gen/google/protobuf/timestamp.js';

const NANOS_PER_MILLI = 1_000_000;

/** Timestamp for a JS Date (millisecond precision). */
export function timestampFromDate(date: Date): Timestamp {
  const ms = date.getTime();
  if (!Number.isFinite(ms)) throw new RangeError('timestampFromDate: invalid Date');
  const seconds = Math.floor(ms / 1000);
  return { seconds: String(seconds), nanos: (ms - seconds * 1000) * NANOS_PER_MILLI };
}

/** Timestamp for epoch milliseconds. */
export function timestampFromMillis(ms: number): Timestamp {
  return timestampFromDate(new Date(ms));
}

/** JS Date for a Timestamp (sub-millisecond nanos are truncated). */
export function timestampToDate(ts: Timestamp): Date {
  return new Date(timestampToMillis(ts));
}

/** Epoch milliseconds for a Timestamp (sub-millisecond nanos are truncated). */
export function timestampToMillis(ts: Timestamp): number {
  const seconds = Number(ts.seconds);
  if (!Number.isSafeInteger(seconds) || !Number.isInteger(ts.nanos) || ts.nanos < 0 || ts.nanos > 999_999_999) {
    throw new RangeError(`timestampToMillis: invalid Timestamp {seconds: ${ts.seconds}, nanos: ${ts.nanos}}`);
  }
  return seconds * 1000 + Math.floor(ts.nanos / NANOS_PER_MILLI);
}
