// Plumbing for intake's integration tests: a throw-away database provisioned like
// production (owner runs migrations, app role serves), prefixed Kafka topics, a signing
// gRPC client, and a clock the test can move.
import { randomUUID } from 'node:crypto';
import { credentials as grpcCredentials, Metadata, type ChannelCredentials, type ServiceError } from '@grpc/grpc-js';
import { ed25519 } from '@noble/curves/ed25519.js';
import { CustodyGatewayServiceClient } from '@custody/contracts';
import { createLogger, errorReason } from '@custody/platform';
import { createTestDatabase as createServiceTestDatabase, type TestDatabase } from '@custody/testing';
import { AuthHeaders, INTAKE_ENTITIES, INTAKE_MIGRATIONS, encodeSigningInput, type BodyField } from '../../src/index.js';

export { requireEnv, rand, waitFor, createPrefixedTopics, deletePrefixedTopics, type TestDatabase } from '@custody/testing';

export const quietLogger = () => createLogger({ service: 'intake-test', level: 'warn' });

/** CREATE DATABASE intake_test_<rand>, provision schema + roles, run the migrations as owner. */
export const createTestDatabase = (): Promise<TestDatabase> => createServiceTestDatabase({ service: 'intake', entities: INTAKE_ENTITIES, migrations: INTAKE_MIGRATIONS });

/** A clock the test can move or freeze. */
export class TestClock {
  offsetMs = 0;
  frozen: Date | undefined;
  now(): Date {
    return this.frozen ?? new Date(Date.now() + this.offsetMs);
  }
}

export interface SigningKey {
  readonly clientId: string;
  readonly keyId: string;
  readonly secret: Uint8Array;
  readonly publicKey: Uint8Array;
}

export function newSigningKey(clientId: string, keyId = 'k1'): SigningKey {
  const secret = ed25519.utils.randomSecretKey();
  return { clientId, keyId, secret, publicKey: ed25519.getPublicKey(secret) };
}

export const newNonce = (): string => randomUUID().replace(/-/g, '');

/** Metadata carrying an Ed25519 signature over the canonical request. */
export function signedMetadata(
  key: SigningKey,
  method: string,
  body: readonly BodyField[],
  options: { timestampMs: number; nonce?: string; clientIdOverride?: string; tamper?: boolean },
): Metadata {
  const nonce = options.nonce ?? newNonce();
  const clientId = options.clientIdOverride ?? key.clientId;
  const payload = encodeSigningInput({ method: `/custody.intake.v1.CustodyGatewayService/${method}`, clientId, keyId: key.keyId, timestampMs: options.timestampMs, nonce, body });
  const signature = ed25519.sign(payload, key.secret);
  if (options.tamper) signature[0] = (signature[0] as number) ^ 1;
  const md = new Metadata();
  md.set(AuthHeaders.clientId, clientId);
  md.set(AuthHeaders.keyId, key.keyId);
  md.set(AuthHeaders.timestamp, String(options.timestampMs));
  md.set(AuthHeaders.nonce, nonce);
  md.set(AuthHeaders.signature, Buffer.from(signature).toString('base64'));
  return md;
}

export const submitBodyOf = (r: { idempotencyKey: string; customerAccount: string; asset: string; amount: string; destinationAddress: string; destinationTag: string; clientReference: string }): BodyField[] => [
  ['idempotency_key', r.idempotencyKey],
  ['customer_account', r.customerAccount],
  ['asset', r.asset],
  ['amount', r.amount],
  ['destination_address', r.destinationAddress],
  ['destination_tag', r.destinationTag],
  ['client_reference', r.clientReference],
];

export function newClient(port: number, creds: ChannelCredentials = grpcCredentials.createInsecure()): CustodyGatewayServiceClient {
  return new CustodyGatewayServiceClient(`127.0.0.1:${port}`, creds);
}

/** Promisified unary call: resolves the response or rejects with the ServiceError. */
export function call<Req, Res>(
  fn: (req: Req, md: Metadata, cb: (err: ServiceError | null, res: Res) => void) => unknown,
  req: Req,
  md: Metadata = new Metadata(),
): Promise<Res> {
  return new Promise((resolve, reject) => {
    fn(req, md, (err, res) => (err ? reject(err) : resolve(res)));
  });
}

export async function failure(p: Promise<unknown>): Promise<{ code: number; reason: string | undefined; field: string | undefined; details: string; metadata: Metadata }> {
  try {
    await p;
  } catch (e) {
    const err = e as ServiceError;
    const field = err.metadata?.get('error-field')[0];
    return { code: err.code, reason: errorReason(err.metadata), field: typeof field === 'string' ? field : undefined, details: err.details, metadata: err.metadata };
  }
  throw new Error('expected the call to fail');
}
