// Plumbing for intake's integration tests: a throw-away database provisioned like
// production (owner runs migrations, app role serves), prefixed Kafka topics, a signing
// gRPC client, and a clock the test can move.
import { randomBytes, randomUUID } from 'node:crypto';
import { credentials as grpcCredentials, Metadata, type ChannelCredentials, type ServiceError } from '@grpc/grpc-js';
import { ed25519 } from '@noble/curves/ed25519.js';
import pg from 'pg';
import { ALL_TOPICS, CustodyGatewayServiceClient } from '@custody/contracts';
import { createKafkaClient, ensureTopics, withDeadLetterTopics } from '@custody/event-bus';
import { assertMigrationsMatchEntities, createLogger, createServiceDataSource, errorReason, provisionServiceDatabase, runMigrations } from '@custody/platform';
import { AuthHeaders, INTAKE_ENTITIES, INTAKE_MIGRATIONS, encodeSigningInput, type BodyField } from '../../src/index.js';

export function requireEnv(name: string): string {
  const value = process.env[name];
  if (!value) throw new Error(`${name} is not set: the integration globalSetup loads it from .local/infra.env (run npm run infra:up)`);
  return value;
}

export const rand = (): string => randomBytes(5).toString('hex');
export const quietLogger = () => createLogger({ service: 'intake-test', level: 'warn' });

export async function waitFor(condition: () => boolean | Promise<boolean>, timeoutMs: number, what: () => string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (let polls = 0; polls < 100_000; polls++) {
    if (await condition()) return;
    if (Date.now() > deadline) break;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw new Error(`timed out after ${timeoutMs} ms waiting for: ${what()}`);
}

export interface TestDatabase {
  readonly schema: string;
  readonly appUrl: string;
  readonly adminDbUrl: string;
  /** Runs a query as the admin in the test database. */
  query<T = Record<string, unknown>>(sql: string, params?: unknown[]): Promise<T[]>;
  drop(): Promise<void>;
}

/** CREATE DATABASE intake_test_<rand>, provision schema + roles, run the migrations as owner. */
export async function createTestDatabase(): Promise<TestDatabase> {
  const adminUrl = requireEnv('CUSTODY_PG_ADMIN_URL');
  const suffix = rand();
  const name = `intake_test_${suffix}`;
  const admin = new pg.Client({ connectionString: adminUrl });
  await admin.connect();
  await admin.query(`CREATE DATABASE "${name}"`);
  await admin.end();
  const dbUrl = new URL(adminUrl);
  dbUrl.pathname = `/${name}`;
  const service = `intake_t${suffix}`;
  const ownerPassword = `owner-${rand()}-${rand()}`;
  const appPassword = `app-${rand()}-${rand()}`;
  const roles = await provisionServiceDatabase(dbUrl.toString(), { service, ownerPassword, appPassword });
  const urlFor = (user: string, password: string): string => {
    const u = new URL(dbUrl.toString());
    u.username = user;
    u.password = password;
    return u.toString();
  };
  const owner = createServiceDataSource({ service, url: urlFor(roles.ownerRole, ownerPassword), entities: INTAKE_ENTITIES, migrations: INTAKE_MIGRATIONS });
  await owner.initialize();
  try {
    await runMigrations(owner);
    await assertMigrationsMatchEntities(owner);
  } finally {
    await owner.destroy();
  }
  const client = new pg.Client({ connectionString: dbUrl.toString() });
  await client.connect();
  await client.query(`SET search_path = "${roles.schema}"`);
  return {
    schema: roles.schema,
    appUrl: urlFor(roles.appRole, appPassword),
    adminDbUrl: dbUrl.toString(),
    query: async <T>(sql: string, params: unknown[] = []) => (await client.query(sql, params)).rows as T[],
    drop: async () => {
      await client.end();
      const a = new pg.Client({ connectionString: adminUrl });
      await a.connect();
      try {
        await a.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
        await a.query(`DROP ROLE IF EXISTS "${roles.ownerRole}"`);
        await a.query(`DROP ROLE IF EXISTS "${roles.appRole}"`);
      } finally {
        await a.end();
      }
    },
  };
}

/** Creates every custody topic (+ .dlq) under the prefix. */
export async function createPrefixedTopics(prefix: string): Promise<void> {
  const kafka = createKafkaClient({ brokers: requireEnv('KAFKA_BROKERS').split(','), clientId: `intake-test-admin-${rand()}`, logLevel: 'nothing' });
  const admin = kafka.admin();
  await admin.connect();
  try {
    await ensureTopics(admin, withDeadLetterTopics(ALL_TOPICS.map((t) => ({ topic: `${prefix}${t}`, partitions: 3 }))));
  } finally {
    await admin.disconnect();
  }
}

export async function deletePrefixedTopics(prefix: string): Promise<void> {
  const kafka = createKafkaClient({ brokers: requireEnv('KAFKA_BROKERS').split(','), clientId: `intake-test-admin-${rand()}`, logLevel: 'nothing' });
  const admin = kafka.admin();
  await admin.connect();
  try {
    const topics = (await admin.listTopics()).filter((t) => t.startsWith(prefix));
    if (topics.length > 0) await admin.deleteTopics({ topics });
  } finally {
    await admin.disconnect();
  }
}

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
