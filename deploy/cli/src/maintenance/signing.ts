// The operator request signature of intake's IntakeAdminService: Ed25519 over intake's own
// canonical encoding (`encodeSigningInput`, the bodies of `adminBodies`, the header names of
// `AuthHeaders` — all imported from @custody/intake's package entry, never copied here), keyed
// by the operator id (x-custody-client-id = operator id). Pure apart from the signature.
import { randomBytes, sign, type KeyObject } from 'node:crypto';
// The composition layer may use a service's exported API (as deploy/embedded does); the whole-graph
// rule is checked by scripts/workspace/boundaries.spec.ts.
// eslint-disable-next-line @nx/enforce-module-boundaries
import type { BodyField, SigningEnvelope } from '@custody/intake';

/** What the CLI takes from intake's exported API. */
export interface IntakeSigning {
  readonly encodeSigningInput: (envelope: SigningEnvelope) => Uint8Array;
  readonly headers: { readonly clientId: string; readonly keyId: string; readonly timestamp: string; readonly nonce: string; readonly signature: string };
  /** e.g. "/custody.intake.v1.IntakeAdminService" */
  readonly servicePath: string;
}

export interface AdminOperator {
  readonly operatorId: string;
  /** The id of the operator's key as configured in intake's operators file. */
  readonly keyId: string;
  readonly key: KeyObject;
}

/** The five x-custody-* headers of one signed admin call (a fresh nonce each time: intake refuses a replay). */
export function signAdminCall(s: IntakeSigning, rpc: string, body: readonly BodyField[], op: AdminOperator, nowMs: number, nonce: string = randomBytes(16).toString('hex')): Record<string, string> {
  const payload = s.encodeSigningInput({ method: `${s.servicePath}/${rpc}`, clientId: op.operatorId, keyId: op.keyId, timestampMs: nowMs, nonce, body });
  return {
    [s.headers.clientId]: op.operatorId,
    [s.headers.keyId]: op.keyId,
    [s.headers.timestamp]: String(nowMs),
    [s.headers.nonce]: nonce,
    [s.headers.signature]: sign(null, payload, op.key).toString('base64'),
  };
}
