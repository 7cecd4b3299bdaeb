// The demo of the embedded default (`npm start -- --demo`, implied by --once): a demo
// integrator submits withdrawals over intake's REAL gRPC API (signed with its Ed25519 key),
// operators approve over policy's REAL ApprovalService, and the story of each withdrawal is
// told from intake's status history, the events on the bus, and the audit log (queried by
// correlation id over audit's gRPC API).
import { generateKeyPairSync, randomBytes, randomUUID, sign, type KeyObject } from 'node:crypto';
import { credentials, Metadata, type ServiceError } from '@grpc/grpc-js';
import {
  ApprovalServiceClient,
  AuditQueryServiceClient,
  CustodyGatewayServiceClient,
  PolicyDecision,
  RiskVerdict,
  Topics,
  WithdrawalState,
  decodePayload,
  timestampToDate,
  type PendingApproval,
  type Withdrawal,
} from '@custody/contracts';
import { protobufEnvelopeCodec, type EventBus, type Subscription } from '@custody/event-bus';
import { AuthHeaders, encodeSigningInput, type BodyField, type IntakeHandle } from '@custody/intake';
import type { LedgerHandle } from '@custody/ledger';
import { CORRELATION_ID_KEY } from '@custody/platform';
import { approvalSigningBytes, type ApprovalSubject } from '@custody/policy';
import { DEMO_ACCOUNTS, DEMO_ASSET, DEMO_OPERATORS, DEMO_WITHDRAWALS, type DemoPath, type DemoWithdrawal } from './demo-data.js';

const GATEWAY = '/custody.intake.v1.CustodyGatewayService';

/** An Ed25519 key pair from node:crypto; the private key never leaves this object. */
export class LocalKey {
  readonly publicKey: Uint8Array;
  readonly #private: KeyObject;

  constructor(readonly keyId: string) {
    const { privateKey, publicKey } = generateKeyPairSync('ed25519');
    this.#private = privateKey;
    const jwk = publicKey.export({ format: 'jwk' });
    this.publicKey = new Uint8Array(Buffer.from(String(jwk.x), 'base64url'));
  }

  sign(bytes: Uint8Array): Buffer {
    return sign(null, bytes, this.#private);
  }
}

export interface DemoOperator {
  readonly id: string;
  readonly role: string;
  readonly key: LocalKey;
}

/** Operators of the demo: keys generated at each start (public keys go to the policy's directory). */
export function demoOperators(): DemoOperator[] {
  return DEMO_OPERATORS.map((o) => ({ id: o.id, role: o.role, key: new LocalKey(`${o.id}-embedded`) }));
}

export interface DemoIntegrator {
  readonly clientId: string;
  readonly key: LocalKey;
}

/** Registers a fresh demo integrator (its key is generated at this start) with intake. */
export async function registerDemoIntegrator(intake: IntakeHandle, clock: { now(): Date }): Promise<DemoIntegrator> {
  const integrator = { clientId: `demo-exchange-${randomBytes(3).toString('hex')}`, key: new LocalKey('k1') };
  await intake.integrators.register(
    {
      clientId: integrator.clientId,
      scopes: ['read', 'withdraw'],
      allowedAssets: [DEMO_ASSET],
      rateLimit: { ratePerSecond: 1_000, burst: 1_000 },
      keys: [{ keyId: integrator.key.keyId, publicKey: integrator.key.publicKey }],
      customerAccounts: DEMO_ACCOUNTS.map((a) => a.id),
    },
    clock.now(),
  );
  return integrator;
}

export interface PathResult {
  readonly path: DemoPath;
  readonly title: string;
  readonly withdrawalId: string;
  readonly correlationId: string;
  readonly expected: { readonly state: string; readonly risk: string; readonly decisions: readonly string[]; readonly ledger: string };
  readonly final: { readonly state: string; readonly reasonCode: string; readonly reasonDetail: string };
  readonly transitions: readonly { from: string | null; to: string; reason: string; at: Date }[];
  readonly risk: { readonly verdict: string; readonly score: number; readonly reasons: readonly string[] } | undefined;
  readonly decisions: readonly { readonly decision: string; readonly reasons: readonly string[] }[];
  readonly approvals: readonly string[];
  /** The ledger's view: HELD (amount reserved), RELEASED (denied: reserve returned), … */
  readonly ledger: string;
  readonly audit: { readonly records: readonly { sequence: string; type: string; producer: string }[]; readonly chainVerified: boolean } | undefined;
  readonly ok: boolean;
}

export interface DemoDeps {
  readonly bus: EventBus;
  readonly intake: IntakeHandle;
  readonly ledger: LedgerHandle;
  readonly integrator: DemoIntegrator;
  readonly gatewayPort: number;
  /** Absent when policy is not composed (no bundle). */
  readonly approvalPort: number | undefined;
  readonly operators: readonly DemoOperator[];
  /** Absent when audit is not composed. */
  readonly auditPort: number | undefined;
  /** The system's clock: signed requests carry its time (intake checks the window). */
  readonly clock: { now(): Date };
  /** Bound per withdrawal state wait. */
  readonly timeoutMs?: number;
}

function unary<Req, Res>(fn: (req: Req, md: Metadata, cb: (err: ServiceError | null, res: Res) => void) => unknown, req: Req, md: Metadata = new Metadata()): Promise<Res> {
  return new Promise((resolve, reject) => {
    fn(req, md, (err, res) => (err ? reject(err) : resolve(res)));
  });
}

const stateName = (s: WithdrawalState): string => WithdrawalState[s]?.replace('WITHDRAWAL_STATE_', '') ?? String(s);
const verdictName = (v: RiskVerdict): string => RiskVerdict[v]?.replace('RISK_VERDICT_', '') ?? String(v);
const decisionName = (d: PolicyDecision): string => PolicyDecision[d]?.replace('POLICY_DECISION_', '') ?? String(d);

/** Collects risk.assessed and policy.decided by withdrawal id, from the bus itself. */
class BusObserver {
  readonly risk = new Map<string, { verdict: string; score: number; reasons: string[] }>();
  readonly decisions = new Map<string, { decision: string; reasons: string[] }[]>();
  private subscription: Subscription | undefined;

  async start(bus: EventBus): Promise<void> {
    this.subscription = await bus.subscribe({
      groupId: `embedded-demo-observer-${randomUUID()}`,
      topics: [Topics.riskAssessed, Topics.policyDecided],
      fromBeginning: false,
      handler: async (message) => {
        const event = decodePayload(protobufEnvelopeCodec.decode(message.value));
        if (event.type === Topics.riskAssessed) {
          const m = event.message;
          this.risk.set(m.withdrawalId, { verdict: verdictName(m.verdict), score: m.score, reasons: m.reasons.map((r) => r.code) });
        } else if (event.type === Topics.policyDecided) {
          const m = event.message;
          const list = this.decisions.get(m.withdrawalId) ?? [];
          list.push({ decision: decisionName(m.decision), reasons: m.reasons.map((r) => r.code) });
          this.decisions.set(m.withdrawalId, list);
        }
      },
    });
  }

  async stop(): Promise<void> {
    await this.subscription?.stop();
  }
}

export async function runDemo(deps: DemoDeps): Promise<PathResult[]> {
  const timeoutMs = deps.timeoutMs ?? 30_000;
  const policyComposed = deps.approvalPort !== undefined;
  const gateway = new CustodyGatewayServiceClient(`127.0.0.1:${deps.gatewayPort}`, credentials.createInsecure());
  const approvals = policyComposed ? new ApprovalServiceClient(`127.0.0.1:${deps.approvalPort}`, credentials.createInsecure()) : undefined;
  const audit = deps.auditPort !== undefined ? new AuditQueryServiceClient(`127.0.0.1:${deps.auditPort}`, credentials.createInsecure()) : undefined;
  const observer = new BusObserver();
  await observer.start(deps.bus);

  const signed = (method: string, body: readonly BodyField[]): Metadata => {
    const timestampMs = deps.clock.now().getTime();
    const nonce = randomBytes(16).toString('hex');
    const { clientId, key } = deps.integrator;
    const payload = encodeSigningInput({ method: `${GATEWAY}/${method}`, clientId, keyId: key.keyId, timestampMs, nonce, body });
    const md = new Metadata();
    md.set(AuthHeaders.clientId, clientId);
    md.set(AuthHeaders.keyId, key.keyId);
    md.set(AuthHeaders.timestamp, String(timestampMs));
    md.set(AuthHeaders.nonce, nonce);
    md.set(AuthHeaders.signature, key.sign(payload).toString('base64'));
    return md;
  };
  const get = async (withdrawalId: string): Promise<Withdrawal> => {
    const res = await unary<{ withdrawalId: string }, { withdrawal?: Withdrawal }>(gateway.getWithdrawal.bind(gateway) as never, { withdrawalId }, signed('GetWithdrawal', [['withdrawal_id', withdrawalId]]));
    if (!res.withdrawal) throw new Error(`GetWithdrawal ${withdrawalId}: empty response`);
    return res.withdrawal;
  };
  const waitForState = async (withdrawalId: string, done: (w: Withdrawal) => boolean): Promise<Withdrawal> => {
    const deadline = Date.now() + timeoutMs;
    let last = await get(withdrawalId);
    for (let i = 0; i < 10_000 && !done(last) && Date.now() < deadline; i++) {
      await new Promise((r) => setTimeout(r, 100));
      last = await get(withdrawalId);
    }
    return last;
  };
  const terminalOr = (...states: WithdrawalState[]) => (w: Withdrawal) =>
    states.includes(w.state) || [WithdrawalState.WITHDRAWAL_STATE_DENIED, WithdrawalState.WITHDRAWAL_STATE_FAILED, WithdrawalState.WITHDRAWAL_STATE_CANCELLED].includes(w.state);

  const results: PathResult[] = [];
  try {
    for (const demo of DEMO_WITHDRAWALS) {
      if (demo.path === 'large' && !policyComposed) continue; // needs ApprovalService
      results.push(await runPath(demo));
    }
  } finally {
    gateway.close();
    approvals?.close();
    audit?.close();
    await observer.stop();
  }
  return results;

  async function runPath(demo: DemoWithdrawal): Promise<PathResult> {
    const request = {
      idempotencyKey: `demo-${randomUUID()}`,
      customerAccount: demo.account,
      asset: DEMO_ASSET,
      amount: demo.amount.toString(),
      destinationAddress: demo.destination,
      destinationTag: '',
      clientReference: `demo-${demo.path}`,
      signatureKeyId: '',
      signature: Buffer.alloc(0),
    };
    const body: BodyField[] = [
      ['idempotency_key', request.idempotencyKey],
      ['customer_account', request.customerAccount],
      ['asset', request.asset],
      ['amount', request.amount],
      ['destination_address', request.destinationAddress],
      ['destination_tag', request.destinationTag],
      ['client_reference', request.clientReference],
    ];
    const submitted = await unary<typeof request, { withdrawal?: Withdrawal }>(gateway.submitWithdrawal.bind(gateway) as never, request, signed('SubmitWithdrawal', body));
    const withdrawalId = submitted.withdrawal?.withdrawalId;
    if (!withdrawalId) throw new Error('SubmitWithdrawal returned no withdrawal');
    const history = async () =>
      (
        (await deps.intake.dataSource.query(`SELECT "from_state", "to_state", "reason_code", "correlation_id", "at" FROM "withdrawal_transition" WHERE "withdrawal_id" = $1 ORDER BY "at", "id"`, [withdrawalId])) as {
          from_state: string | null;
          to_state: string;
          reason_code: string;
          correlation_id: string;
          at: Date;
        }[]
      ).map((t) => ({ from: t.from_state, to: t.to_state, reason: t.reason_code, at: t.at, correlationId: t.correlation_id }));
    // One correlation id follows the withdrawal through every service (intake chose it).
    const correlationId = (await history())[0]?.correlationId ?? '';

    const operatorVotes: string[] = [];
    let final: Withdrawal;
    if (demo.path === 'normal') {
      // Stops early off the expected route too (held for approval: the story says why).
      final = await waitForState(
        withdrawalId,
        policyComposed ? terminalOr(WithdrawalState.WITHDRAWAL_STATE_APPROVED, WithdrawalState.WITHDRAWAL_STATE_PENDING_APPROVAL) : terminalOr(WithdrawalState.WITHDRAWAL_STATE_SCREENED, WithdrawalState.WITHDRAWAL_STATE_HELD),
      );
    } else if (demo.path === 'sanctioned') {
      final = await waitForState(withdrawalId, terminalOr());
      // Risk's BLOCK already denied it at intake; wait for the policy's own decision too.
      if (policyComposed) await waitUntil(() => (observer.decisions.get(withdrawalId)?.length ?? 0) > 0);
    } else {
      final = await waitForState(withdrawalId, terminalOr(WithdrawalState.WITHDRAWAL_STATE_PENDING_APPROVAL, WithdrawalState.WITHDRAWAL_STATE_APPROVED));
      if (final.state === WithdrawalState.WITHDRAWAL_STATE_PENDING_APPROVAL && approvals) {
        const pending = await pendingFor(approvals, withdrawalId);
        for (const op of deps.operators) {
          if (!pending.roles.includes(op.role)) continue;
          const signature = op.key.sign(approvalSigningBytes(subjectOf(pending), op.id, op.role, 'approve'));
          const md = new Metadata();
          md.set(CORRELATION_ID_KEY, correlationId);
          await unary(approvals.approve.bind(approvals) as never, { decisionId: pending.decisionId, operatorId: op.id, role: op.role, keyId: op.key.keyId, signature }, md);
          operatorVotes.push(`${op.id} (${op.role})`);
        }
        final = await waitForState(withdrawalId, terminalOr(WithdrawalState.WITHDRAWAL_STATE_APPROVED));
      }
    }

    const transitions = await history();
    const decisions = observer.decisions.get(withdrawalId) ?? [];
    // Every event of this withdrawal: requested, assessed, each decision, each status change.
    const eventsExpected = 2 + decisions.length + Math.max(0, transitions.length - 1);

    let auditStory: PathResult['audit'];
    if (audit && correlationId) {
      // The audit consumer records asynchronously: wait (bounded) until it has every event.
      const wanted = eventsExpected;
      const deadline = Date.now() + timeoutMs;
      for (let i = 0; i < 1_000; i++) {
        const res = await unary<object, { records: { sequence: string | number; eventType: string; producer: string }[]; chainVerified: boolean }>(audit.queryByCorrelation.bind(audit) as never, {
          correlationId,
          pageSize: 100,
          pageToken: '',
        });
        auditStory = { records: res.records.map((r) => ({ sequence: String(r.sequence), type: r.eventType, producer: r.producer })), chainVerified: res.chainVerified };
        if (res.records.length >= wanted || Date.now() > deadline) break;
        await new Promise((r) => setTimeout(r, 100));
      }
    }

    const risk = observer.risk.get(withdrawalId);
    const expected = expectationOf(demo.path, policyComposed);
    const ledgerState = await waitForLedger(withdrawalId, expected.ledger);
    const finalState = stateName(final.state);
    const ok =
      finalState === expected.state &&
      risk?.verdict === expected.risk &&
      decisions.length === expected.decisions.length &&
      decisions.every((d, i) => d.decision === expected.decisions[i]) &&
      ledgerState === expected.ledger &&
      (auditStory === undefined || (auditStory.chainVerified && auditStory.records.length === eventsExpected)) &&
      (demo.path !== 'large' || operatorVotes.length === 2);
    return {
      path: demo.path,
      title: demo.title,
      withdrawalId,
      correlationId,
      expected,
      final: { state: finalState, reasonCode: final.reasonCode, reasonDetail: final.reasonDetail },
      transitions: transitions.map(({ from, to, reason, at }) => ({ from, to, reason, at })),
      risk,
      decisions,
      approvals: operatorVotes,
      ledger: ledgerState,
      audit: auditStory,
      ok,
    };
  }

  /** The ledger's state of the withdrawal once it settles on `wanted` (bounded), else the last seen. */
  async function waitForLedger(withdrawalId: string, wanted: string): Promise<string> {
    const deadline = Date.now() + timeoutMs;
    let state = 'NONE';
    for (let i = 0; i < 10_000; i++) {
      const [row] = (await deps.ledger.dataSource.query(`SELECT "state" FROM "ledger_withdrawal" WHERE "withdrawal_id" = $1`, [withdrawalId])) as { state: string }[];
      state = row?.state ?? 'NONE';
      if (state === wanted || Date.now() > deadline) break;
      await new Promise((r) => setTimeout(r, 50));
    }
    return state;
  }

  async function waitUntil(condition: () => boolean): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    for (let i = 0; i < 10_000 && !condition() && Date.now() < deadline; i++) await new Promise((r) => setTimeout(r, 50));
  }

  async function pendingFor(client: ApprovalServiceClient, withdrawalId: string): Promise<PendingApproval> {
    const deadline = Date.now() + timeoutMs;
    for (let i = 0; i < 1_000; i++) {
      const res = await unary<object, { approvals: PendingApproval[] }>(client.listPendingApprovals.bind(client) as never, { pageSize: 100, pageToken: '' });
      const found = res.approvals.find((a) => a.withdrawalId === withdrawalId);
      if (found) return found;
      if (Date.now() > deadline) break;
      await new Promise((r) => setTimeout(r, 100));
    }
    throw new Error(`no pending approval for ${withdrawalId} within ${timeoutMs} ms`);
  }
}

/** What an operator's client does: rebuild the subject from the listed fields and sign it. */
function subjectOf(p: PendingApproval): ApprovalSubject {
  return {
    decisionId: p.decisionId,
    withdrawalId: p.withdrawalId,
    asset: p.asset,
    sourceWallet: p.sourceWallet,
    destinationAddress: p.destinationAddress,
    destinationTag: p.destinationTag,
    amount: BigInt(p.amount),
    bundleDigest: p.bundleDigest,
    quorum: p.quorum,
    roles: p.roles,
    expiresAt: p.expiresAt ? Math.floor(timestampToDate(p.expiresAt).getTime() / 1000) : 0,
  };
}

function expectationOf(path: DemoPath, policyComposed: boolean): PathResult['expected'] {
  switch (path) {
    case 'normal':
      return policyComposed ? { state: 'APPROVED', risk: 'CLEAR', decisions: ['ALLOW'], ledger: 'HELD' } : { state: 'SCREENED', risk: 'CLEAR', decisions: [], ledger: 'HELD' };
    case 'sanctioned':
      return { state: 'DENIED', risk: 'BLOCK', decisions: policyComposed ? ['DENY'] : [], ledger: 'RELEASED' };
    case 'large':
      return { state: 'APPROVED', risk: 'REVIEW', decisions: ['REQUIRE_APPROVAL', 'ALLOW'], ledger: 'HELD' };
  }
}

const formatEth = (base: string): string => {
  const v = BigInt(base);
  const whole = v / 10n ** 18n;
  const frac = (v % 10n ** 18n).toString().padStart(18, '0').replace(/0+$/, '');
  return frac ? `${whole}.${frac}` : `${whole}`;
};

/** Risk rules that look back over earlier movements (risk's default rule set). */
const HISTORY_RULES = ['velocity_', 'rapid_succession', 'round_amount_', 'below_threshold_'];

/** The story of each withdrawal, as printed by `npm start -- --demo`. */
export function formatDemo(results: readonly PathResult[]): string {
  const lines: string[] = ['', 'Demo: withdrawals over the real gRPC API (signed by the demo integrator)'];
  for (const r of results) {
    const demo = DEMO_WITHDRAWALS.find((d) => d.path === r.path);
    lines.push('');
    lines.push(`  [${r.path}] ${r.title}`);
    lines.push(`    withdrawal ${r.withdrawalId}  (${demo ? `${formatEth(demo.amount.toString())} ETH → ${demo.destination}` : ''})`);
    lines.push(`    intake status history: ${r.transitions.map((t) => (t.reason ? `${t.to} (${t.reason})` : t.to)).join(' → ')}`);
    if (r.risk) lines.push(`    risk.assessed:   ${r.risk.verdict}, score ${r.risk.score}${r.risk.reasons.length ? ` — ${r.risk.reasons.join(', ')}` : ''}`);
    for (const d of r.decisions) lines.push(`    policy.decided:  ${d.decision}${d.reasons.length ? ` — ${d.reasons.join(', ')}` : ''}`);
    lines.push(`    ledger:          ${r.ledger === 'HELD' ? `HELD — ${demo ? formatEth(demo.amount.toString()) : ''} ETH reserved on the customer's account until settlement` : r.ledger === 'RELEASED' ? 'RELEASED — the hold was returned to the customer on denial' : r.ledger}`);
    if (r.approvals.length) lines.push(`    approvals:       ${r.approvals.join(', ')} over ApprovalService (Ed25519-signed)`);
    if (r.audit) {
      lines.push(`    audit log (correlation ${r.correlationId}): ${r.audit.records.length} records, hash chain ${r.audit.chainVerified ? 'verified' : 'NOT verified'}`);
      for (const a of r.audit.records) lines.push(`      #${a.sequence.padEnd(5)} ${a.type.padEnd(32)} by ${a.producer}`);
    }
    lines.push(`    outcome: ${r.final.state}${r.final.reasonCode ? ` (${r.final.reasonCode})` : ''} — expected ${r.expected.state}: ${r.ok ? 'ok' : 'UNEXPECTED'}`);
    const remembered = r.risk?.reasons.filter((code) => HISTORY_RULES.some((prefix) => code.startsWith(prefix))) ?? [];
    if (!r.ok && remembered.length > 0) {
      lines.push(`    note: risk's history rules (${remembered.join(', ')}) remember earlier demo runs in this database;`);
      lines.push('          for a fresh story use another database, e.g. CUSTODY_EMBEDDED_DATABASE=custody_demo_2 npm start -- --demo');
    }
  }
  lines.push('');
  lines.push(`Demo result: ${results.filter((r) => r.ok).length}/${results.length} paths reached their expected state`);
  lines.push('');
  return lines.join('\n');
}
