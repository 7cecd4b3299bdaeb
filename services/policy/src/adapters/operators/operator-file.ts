/**
 * OperatorDirectory from a JSON document (data/config, versioned with the deployment):
 *
 *   { "operators": [ { "id": "op-alice", "roles": ["compliance"],
 *                      "keys": { "alice-2025": "<64 hex: Ed25519 public key>" } } ] }
 *
 * Public keys only. A malformed document stops the service at boot.
 */
import { readFileSync } from 'node:fs';
import { z } from 'zod';
import type { Operator } from '../../domain/approval.js';
import type { OperatorDirectory } from '../../application/ports.js';

const ident = z.string().regex(/^[!-~]{1,256}$/);
const role = z.string().regex(/^[a-z][a-z0-9_]{0,63}$/);
const schema = z.object({
  operators: z.array(
    z.object({
      id: ident,
      roles: z.array(role).min(1),
      keys: z.record(ident, z.string().regex(/^[0-9a-f]{64}$/)),
    }),
  ),
});

export function operatorDirectory(operators: readonly Operator[]): OperatorDirectory {
  const map = new Map<string, Operator>();
  for (const op of operators) {
    if (map.has(op.operatorId)) throw new Error(`operator ${op.operatorId} is listed twice`);
    map.set(op.operatorId, Object.freeze({ ...op, roles: Object.freeze([...op.roles]) }));
  }
  return Object.freeze({ operators: map });
}

export function parseOperatorDocument(json: unknown): OperatorDirectory {
  const doc = schema.parse(json);
  return operatorDirectory(
    doc.operators.map((o) => ({
      operatorId: o.id,
      roles: o.roles,
      keys: new Map(Object.entries(o.keys).map(([k, v]) => [k, new Uint8Array(Buffer.from(v, 'hex'))])),
    })),
  );
}

export function operatorDirectoryFromFile(path: string): OperatorDirectory {
  return parseOperatorDocument(JSON.parse(readFileSync(path, 'utf8')) as unknown);
}
