// Plumbing for the risk integration tests: a throw-away database on the real Postgres,
// unique Kafka topics, a local analytics-provider HTTP server, and waiting helpers.
import { randomBytes } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import pg from 'pg';
import { decodeEvent, Topics, type RiskAssessed } from '@custody/contracts';
import { createKafkaClient, ensureTopics, KafkaBus, protobufEnvelopeCodec, withDeadLetterTopics, type Subscription } from '@custody/event-bus';

export const rand = (): string => randomBytes(5).toString('hex');

export function requireEnv(name: string): string {
  const v = process.env[name];
  if (!v) throw new Error(`${name} is not set (run npm run infra:up; the integration globalSetup loads .local/infra.env)`);
  return v;
}

export async function createDatabase(prefix: string): Promise<{ adminUrl: string; drop(): Promise<void> }> {
  const adminUrl = requireEnv('CUSTODY_PG_ADMIN_URL');
  const name = `${prefix}_${rand()}`;
  const admin = new pg.Client({ connectionString: adminUrl });
  await admin.connect();
  await admin.query(`CREATE DATABASE "${name}"`);
  await admin.end();
  const u = new URL(adminUrl);
  u.pathname = `/${name}`;
  return {
    adminUrl: u.toString(),
    async drop() {
      const c = new pg.Client({ connectionString: adminUrl });
      await c.connect();
      try {
        await c.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
      } finally {
        await c.end();
      }
    },
  };
}

export async function waitFor<T>(probe: () => T | undefined | Promise<T | undefined>, timeoutMs: number, what: () => string): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (let i = 0; i < 100_000; i++) {
    const v = await probe();
    if (v !== undefined) return v;
    if (Date.now() > deadline) break;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`timed out after ${timeoutMs} ms waiting for ${what()}`);
}

export type ProviderBehaviour = { kind: 'json'; body: unknown } | { kind: 'status'; status: number } | { kind: 'hang' };

/** A local analytics provider speaking the entity-API response format, bound to 127.0.0.1. */
export async function startProvider(behaviourFor: (address: string) => ProviderBehaviour): Promise<{ url: string; requests: string[]; close(): Promise<void> }> {
  const requests: string[] = [];
  const hanging = new Set<() => void>();
  const server: Server = createServer((req, res) => {
    const m = /^\/api\/risk\/v2\/entities\/([^/?]+)$/.exec(req.url ?? '');
    if (!m?.[1]) {
      res.writeHead(404).end();
      return;
    }
    const address = decodeURIComponent(m[1]);
    requests.push(address);
    const b = behaviourFor(address);
    if (b.kind === 'hang') {
      const end = (): void => void res.destroy();
      hanging.add(end);
      req.on('close', () => hanging.delete(end));
      return;
    }
    if (b.kind === 'status') {
      res.writeHead(b.status, { 'content-type': 'application/json' }).end('{"message":"unavailable"}');
      return;
    }
    res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(b.body));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    async close() {
      for (const end of hanging) end();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

export const lowRisk = (address: string): ProviderBehaviour => ({ kind: 'json', body: { address, risk: 'Low', riskReason: null, cluster: null, exposures: [], status: 'COMPLETE' } });

/** The topics risk consumes and produces, unique to one test file: `<name>_<suffix>.<topic>.v1`. */
export const riskTopics = (name: string, suffix: string) => ({
  withdrawalRequested: `${name}_${suffix}.withdrawal.requested.v1`,
  depositDetected: `${name}_${suffix}.deposit.detected.v1`,
  riskAssessed: `${name}_${suffix}.risk.assessed.v1`,
});
export type RiskTopics = ReturnType<typeof riskTopics>;

/** Kafka for one test file: its topics (3 partitions, with dead-letter topics) created, a bus; close() deletes them again. */
export class RiskKafka {
  private readonly subscriptions: Subscription[] = [];

  private constructor(
    readonly bus: KafkaBus,
    private readonly admin: ReturnType<ReturnType<typeof createKafkaClient>['admin']>,
    private readonly topics: RiskTopics,
  ) {}

  static async start(clientId: string, topics: RiskTopics): Promise<RiskKafka> {
    const kafka = createKafkaClient({ brokers: requireEnv('KAFKA_BROKERS').split(','), clientId, logLevel: 'error' });
    const admin = kafka.admin();
    await admin.connect();
    const kafkaBus = new RiskKafka(new KafkaBus({ kafka }), admin, topics);
    try {
      await ensureTopics(admin, kafkaBus.topicSpecs());
    } catch (err) {
      await kafkaBus.close();
      throw err;
    }
    return kafkaBus;
  }

  private topicSpecs() {
    return withDeadLetterTopics(Object.values(this.topics).map((topic) => ({ topic, partitions: 3 })));
  }

  /** Collects every risk.assessed into `into`, by message key (the withdrawal id). */
  async collectAssessed(groupId: string, into: Map<string, RiskAssessed>): Promise<void> {
    this.subscriptions.push(
      await this.bus.subscribe({
        groupId,
        topics: [this.topics.riskAssessed],
        handler: async (message) => {
          const envelope = protobufEnvelopeCodec.decode(message.value);
          into.set(message.key, decodeEvent(Topics.riskAssessed, envelope.payload));
        },
      }),
    );
  }

  /** Stops the collectors, closes the bus, deletes the topics. */
  async close(): Promise<void> {
    for (const s of this.subscriptions) await s.stop().catch(() => undefined);
    await this.bus.close();
    await this.admin.deleteTopics({ topics: this.topicSpecs().map((t) => t.topic) }).catch(() => undefined);
    await this.admin.disconnect();
  }
}
