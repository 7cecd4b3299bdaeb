// env=node: generated `bytes` fields are Buffer, and kafkajs wants Buffer record values.
// ts-proto's writer.finish() returns a Uint8Array; view it as a Buffer without copying.
export function asBuffer(bytes: Uint8Array): Buffer {
  return Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}
