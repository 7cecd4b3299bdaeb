// The chain-adapter as its own process, for other services' integration tests (they talk to
// it only over Kafka and gRPC, as in production; no service imports another). Run with
// `node --import services/ledger/test/process/ts-register.mjs services/chain-adapter/test/process/run-chain-adapter.ts`
// and env CHAIN_TOPIC_PREFIX, KAFKA_BROKERS, CUSTODY_PG_ADMIN_URL, ANVIL_RPC_URL,
// CHAIN_NAME (default ethereum), CHAIN_ASSET (ETH), CHAIN_CONFIRMATIONS (3),
// CHAIN_DEPOSIT_ADDRESSES ("address=account,…"), CHAIN_CUSTODY_ADDRESSES ("address,…"),
// CHAIN_POLL_MS (default 200; 0 = no timer, driven over stdin: "tick" runs one follower pass,
// "index-back <height>" injects a lagging block index (deletes the indexed blocks above it, as
// if the follower had not got there yet); each answers one JSON line {"ok":true}).
// Provisions a throw-away database, follows the node every 200 ms, serves ChainQueryService on
// 127.0.0.1:<free port> and prints one JSON line {"grpcPort":N} when ready; SIGTERM stops it
// and drops the database.
import { createInterface } from 'node:readline';
import { KafkaBus, createKafkaClient } from '@custody/event-bus';
import { EvmJsonRpc, prefixedTopics, startChainAdapter, type ChainAdapterHandle } from '../../src/index.js';
import { createTestDatabase, quietLogger, rand, requireEnv } from '../integration/support.js';

const prefix = requireEnv('CHAIN_TOPIC_PREFIX');
const rpcUrl = requireEnv('ANVIL_RPC_URL');
const list = (name: string): string[] => (process.env[name] ?? '').split(',').filter((s) => s !== '');
const rpc = new EvmJsonRpc({ url: rpcUrl });
const db = await createTestDatabase();
const bus = new KafkaBus({ kafka: createKafkaClient({ brokers: requireEnv('KAFKA_BROKERS').split(','), clientId: `chain-adapter-proc-${rand()}`, logLevel: 'nothing' }) });
let adapter: ChainAdapterHandle;
try {
  adapter = await startChainAdapter({
    bus,
    database: { url: db.appUrl, schema: db.schema },
    logger: quietLogger(),
    rpcUrl,
    profile: {
      chain: process.env['CHAIN_NAME'] ?? 'ethereum',
      asset: process.env['CHAIN_ASSET'] ?? 'ETH',
      chainId: await rpc.chainId(),
      genesisHash: await rpc.genesisHash(),
      confirmations: Number(process.env['CHAIN_CONFIRMATIONS'] ?? '3'),
      gasLimit: 21_000n,
      fees: { maxFeePerGas: 200_000_000_000n, maxPriorityFeePerGas: 5_000_000_000n, minPriorityFeePerGas: 1_000_000n },
    },
    depositAddresses: new Map(list('CHAIN_DEPOSIT_ADDRESSES').map((i) => i.split('=') as [string, string])),
    custodyAddresses: list('CHAIN_CUSTODY_ADDRESSES'),
    topicName: prefixedTopics(prefix),
    consumerGroupId: `chain-adapter-proc-${rand()}`,
    outboxPollIntervalMs: 50,
    pollIntervalMs: Number(process.env['CHAIN_POLL_MS'] ?? '200'),
    grpc: { host: '127.0.0.1', port: 0, credentials: { kind: 'insecure' } },
  });
} catch (err) {
  await bus.close().catch(() => undefined);
  await db.drop();
  throw err;
}
process.stdout.write(`${JSON.stringify({ grpcPort: adapter.grpcPort })}\n`);
if (process.env['CHAIN_POLL_MS'] === '0') {
  createInterface({ input: process.stdin }).on('line', (line) => {
    const [command, arg] = line.trim().split(/\s+/);
    const run = command === 'tick' ? adapter.tick() : command === 'index-back' ? db.admin(`DELETE FROM "${db.schema}"."chain_block" WHERE "height" > $1`, [arg]) : Promise.reject(new Error(`unknown command ${command}`));
    run.then(
      () => process.stdout.write(`${JSON.stringify({ ok: true })}\n`),
      (err: unknown) => process.stdout.write(`${JSON.stringify({ ok: false, error: String(err) })}\n`),
    );
  });
}

let stopping = false;
const stop = async (): Promise<void> => {
  if (stopping) return;
  stopping = true;
  await adapter.stop();
  await bus.close();
  await db.drop();
  process.exit(0);
};
process.once('SIGTERM', () => void stop());
process.once('SIGINT', () => void stop());
