// `npm start`: the custody system on embedded defaults, in one process.
//   PostgreSQL from node_modules (started by scripts/start.mjs), the in-process bus with the
//   same semantics as Kafka, one schema + roles per component, gRPC with health and
//   reflection, Prometheus metrics. Services join this composition as their issues land.
// Flags: --once  run the walkthrough, print the summary and exit (used by the e2e test).
import { loadEmbeddedConfig } from './config.js';
import { startEmbedded } from './embedded.js';

const once = process.argv.includes('--once');
const config = loadEmbeddedConfig();
const system = await startEmbedded(config);
system.printSummary(process.stdout);

if (once) {
  await system.stop();
} else {
  process.stdout.write(`\nRunning. gRPC on 127.0.0.1:${system.grpcPort}, metrics on ${system.metricsUrl}. Ctrl-C stops.\n`);
  const stop = async (signal: string) => {
    process.stdout.write(`\n${signal}: stopping…\n`);
    await system.stop();
    process.exit(0);
  };
  process.once('SIGINT', () => void stop('SIGINT'));
  process.once('SIGTERM', () => void stop('SIGTERM'));
}
