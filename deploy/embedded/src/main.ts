// `npm start`: the custody system on embedded defaults, in one process.
//   PostgreSQL from node_modules (started by scripts/start.mjs), the in-process bus with the
//   same semantics as Kafka, one schema + roles per service, all seven services (intake,
//   risk, policy, ledger, audit, signer with the local sealed key store, chain-adapter on a
//   local anvil dev chain), gRPC on 127.0.0.1 with health and reflection.
// Flags: --demo  register a demo integrator and submit the demo withdrawals (demo.ts)
//        --once  the demo, then exit (non-zero if a path did not reach its expected state
//                or the deposit addresses were not as expected;
//                used by the e2e test)
import { loadEmbeddedConfig } from './config.js';
import { startEmbedded } from './embedded.js';

const once = process.argv.includes('--once');
const demo = once || process.argv.includes('--demo');
const config = loadEmbeddedConfig();
const system = await startEmbedded(config);
system.printSummary(process.stdout);

let demoFailed = false;
if (demo) {
  try {
    const { results, deposits, text } = await system.runDemo();
    process.stdout.write(text);
    demoFailed = results.some((r) => !r.ok) || !deposits.ok;
  } catch (error) {
    process.stderr.write(`demo failed: ${error instanceof Error ? error.message : String(error)}\n`);
    demoFailed = true;
  }
}

if (once) {
  await system.stop();
  process.exitCode = demoFailed ? 1 : 0;
} else {
  process.stdout.write(`\nRunning. Integrator gRPC on 127.0.0.1:${system.grpcPort}, metrics on ${system.metricsUrl}. Ctrl-C stops.\n`);
  const stop = async (signal: string) => {
    process.stdout.write(`\n${signal}: stopping…\n`);
    await system.stop();
    process.exit(0);
  };
  process.once('SIGINT', () => void stop('SIGINT'));
  process.once('SIGTERM', () => void stop('SIGTERM'));
}
