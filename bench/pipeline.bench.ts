// Load on the DISTRIBUTED pipeline (docs/distributed.md, "Load"): the seven services as their
// own processes over the real Kafka and PostgreSQL (`npm run up`), the dev chain with 1 s blocks.
// Steps at increasing offered rates; each withdrawal goes in over intake's real gRPC API (mTLS +
// Ed25519-signed call, as an integrator does) and its stages are timestamped from the bus: an
// observer consumer group of its own on the real topics reads each event's BROKER append time
//   requested (withdrawal.requested) -> screened (risk.assessed) -> decided (policy.decided)
//   -> prepared (tx.prepared) -> signed (tx.signed) -> broadcast (tx.status BROADCAST)
//   -> final (tx.status FINAL)
// Prints per step: offered rate, achieved rate to signed and to final, p50/p99 per stage, and
// the stage whose latency grows most with the rate (the first bottleneck).
//
// Run: bash scripts/bench.sh pipeline [--rates 2,4,8,16,32] [--per-step 40] [--budget 180] [--keep] [--no-restart]
//   --rates       offered withdrawals/s per step (increasing)
//   --per-step    withdrawals per step (each step is also bounded in time: --budget overall)
//   --budget      seconds for all steps together (submission + drain); a step that does not
//                 fit is skipped, a drain stops at the budget
//   --keep        leave the deployment running (default: `npm run down` at the end)
//   --no-restart  do not `down` first (default: down + up, so risk runs the bench rule set)
//
// Risk runs the default rule set minus rapid_succession and velocity_customer_count_1h (as the
// distributed tests do): the deployment has two seeded customers (the policy bundle's accounts
// with whitelisted destinations), and those rules rightly send a customer's rapid repeats to
// compliance review, which would measure the review queue, not the pipeline.
import { spawnSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { credentials, type Metadata, type ServiceError } from '@grpc/grpc-js';
import { CustodyGatewayServiceClient, PolicyDecision, RiskVerdict, Topics, TxState, decodePayload } from '@custody/contracts';
import { KafkaBus, createKafkaClient, protobufEnvelopeCodec, type IncomingMessage } from '@custody/event-bus';
import { DEFAULT_RULE_SET } from '@custody/risk';

const { values } = parseArgs({
  options: {
    rates: { type: 'string', default: '2,4,8,16,32' },
    'per-step': { type: 'string', default: '40' },
    budget: { type: 'string', default: '180' },
    keep: { type: 'boolean', default: false },
    'no-restart': { type: 'boolean', default: false },
  },
});
const rates = values.rates.split(',').map(Number);
const perStep = Number(values['per-step']);
const budgetMs = Number(values.budget) * 1000;
if (rates.length === 0 || rates.some((r) => !(r > 0 && r <= 200))) throw new Error('--rates: comma-separated withdrawals/s, each in (0, 200]');
if (!Number.isInteger(perStep) || perStep < 2 || perStep > 1_000) throw new Error('--per-step must be an integer in [2, 1000]');
if (!(budgetMs >= 10_000 && budgetMs <= 1_800_000)) throw new Error('--budget must be in [10, 1800] seconds');

const ROOT = process.cwd(); // scripts/bench.sh runs from the repository root
const GATEWAY = '/custody.intake.v1.CustodyGatewayService';
const AMOUNT = 10n ** 15n; // 0.001 ETH (+ i wei: distinct, never round, far below every limit)

// The distributed deployment's own helpers (scripts/distributed/lib.mjs, seed.mjs): not
// duplicated here. Plain ESM JavaScript, loaded at run time; typed by what this bench uses.
interface DistLib {
  readonly DIR: string;
  readonly PORTS: { readonly intake: number };
  readonly CLIENT_ID: string;
  readonly TLS_NAME: Record<string, string>;
  readonly ACCOUNTS: readonly { readonly id: string; readonly destination: string }[];
  ed25519(name: string): { sign(bytes: Uint8Array): Buffer };
  clientTls(who: string): { ca: Buffer; key: Buffer; cert: Buffer };
  infraEnv(): Record<string, string>;
}
interface DistSeed {
  signedMetadata(method: string, clientId: string, keyId: string, key: { sign(bytes: Uint8Array): Buffer }, body: readonly (readonly [string, string | readonly string[]])[]): Promise<Metadata>;
}
const load = async <T>(rel: string): Promise<T> => (await import(pathToFileURL(join(ROOT, rel)).href)) as T;

const STAGES = ['requested', 'screened', 'decided', 'prepared', 'signed', 'broadcast', 'final'] as const;
type Stage = (typeof STAGES)[number];
/** Per withdrawal: broker append time (ms) of each stage's first event; `failed` = why it left the happy path. */
interface Track {
  at: Partial<Record<Stage, number>>;
  failed?: string;
}
const tracks = new Map<string, Track>();
const track = (id: string): Track => {
  let t = tracks.get(id);
  if (!t) tracks.set(id, (t = { at: {} }));
  return t;
};
const mark = (id: string, stage: Stage, at: number): void => {
  const t = track(id);
  if (t.at[stage] === undefined) t.at[stage] = at;
};

function observe(message: IncomingMessage): void {
  const decoded = decodePayload(protobufEnvelopeCodec.decode(message.value));
  const at = message.timestamp.getTime();
  switch (decoded.type) {
    case Topics.withdrawalRequested:
      return mark(decoded.message.withdrawalId, 'requested', at);
    case Topics.riskAssessed:
      if (decoded.message.withdrawalId === '') return;
      if (decoded.message.verdict !== RiskVerdict.RISK_VERDICT_CLEAR) track(decoded.message.withdrawalId).failed ??= `risk ${RiskVerdict[decoded.message.verdict]}`;
      return mark(decoded.message.withdrawalId, 'screened', at);
    case Topics.policyDecided:
      if (decoded.message.decision !== PolicyDecision.POLICY_DECISION_ALLOW) {
        track(decoded.message.withdrawalId).failed ??= `policy ${PolicyDecision[decoded.message.decision]} ${decoded.message.reasons.map((r) => r.code).join(',')}`;
        return;
      }
      return mark(decoded.message.withdrawalId, 'decided', at);
    case Topics.txPrepared:
      return mark(decoded.message.withdrawalId, 'prepared', at);
    case Topics.txSigned:
      return mark(decoded.message.withdrawalId, 'signed', at);
    case Topics.txRefused:
      track(decoded.message.withdrawalId).failed ??= 'signer refused';
      return;
    case Topics.txStatus:
      if (decoded.message.state === TxState.TX_STATE_BROADCAST) mark(decoded.message.withdrawalId, 'broadcast', at);
      else if (decoded.message.state === TxState.TX_STATE_FINAL) mark(decoded.message.withdrawalId, 'final', at);
      else if (decoded.message.state === TxState.TX_STATE_FAILED || decoded.message.state === TxState.TX_STATE_DROPPED) track(decoded.message.withdrawalId).failed ??= `tx ${TxState[decoded.message.state]}`;
      return;
    default:
      return;
  }
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
const quantile = (xs: readonly number[], p: number): number => {
  if (xs.length === 0) return NaN;
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.max(0, Math.ceil(p * s.length) - 1))] ?? NaN;
};
const fmt = (ms: number): string => (Number.isNaN(ms) ? '—' : ms >= 10_000 ? `${(ms / 1000).toFixed(1)}s` : `${Math.round(ms)}ms`);

function script(args: string[], env: NodeJS.ProcessEnv = {}): void {
  const r = spawnSync(process.execPath, args, { cwd: ROOT, env: { ...process.env, ...env }, stdio: ['ignore', 'inherit', 'inherit'], timeout: 300_000 });
  if (r.status !== 0) throw new Error(`node ${args.join(' ')} failed (exit ${r.status ?? r.signal})`);
}

interface StepResult {
  readonly rate: number;
  readonly submitted: number;
  readonly rejected: number;
  readonly ids: readonly { id: string; submittedAt: number }[];
  readonly submitSeconds: number;
}

async function main(): Promise<void> {
  const lib = await load<DistLib>('scripts/distributed/lib.mjs');
  const seed = await load<DistSeed>('scripts/distributed/seed.mjs');

  // 1. The deployment, with the bench rule set for risk (down first so risk restarts with it).
  mkdirSync(lib.DIR, { recursive: true, mode: 0o700 });
  const rulesFile = resolve(lib.DIR, 'bench-risk-rules.json');
  const rules = { ...DEFAULT_RULE_SET, version: 'distributed-bench-1', rules: DEFAULT_RULE_SET.rules.filter((r) => r.code !== 'rapid_succession' && r.code !== 'velocity_customer_count_1h') };
  writeFileSync(rulesFile, `${JSON.stringify(rules, null, 2)}\n`, { mode: 0o600 });
  // --purge-if-stale: a bundle built from other rules/data (e.g. the tests' copy) is replaced.
  if (!values['no-restart']) script(['scripts/distributed/down.mjs', '--purge-if-stale']);
  // scripts/bench.sh has just built the workspace; up funds the hot wallet and books the
  // customers' opening balances (deposit.detected) as it always does.
  script(['scripts/up.mjs', '--no-build'], { CUSTODY_DIST_RISK_RULES_FILE: rulesFile });
  const state = JSON.parse(readFileSync(join(lib.DIR, 'state.json'), 'utf8')) as { integrator: { clientId: string; keyId: string }; kafkaBrokers: string[] };

  // 2. The observer: a consumer group of its own on the real topics.
  const brokers = state.kafkaBrokers.length > 0 ? state.kafkaBrokers : (lib.infraEnv().KAFKA_BROKERS ?? '').split(',');
  const bus = new KafkaBus({ kafka: createKafkaClient({ brokers, clientId: 'custody-pipeline-bench', logLevel: 'nothing' }) });
  const groupId = `custody-pipeline-bench-${randomUUID()}`;
  let undecodable = 0;
  await bus.subscribe({
    groupId,
    topics: [Topics.withdrawalRequested, Topics.riskAssessed, Topics.policyDecided, Topics.txPrepared, Topics.txSigned, Topics.txRefused, Topics.txStatus],
    // A fresh group reads the retained history too: the run's events can never be missed
    // (only this run's withdrawal ids are reported).
    fromBeginning: true,
    handler: async (message) => {
      try {
        observe(message);
      } catch {
        undecodable++;
      }
    },
  });

  // 3. The integrator's client (mTLS + signed calls, the seed's signing helper).
  const tls = lib.clientTls('integrator');
  const client = new CustodyGatewayServiceClient(`127.0.0.1:${lib.PORTS.intake}`, credentials.createSsl(tls.ca, tls.key, tls.cert), lib.TLS_NAME);
  const key = lib.ed25519('integrator');
  let seq = 0;
  const submit = async (): Promise<string> => {
    const i = seq++;
    const account = lib.ACCOUNTS[i % lib.ACCOUNTS.length];
    if (!account) throw new Error('no seeded customer accounts');
    const request = {
      idempotencyKey: `bench-pipeline-${randomUUID()}`,
      customerAccount: account.id,
      asset: 'ETH',
      amount: (AMOUNT + BigInt(i)).toString(),
      destinationAddress: account.destination,
      destinationTag: '',
      clientReference: 'pipeline-bench',
      signatureKeyId: '',
      signature: Buffer.alloc(0),
    };
    const body: [string, string][] = [
      ['idempotency_key', request.idempotencyKey],
      ['customer_account', request.customerAccount],
      ['asset', request.asset],
      ['amount', request.amount],
      ['destination_address', request.destinationAddress],
      ['destination_tag', ''],
      ['client_reference', request.clientReference],
    ];
    const md = await seed.signedMetadata(`${GATEWAY}/SubmitWithdrawal`, state.integrator.clientId, state.integrator.keyId, key, body);
    return new Promise((done, reject) =>
      client.submitWithdrawal(request, md, { deadline: Date.now() + 10_000 }, (err: ServiceError | null, res) => (err ? reject(err) : res.withdrawal?.withdrawalId ? done(res.withdrawal.withdrawalId) : reject(new Error('no withdrawal id')))),
    );
  };

  // 4. Steps at increasing offered rates, bounded in count and time.
  const begin = Date.now();
  const deadline = begin + budgetMs;
  const steps: StepResult[] = [];
  const settled = (id: string): boolean => {
    const t = tracks.get(id);
    return t !== undefined && (t.at.final !== undefined || t.failed !== undefined);
  };
  for (const rate of rates) {
    const submitMs = (perStep / rate) * 1000;
    if (Date.now() + submitMs + 10_000 > deadline) {
      console.log(`step ${rate}/s skipped: does not fit the ${values.budget} s budget`);
      continue;
    }
    const ids: { id: string; submittedAt: number }[] = [];
    let rejected = 0;
    const start = Date.now();
    const inflight: Promise<void>[] = [];
    for (let n = 0; n < perStep; n++) {
      const due = start + (n * 1000) / rate;
      if (due > Date.now()) await sleep(due - Date.now());
      const submittedAt = Date.now();
      inflight.push(
        submit().then(
          (id) => void ids.push({ id, submittedAt }),
          () => void rejected++,
        ),
      );
    }
    await Promise.all(inflight);
    const submitSeconds = (Date.now() - start) / 1000;
    // Drain: every withdrawal of the step FINAL or off the happy path, or the budget is spent.
    for (let i = 0; i < 10_000 && Date.now() < deadline && !ids.every((w) => settled(w.id)); i++) await sleep(200);
    steps.push({ rate, submitted: ids.length, rejected, ids, submitSeconds });
    const done = ids.filter((w) => tracks.get(w.id)?.at.final !== undefined).length;
    console.log(`step ${rate}/s: ${ids.length} submitted in ${submitSeconds.toFixed(1)} s, ${done} final, ${((Date.now() - begin) / 1000).toFixed(0)} s into the run`);
  }
  client.close();
  await bus.close();

  // 5. Figures.
  const stageLatency = (ids: StepResult['ids'], stage: Stage): number[] => {
    const out: number[] = [];
    for (const w of ids) {
      const t = tracks.get(w.id);
      const idx = STAGES.indexOf(stage);
      const here = t?.at[stage];
      const prev = idx === 0 ? w.submittedAt : t?.at[STAGES[idx - 1] as Stage];
      if (here !== undefined && prev !== undefined) out.push(Math.max(0, here - prev));
    }
    return out;
  };
  const endToEnd = (ids: StepResult['ids'], stage: Stage): number[] => ids.flatMap((w) => {
    const at = tracks.get(w.id)?.at[stage];
    return at === undefined ? [] : [Math.max(0, at - w.submittedAt)];
  });
  /**
   * Output rate of a stage: withdrawals through it per second, from its first to its last
   * completion in the step. FINAL comes in whole blocks (1 s), so a short step can read a
   * little above the offered rate.
   */
  const achieved = (ids: StepResult['ids'], stage: Stage): number => {
    const times = ids.map((w) => tracks.get(w.id)?.at[stage]).filter((x): x is number => x !== undefined).sort((a, b) => a - b);
    if (times.length < 2) return NaN;
    const span = ((times[times.length - 1] ?? 0) - (times[0] ?? 0)) / 1000;
    return span > 0 ? (times.length - 1) / span : NaN;
  };

  console.log('');
  console.log(`pipeline (distributed: 7 processes, Kafka, PostgreSQL, anvil 1 s blocks, FINAL at 2 confirmations): ${steps.length} steps, ${perStep} withdrawals per step, ${lib.ACCOUNTS.length} customers`);
  console.log('  stage latency = broker time of the stage event - the previous stage (requested: - SubmitWithdrawal call start)');
  const header = ['offered/s', 'ok/sent', 'signed/s', 'final/s', ...STAGES.map((s) => `${s} p50/p99`), 'to-signed p50/p99', 'to-final p50/p99'];
  console.log(`  ${header.join(' | ')}`);
  const p50ByStage: Record<Stage, number[]> = Object.fromEntries(STAGES.map((s) => [s, []])) as unknown as Record<Stage, number[]>;
  for (const s of steps) {
    const finals = s.ids.filter((w) => tracks.get(w.id)?.at.final !== undefined).length;
    const cells = STAGES.map((stage) => {
      const xs = stageLatency(s.ids, stage);
      p50ByStage[stage].push(quantile(xs, 0.5));
      return `${fmt(quantile(xs, 0.5))}/${fmt(quantile(xs, 0.99))}`;
    });
    const sig = endToEnd(s.ids, 'signed');
    const fin = endToEnd(s.ids, 'final');
    console.log(
      `  ${[String(s.rate), `${finals}/${s.submitted + s.rejected}`, achieved(s.ids, 'signed').toFixed(2), achieved(s.ids, 'final').toFixed(2), ...cells, `${fmt(quantile(sig, 0.5))}/${fmt(quantile(sig, 0.99))}`, `${fmt(quantile(fin, 0.5))}/${fmt(quantile(fin, 0.99))}`].join(' | ')}`,
    );
    const off = s.ids.map((w) => tracks.get(w.id)?.failed).filter((x): x is string => x !== undefined);
    if (s.rejected > 0 || off.length > 0) console.log(`    off the happy path: ${s.rejected} rejected by intake; ${[...new Set(off)].map((r) => `${off.filter((x) => x === r).length}× ${r}`).join('; ') || 'none'}`);
    const unfinished = s.ids.filter((w) => !settled(w.id)).length;
    if (unfinished > 0) console.log(`    ${unfinished} not FINAL within the budget`);
  }
  // The first bottleneck: the stage whose p50 grows most from the first step to the first
  // saturated one (achieved to final below 90 % of offered), or to the last step.
  const saturatedAt = steps.findIndex((s) => !(achieved(s.ids, 'final') >= 0.9 * s.rate) || s.ids.some((w) => !settled(w.id)));
  const upTo = saturatedAt > 0 ? saturatedAt : steps.length - 1;
  if (saturatedAt >= 0) console.log(`  saturation: from ${steps[saturatedAt]?.rate}/s offered (achieved to final < 90 % of offered, or not all FINAL within the budget)`);
  else if (steps.length > 0) console.log(`  no saturation up to ${steps[steps.length - 1]?.rate}/s offered (every step: achieved to final >= 90 % of offered, all FINAL)`);
  if (upTo >= 1) {
    const growth = STAGES.map((stage) => ({ stage, from: p50ByStage[stage][0] ?? NaN, to: p50ByStage[stage][upTo] ?? NaN })).filter((g) => !Number.isNaN(g.from) && !Number.isNaN(g.to));
    growth.sort((a, b) => b.to - b.from - (a.to - a.from));
    const top = growth[0];
    if (top) console.log(`  first bottleneck: ${top.stage} (p50 ${fmt(top.from)} at ${steps[0]?.rate}/s -> ${fmt(top.to)} at ${steps[upTo]?.rate}/s; next: ${growth.slice(1, 3).map((g) => `${g.stage} ${fmt(g.from)} -> ${fmt(g.to)}`).join(', ')})`);
  }
  if (undecodable > 0) console.log(`  (${undecodable} records on the observed topics could not be decoded)`);
  console.log(`  wall: ${((Date.now() - begin) / 1000).toFixed(0)} s for the steps`);
}

main()
  .catch((err: unknown) => {
    console.error(err);
    process.exitCode = 1;
  })
  .finally(() => {
    if (!values.keep) {
      try {
        script(['scripts/distributed/down.mjs']);
      } catch (error) {
        console.error(error);
        process.exitCode = 1;
      }
    }
    process.exit(process.exitCode ?? 0);
  });
