/**
 * OperatorDirectory from a JSON document (data/config, versioned with the deployment):
 *
 *   { "approvalDevices": { "required": true, "rpId": "console.custody.example",
 *                          "origins": ["https://console.custody.example"],
 *                          "allowedKinds": ["security-key", "platform"] },
 *     "operators": [ { "id": "op-alice", "roles": ["compliance"],
 *                      "keys": { "alice-2025": "<64 hex: Ed25519 public key>" },
 *                      "devices": [ { "id": "<credential id, base64url>", "keyType": "es256",
 *                                     "publicKey": "<hex SEC1 P-256 point>", "kind": "security-key",
 *                                     "registeredAt": "2026-01-05T09:00:00Z" } ] } ] }
 *
 * Public keys only. A malformed document stops the service at boot. `approvalDevices`
 * absent: device assertions are required and, with no console rpId, none can be accepted
 * (every vote refused DEVICE_ASSERTION_REQUIRED / DEVICE_RP_ID_MISMATCH): fail closed.
 * `"required": false` is for development deployments only (docs/policies.md "Approver devices").
 */
import { readFileSync } from 'node:fs';
import { z } from 'zod';
import type { Operator } from '../../domain/approval.js';
import { devicePublicKeyFromCose, type DeviceAssertionPolicy, type DeviceKind, type RegisteredDevice } from '../../domain/device-assertion.js';
import type { OperatorDirectory } from '../../application/ports.js';

const ident = z.string().regex(/^[!-~]{1,256}$/);
const role = z.string().regex(/^[a-z][a-z0-9_]{0,63}$/);
const kind = z.enum(['security-key', 'platform', 'software']);
const instant = z.iso.datetime({ offset: true }).transform((s) => Math.floor(Date.parse(s) / 1000));
const rpId = z.string().regex(/^(?=.{1,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)(\.[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)*$/);
const device = z
  .object({
    id: z.string().regex(/^[A-Za-z0-9_-]{16,1366}$/),
    /** Either the COSE_Key of the registration (base64url) ... */
    cosePublicKey: z.string().regex(/^[A-Za-z0-9_-]{1,400}$/).optional(),
    /** ... or keyType + publicKey (hex: SEC1 P-256 point, or raw Ed25519). */
    keyType: z.enum(['es256', 'ed25519']).optional(),
    publicKey: z.string().regex(/^([0-9a-f]{2})+$/).optional(),
    kind,
    registeredAt: instant,
    revokedAt: instant.optional(),
  })
  .transform((d, ctx) => {
    const key = d.cosePublicKey !== undefined && d.publicKey === undefined && d.keyType === undefined
      ? devicePublicKeyFromCose(new Uint8Array(Buffer.from(d.cosePublicKey, 'base64url')))
      : d.cosePublicKey === undefined && d.publicKey !== undefined && d.keyType !== undefined && (d.keyType === 'ed25519' ? d.publicKey.length === 64 : d.publicKey.length === 130 || d.publicKey.length === 66)
        ? { keyType: d.keyType, publicKey: new Uint8Array(Buffer.from(d.publicKey, 'hex')) }
        : undefined;
    if (!key) {
      ctx.addIssue({ code: 'custom', message: `device ${d.id}: give cosePublicKey (EC2 P-256/ES256 or OKP Ed25519), or keyType with publicKey (es256: SEC1 point of 65 or 33 bytes; ed25519: 32 bytes)` });
      return z.NEVER;
    }
    return { id: d.id, kind: d.kind, registeredAt: d.registeredAt, revokedAt: d.revokedAt, ...key };
  });
const approvalDevices = z
  .object({
    required: z.boolean(),
    rpId: rpId.optional(),
    origins: z.array(z.string().url()).default([]),
    allowedKinds: z.array(kind).min(1).default(['security-key', 'platform']),
  })
  .refine((p) => !p.required || (p.rpId !== undefined && p.origins.length > 0), { message: 'approvalDevices.required needs rpId and at least one origin' })
  .refine((p) => p.rpId === undefined || p.origins.every((o) => originMatchesRpId(o, p.rpId as string)), { message: 'every origin must be https (or http://localhost) on rpId or a subdomain of it' });
const schema = z.object({
  approvalDevices: approvalDevices.optional(),
  operators: z.array(
    z.object({
      id: ident,
      roles: z.array(role).min(1),
      keys: z.record(ident, z.string().regex(/^[0-9a-f]{64}$/)),
      devices: z.array(device).default([]),
    }),
  ),
});

/** WebAuthn: the origin's host is the rpId or a subdomain of it; https except localhost. */
function originMatchesRpId(origin: string, rp: string): boolean {
  let url: URL;
  try {
    url = new URL(origin);
  } catch {
    return false;
  }
  if (url.origin !== origin) return false;
  const secure = url.protocol === 'https:' || (url.protocol === 'http:' && url.hostname === 'localhost');
  return secure && (url.hostname === rp || url.hostname.endsWith(`.${rp}`));
}

/** Absent `approvalDevices`: required, no console configured, so nothing is accepted. */
const FAIL_CLOSED: DeviceAssertionPolicy = Object.freeze({ required: true, origins: Object.freeze([]), allowedKinds: Object.freeze(['security-key', 'platform'] as DeviceKind[]) });

export function operatorDirectory(operators: readonly Operator[], deviceAssertions?: DeviceAssertionPolicy): OperatorDirectory {
  const map = new Map<string, Operator>();
  const devices = new Set<string>();
  for (const op of operators) {
    if (map.has(op.operatorId)) throw new Error(`operator ${op.operatorId} is listed twice`);
    for (const id of op.devices?.keys() ?? []) {
      if (devices.has(id)) throw new Error(`device ${id} is registered twice`);
      devices.add(id);
    }
    map.set(op.operatorId, Object.freeze({ ...op, roles: Object.freeze([...op.roles]) }));
  }
  return Object.freeze({ operators: map, ...(deviceAssertions ? { deviceAssertions: Object.freeze({ ...deviceAssertions }) } : {}) });
}

export function parseOperatorDocument(json: unknown): OperatorDirectory {
  const doc = schema.parse(json);
  const policy: DeviceAssertionPolicy = doc.approvalDevices
    ? { required: doc.approvalDevices.required, rpId: doc.approvalDevices.rpId, origins: Object.freeze([...doc.approvalDevices.origins]), allowedKinds: Object.freeze([...doc.approvalDevices.allowedKinds]) }
    : FAIL_CLOSED;
  return operatorDirectory(
    doc.operators.map((o) => ({
      operatorId: o.id,
      roles: o.roles,
      keys: new Map(Object.entries(o.keys).map(([k, v]) => [k, new Uint8Array(Buffer.from(v, 'hex'))])),
      devices: new Map(
        o.devices.map((d): [string, RegisteredDevice] => [
          d.id,
          Object.freeze({ deviceId: d.id, keyType: d.keyType, publicKey: d.publicKey, kind: d.kind, registeredAt: d.registeredAt, ...(d.revokedAt !== undefined ? { revokedAt: d.revokedAt } : {}) }),
        ]),
      ),
    })),
    policy,
  );
}

export function operatorDirectoryFromFile(path: string): OperatorDirectory {
  return parseOperatorDocument(JSON.parse(readFileSync(path, 'utf8')) as unknown);
}
