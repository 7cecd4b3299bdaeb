// The demo of the embedded default (`npm start -- --demo`, implied by --once): a demo
// integrator submits withdrawals over intake's REAL gRPC API (signed with its Ed25519 key),
// operators approve over policy's REAL ApprovalService, and the story of each withdrawal is
// told from intake's status history, the events on the bus, and the audit log (queried by
// correlation id over audit's gRPC API: the bus events and the operators' approvals, which
// policy records in audit before applying them). Then a depositing integrator asks intake for
// deposit addresses (GetDepositAddress), which intake gets from the signer over mTLS gRPC.
import { generateKeyPairSync, randomBytes, randomUUID, sign, type KeyObject } from 'node:crypto';
import { keccak_256 } from '@noble/hashes/sha3.js';
import { credentials, Metadata, type ServiceError } from '@grpc/grpc-js';
import {
  ApprovalServiceClient,
  AuditQueryServiceClient,
  CustodyGatewayServiceClient,
  GetDepositAddressRequest,
  PolicyDecision,
  RiskVerdict,
  Topics,
  TxPrepared,
  TxState,
  WithdrawalState,
  decodePayload,
  encodeEvent,
  timestampToDate,
  topicVersion,
  type GetDepositAddressResponse,
  type PendingApproval,
  type Topic,
  type Withdrawal,
} from '@custody/contracts';
import { createEnvelope, protobufEnvelopeCodec, type EventBus, type Subscription } from '@custody/event-bus';
import { AuthHeaders, encodeSigningInput, type BodyField, type IntakeHandle } from '@custody/intake';
import type { LedgerHandle } from '@custody/ledger';
import { CORRELATION_ID_KEY, errorReason } from '@custody/platform';
import { SoftwareAuthenticator, approvalSigningBytes, type ApprovalSubject, type PolicyHandle } from '@custody/policy';
import { DEMO_ACCOUNTS, DEMO_ASSET, DEMO_CHAIN, DEMO_DEPOSITOR, DEMO_OPERATORS, DEMO_WITHDRAWALS, TAMPER_FACTOR, TAMPERED_TITLE, type DemoPath, type DemoWithdrawal } from './demo-data.js';

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
  /** The operator's registered (software) FIDO2 authenticator: each vote carries its assertion (C-8.2.2.5-e). */
  readonly device: SoftwareAuthenticator;
}

/** The demo's operator console as a WebAuthn relying party (policy checks rpId and origin of every assertion). */
export const DEMO_CONSOLE = Object.freeze({ rpId: 'localhost', origin: 'http://localhost' });

/**
 * Operators of the demo: keys and authenticators generated at each start (public keys go to
 * the policy's directory). The authenticator's credential id is stable and policy keeps the
 * last counter per device, so the counter starts at the current time: it keeps growing across restarts.
 */
export function demoOperators(): DemoOperator[] {
  return DEMO_OPERATORS.map((o) => ({ id: o.id, role: o.role, key: new LocalKey(`${o.id}-embedded`), device: SoftwareAuthenticator.generate({ ...DEMO_CONSOLE, credentialId: `${o.id}-embedded-device`, signCount: Math.floor(Date.now() / 1000) }) }));
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

/**
 * The depositing integrator (DEMO_DEPOSITOR, scopes read + deposit): registered on the first
 * start of a database; on later starts a fresh key is rotated in and the previous ones expire
 * at once. Its Ed25519 key is generated at this start and kept in memory.
 */
export async function registerDepositIntegrator(intake: IntakeHandle, clock: { now(): Date }): Promise<DemoIntegrator & { readonly returning: boolean }> {
  const key = new LocalKey(`k-${randomBytes(4).toString('hex')}`);
  const now = clock.now();
  const existing = await intake.integrators.findByClientId(DEMO_DEPOSITOR);
  if (existing && existing.status !== 'active') throw new Error(`the demo integrator ${DEMO_DEPOSITOR} is ${existing.status}: an operator must decide (the embedded default does not override it)`);
  if (existing) await intake.integrators.rotateKey(DEMO_DEPOSITOR, { keyId: key.keyId, publicKey: key.publicKey }, now, now);
  else {
    await intake.integrators.register(
      {
        clientId: DEMO_DEPOSITOR,
        scopes: ['read', 'deposit'],
        allowedAssets: [DEMO_ASSET],
        rateLimit: { ratePerSecond: 100, burst: 100 },
        keys: [{ keyId: key.keyId, publicKey: key.publicKey }],
        customerAccounts: DEMO_ACCOUNTS.map((a) => a.id),
      },
      now,
    );
  }
  return { clientId: DEMO_DEPOSITOR, key, returning: existing !== undefined };
}

export interface DepositResult {
  readonly clientId: string;
  /** The integrator existed before this start (its customers' addresses must not have changed). */
  readonly returning: boolean;
  /** Per customer: the first answer and the answer to asking again. */
  readonly addresses: readonly { readonly account: string; readonly chain: string; readonly address: string; readonly again: string }[];
  readonly error?: string;
  readonly ok: boolean;
}

/** EIP-55: the mixed-case checksum of an EVM address (keccak-256 of the lower-case hex). */
export function isEip55(address: string): boolean {
  if (!/^0x[0-9a-fA-F]{40}$/.test(address)) return false;
  const lower = address.slice(2).toLowerCase();
  const hash = Buffer.from(keccak_256(new TextEncoder().encode(lower))).toString('hex');
  return [...lower].map((c, i) => (Number.parseInt(hash[i] ?? '0', 16) >= 8 ? c.toUpperCase() : c)).join('') === address.slice(2);
}

/**
 * GetDepositAddress over the real CustodyGateway, signed by the depositing integrator, for
 * each demo customer, then once more: two customers, two distinct EIP-55 addresses, and the
 * same address on asking again. Intake gets each from the signer's DepositAddressService.
 */
export async function runDeposits(deps: { gatewayPort: number; integrator: DemoIntegrator & { returning: boolean }; clock: { now(): Date } }): Promise<DepositResult> {
  const gateway = new CustodyGatewayServiceClient(`127.0.0.1:${deps.gatewayPort}`, credentials.createInsecure());
  const ask = async (account: string): Promise<GetDepositAddressResponse> =>
    unary<GetDepositAddressRequest, GetDepositAddressResponse>(
      gateway.getDepositAddress.bind(gateway) as never,
      GetDepositAddressRequest.fromPartial({ customerAccount: account, asset: DEMO_ASSET }),
      signedCall(deps.integrator, deps.clock, 'GetDepositAddress', [
        ['customer_account', account],
        ['asset', DEMO_ASSET],
      ]),
    );
  const base = { clientId: deps.integrator.clientId, returning: deps.integrator.returning };
  try {
    const first: GetDepositAddressResponse[] = [];
    for (const a of DEMO_ACCOUNTS) first.push(await ask(a.id));
    const addresses = [];
    for (const [i, a] of DEMO_ACCOUNTS.entries()) addresses.push({ account: a.id, chain: first[i]?.chain ?? '', address: first[i]?.address ?? '', again: (await ask(a.id)).address });
    const ok =
      addresses.length === 2 &&
      new Set(addresses.map((a) => a.address.toLowerCase())).size === addresses.length &&
      addresses.every((a) => isEip55(a.address) && a.again === a.address && a.chain === DEMO_CHAIN);
    return { ...base, addresses, ok };
  } catch (error) {
    const e = error as ServiceError;
    const reason = e.metadata ? errorReason(e.metadata) : undefined;
    return { ...base, addresses: [], error: `${e.message ?? String(error)}${reason ? ` (${reason})` : ''}`, ok: false };
  } finally {
    gateway.close();
  }
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
  /**
   * The audit log of the correlation id: the bus events (`records`) and the operators'
   * actions (policy records each vote before applying it).
   */
  readonly audit:
    | {
        readonly records: readonly { sequence: string; type: string; producer: string }[];
        readonly operatorActions: readonly { sequence: string; action: string; actor: string }[];
        readonly chainVerified: boolean;
      }
    | undefined;
  /** On the dev chain (signer + chain-adapter composed): the transaction and what it moved. */
  readonly chain?: {
    readonly txHash: string;
    readonly confirmations: number;
    /** Destination balance after − before (base units). */
    readonly received: bigint;
  };
  /** The sweep path (hot-wallet cap monitor, C-9.3.7.1-a). */
  readonly sweep?: SweepStory;
  /** The tampered path: what the signer answered and what reached the chain. */
  readonly tamper?: { readonly injectedAmount: string; readonly refusal: string; readonly decisionConsumed: boolean; readonly signatures: number; readonly nonceBefore: bigint; readonly nonceAfter: bigint };
  readonly ok: boolean;
}

/** The dev chain, when the signer and the chain-adapter are composed. */
export interface DemoChain {
  call<T = unknown>(method: string, params?: unknown[]): Promise<T>;
  /** The hot wallet's address (the source of every demo withdrawal). */
  readonly hotAddress: string;
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
  /** Absent when signer and chain-adapter are not composed (approved withdrawals stop at APPROVED). */
  readonly chain?: DemoChain;
  /** The hot-wallet cap monitor (policy composed with the ledger's balances): the sweep path. */
  readonly treasury?: DemoTreasury;
}

/** What the sweep path needs: the policy's monitor, its balance source's hold, our cold wallet. */
export interface DemoTreasury {
  readonly policy: PolicyHandle;
  /** Lets the monitor's rounds read the ledger again (held while the withdrawal paths run). */
  release(): void;
  readonly asset: string;
  readonly cap: bigint;
  readonly target: bigint;
  readonly hotWallet: string;
  readonly cold: { readonly walletId: string; readonly address: string };
}

/** The sweep path's story: every treasury transfer the monitor proposed after the paths, each on chain and in the books. */
export interface SweepStory {
  readonly hotBefore: bigint;
  readonly hotAfter: bigint;
  readonly cap: bigint;
  readonly target: bigint;
  readonly coldAddress: string;
  /** The cold address's balance on chain, after − before. */
  readonly coldReceived: bigint;
  /** custodian:<asset>:<hot wallet> in the ledger, after − before. */
  readonly hotAccountDelta: bigint;
  readonly paused: boolean;
  readonly transfers: readonly {
    readonly transferId: string;
    readonly amount: bigint;
    readonly decision: string;
    readonly txHash: string;
    readonly confirmations: number;
    readonly ledger: string;
    readonly fee: bigint;
    readonly audit: NonNullable<PathResult['audit']> | undefined;
    readonly closeReason: string;
  }[];
}

/** The metadata of a call signed by the integrator's Ed25519 key (docs/intake.md: request signatures). */
function signedCall(integrator: DemoIntegrator, clock: { now(): Date }, method: string, body: readonly BodyField[]): Metadata {
  const timestampMs = clock.now().getTime();
  const nonce = randomBytes(16).toString('hex');
  const { clientId, key } = integrator;
  const payload = encodeSigningInput({ method: `${GATEWAY}/${method}`, clientId, keyId: key.keyId, timestampMs, nonce, body });
  const md = new Metadata();
  md.set(AuthHeaders.clientId, clientId);
  md.set(AuthHeaders.keyId, key.keyId);
  md.set(AuthHeaders.timestamp, String(timestampMs));
  md.set(AuthHeaders.nonce, nonce);
  md.set(AuthHeaders.signature, key.sign(payload).toString('base64'));
  return md;
}

function unary<Req, Res>(fn: (req: Req, md: Metadata, cb: (err: ServiceError | null, res: Res) => void) => unknown, req: Req, md: Metadata = new Metadata()): Promise<Res> {
  return new Promise((resolve, reject) => {
    fn(req, md, (err, res) => (err ? reject(err) : resolve(res)));
  });
}

const stateName = (s: WithdrawalState): string => WithdrawalState[s]?.replace('WITHDRAWAL_STATE_', '') ?? String(s);
const verdictName = (v: RiskVerdict): string => RiskVerdict[v]?.replace('RISK_VERDICT_', '') ?? String(v);
const decisionName = (d: PolicyDecision): string => PolicyDecision[d]?.replace('POLICY_DECISION_', '') ?? String(d);

/** Topics of a withdrawal's story (all of them are recorded by audit). */
const STORY_TOPICS: readonly Topic[] = [Topics.withdrawalRequested, Topics.withdrawalStatus, Topics.riskAssessed, Topics.policyDecided, Topics.txPrepared, Topics.txSigned, Topics.txRefused, Topics.txStatus];

/** Collects what the demo tells from the bus itself: verdicts, decisions, the tx.* events, and how many events each correlation id has. */
class BusObserver {
  readonly risk = new Map<string, { verdict: string; score: number; reasons: string[] }>();
  readonly decisions = new Map<string, { decision: string; reasons: string[] }[]>();
  readonly prepared = new Map<string, TxPrepared[]>();
  readonly signed = new Map<string, string[]>();
  readonly refused = new Map<string, { reasonCode: string; decisionConsumed: boolean; correlationId: string }[]>();
  readonly statuses = new Map<string, { state: TxState; txHash: string; confirmations: number }[]>();
  readonly perCorrelation = new Map<string, number>();
  private subscription: Subscription | undefined;

  private push<T>(map: Map<string, T[]>, key: string, value: T): void {
    map.set(key, [...(map.get(key) ?? []), value]);
  }

  async start(bus: EventBus): Promise<void> {
    this.subscription = await bus.subscribe({
      groupId: `embedded-demo-observer-${randomUUID()}`,
      topics: STORY_TOPICS,
      fromBeginning: false,
      handler: async (message) => {
        const envelope = protobufEnvelopeCodec.decode(message.value);
        this.perCorrelation.set(envelope.correlationId, (this.perCorrelation.get(envelope.correlationId) ?? 0) + 1);
        const event = decodePayload(envelope);
        if (event.type === Topics.txPrepared) this.push(this.prepared, event.message.withdrawalId, event.message);
        else if (event.type === Topics.txSigned) this.push(this.signed, event.message.withdrawalId, event.message.txHash);
        else if (event.type === Topics.txRefused) this.push(this.refused, event.message.withdrawalId, { reasonCode: event.message.reasonCode, decisionConsumed: event.message.decisionConsumed, correlationId: envelope.correlationId });
        else if (event.type === Topics.txStatus) this.push(this.statuses, event.message.withdrawalId, { state: event.message.state, txHash: event.message.txHash, confirmations: event.message.confirmations });
        else if (event.type === Topics.riskAssessed) {
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
  // Approved withdrawals go on to the dev chain only with policy, signer and chain-adapter.
  const onChain = policyComposed && deps.chain !== undefined;
  const balanceOf = async (address: string): Promise<bigint> => (deps.chain ? BigInt(await deps.chain.call<string>('eth_getBalance', [address, 'latest'])) : 0n);
  const gateway = new CustodyGatewayServiceClient(`127.0.0.1:${deps.gatewayPort}`, credentials.createInsecure());
  const approvals = policyComposed ? new ApprovalServiceClient(`127.0.0.1:${deps.approvalPort}`, credentials.createInsecure()) : undefined;
  const audit = deps.auditPort !== undefined ? new AuditQueryServiceClient(`127.0.0.1:${deps.auditPort}`, credentials.createInsecure()) : undefined;
  const observer = new BusObserver();
  await observer.start(deps.bus);

  const signed = (method: string, body: readonly BodyField[]): Metadata => signedCall(deps.integrator, deps.clock, method, body);
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
      const result = await runPath(demo);
      results.push(result);
      if (demo.path === 'normal' && onChain) results.push(await runTampered(result));
    }
    if (onChain && deps.treasury) results.push(await runSweep(deps.treasury));
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
    const voters: string[] = [];
    let final: Withdrawal;
    const paid = onChain && (demo.path === 'normal' || demo.path === 'large');
    const balanceBefore = paid ? await balanceOf(demo.destination) : 0n;
    if (demo.path === 'normal') {
      // Stops early off the expected route too (held for approval: the story says why).
      final = await waitForState(
        withdrawalId,
        onChain
          ? terminalOr(WithdrawalState.WITHDRAWAL_STATE_COMPLETED, WithdrawalState.WITHDRAWAL_STATE_PENDING_APPROVAL)
          : policyComposed
            ? terminalOr(WithdrawalState.WITHDRAWAL_STATE_APPROVED, WithdrawalState.WITHDRAWAL_STATE_PENDING_APPROVAL)
            : terminalOr(WithdrawalState.WITHDRAWAL_STATE_SCREENED, WithdrawalState.WITHDRAWAL_STATE_HELD),
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
          const a = op.device.assertVote(subjectOf(pending), op.id, op.role, 'approve');
          const deviceAssertion = { credentialId: a.credentialId, authenticatorData: Buffer.from(a.authenticatorData), clientDataJson: Buffer.from(a.clientDataJSON), signature: Buffer.from(a.signature) };
          const md = new Metadata();
          md.set(CORRELATION_ID_KEY, correlationId);
          await unary(approvals.approve.bind(approvals) as never, { decisionId: pending.decisionId, operatorId: op.id, role: op.role, keyId: op.key.keyId, signature, deviceAssertion }, md);
          operatorVotes.push(`${op.id} (${op.role})`);
          voters.push(op.id);
        }
        final = await waitForState(withdrawalId, onChain ? terminalOr(WithdrawalState.WITHDRAWAL_STATE_COMPLETED) : terminalOr(WithdrawalState.WITHDRAWAL_STATE_APPROVED));
      }
    }

    const expected = expectationOf(demo.path, policyComposed, onChain);
    const ledgerState = await waitForLedger(withdrawalId, expected.ledger);
    let chainStory: PathResult['chain'];
    if (paid && final.state === WithdrawalState.WITHDRAWAL_STATE_COMPLETED) {
      await waitUntil(() => (observer.statuses.get(withdrawalId) ?? []).some((st) => st.state === TxState.TX_STATE_FINAL));
      const finalStatus = (observer.statuses.get(withdrawalId) ?? []).find((st) => st.state === TxState.TX_STATE_FINAL);
      chainStory = { txHash: finalStatus?.txHash ?? '', confirmations: finalStatus?.confirmations ?? 0, received: (await balanceOf(demo.destination)) - balanceBefore };
    }
    const transitions = await history();
    const decisions = observer.decisions.get(withdrawalId) ?? [];
    // Every event of this withdrawal on the bus (requested, assessed, decisions, status
    // changes, tx.*), counted by its correlation id: the audit log must hold each one.
    const auditStory = audit && correlationId ? await auditOf(correlationId, operatorVotes.length) : undefined;
    const eventsExpected = observer.perCorrelation.get(correlationId) ?? 0;

    const risk = observer.risk.get(withdrawalId);
    const finalState = stateName(final.state);
    const ok =
      finalState === expected.state &&
      risk?.verdict === expected.risk &&
      decisions.length === expected.decisions.length &&
      decisions.every((d, i) => d.decision === expected.decisions[i]) &&
      ledgerState === expected.ledger &&
      (auditStory === undefined || (auditStory.chainVerified && auditStory.records.length === eventsExpected && votesAuditedFirst(auditStory, voters))) &&
      (demo.path !== 'large' || operatorVotes.length === 2) &&
      (!paid || chainStory?.received === demo.amount);
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
      ...(chainStory ? { chain: chainStory } : {}),
      ok,
    };
  }

  /**
   * The audit log of one correlation id once it holds every event the bus carried for it
   * (the audit consumer records asynchronously; bounded wait).
   */
  async function auditOf(correlationId: string, operatorActions = 0): Promise<PathResult['audit']> {
    if (!audit) return undefined;
    let story: PathResult['audit'];
    const deadline = Date.now() + timeoutMs;
    // Settled = the audit log holds every event the bus carried for this correlation AND no
    // new one arrived for a quiet second: intake's last withdrawal.status leaves its outbox
    // after GetWithdrawal already answers the final state, so equal counts alone can be early.
    let settledSince: number | undefined;
    let lastCount = -1;
    for (let i = 0; i < 1_000; i++) {
      const res = await unary<object, { records: { sequence: string | number; eventType: string; producer: string; kind: string; actor: string }[]; chainVerified: boolean }>(
        audit.queryByCorrelation.bind(audit) as never,
        { correlationId, pageSize: 100, pageToken: '' },
      );
      const events = res.records.filter((r) => r.kind !== 'operator');
      const operators = res.records.filter((r) => r.kind === 'operator');
      story = {
        records: events.map((r) => ({ sequence: String(r.sequence), type: r.eventType, producer: r.producer })),
        operatorActions: operators.map((r) => ({ sequence: String(r.sequence), action: r.eventType, actor: r.actor })),
        chainVerified: res.chainVerified,
      };
      const seen = observer.perCorrelation.get(correlationId) ?? 0;
      const caughtUp = events.length > 0 && events.length === seen && operators.length >= operatorActions;
      if (!caughtUp) settledSince = undefined;
      else if (settledSince === undefined || seen !== lastCount) settledSince = Date.now();
      lastCount = seen;
      if (settledSince !== undefined && Date.now() - settledSince >= 1_000) break;
      if (Date.now() > deadline) break;
      await new Promise((r) => setTimeout(r, 100));
    }
    return story;
  }

  /**
   * Someone with access to the bus re-sends the allowed withdrawal's tx.prepared with a larger
   * amount, the genuine decision token attached. The signer verifies the token against the
   * request, refuses TOKEN_BINDING_MISMATCH before its single-use reservation (the genuine
   * decision is untouched), signs nothing, so nothing reaches the chain.
   */
  async function runTampered(allowed: PathResult): Promise<PathResult> {
    const chain = deps.chain as DemoChain;
    const genuine = (observer.prepared.get(allowed.withdrawalId) ?? [])[0];
    const correlationId = `tampered-${randomUUID()}`;
    const expected = { state: 'REFUSED', risk: '-', decisions: [], ledger: allowed.expected.ledger };
    const failed = (reason: string): PathResult => ({
      path: 'tampered',
      title: TAMPERED_TITLE,
      withdrawalId: allowed.withdrawalId,
      correlationId,
      expected,
      final: { state: 'NOT_RUN', reasonCode: '', reasonDetail: reason },
      transitions: [],
      risk: undefined,
      decisions: [],
      approvals: [],
      ledger: allowed.ledger,
      audit: undefined,
      ok: false,
    });
    if (!genuine) return failed('the allowed withdrawal was never prepared');
    const signaturesBefore = (observer.signed.get(allowed.withdrawalId) ?? []).length;
    const nonceBefore = BigInt(await chain.call<string>('eth_getTransactionCount', [chain.hotAddress, 'pending']));
    const forged = TxPrepared.fromPartial({ ...genuine, amount: (BigInt(genuine.amount) * TAMPER_FACTOR).toString() });
    const envelope = createEnvelope({
      type: Topics.txPrepared,
      key: forged.sourceWallet,
      correlationId,
      producer: 'demo-tamperer',
      schemaVersion: topicVersion(Topics.txPrepared),
      payload: encodeEvent(Topics.txPrepared, forged),
    });
    await deps.bus.publish([{ topic: Topics.txPrepared, key: forged.sourceWallet, value: protobufEnvelopeCodec.encode(envelope) }]);
    const refusalOf = () => (observer.refused.get(allowed.withdrawalId) ?? []).find((r) => r.correlationId === correlationId);
    await waitUntil(() => refusalOf() !== undefined);
    const refusal = refusalOf();
    const signatures = (observer.signed.get(allowed.withdrawalId) ?? []).length - signaturesBefore;
    const nonceAfter = BigInt(await chain.call<string>('eth_getTransactionCount', [chain.hotAddress, 'pending']));
    const auditStory = await auditOf(correlationId);
    const ledgerState = await waitForLedger(allowed.withdrawalId, expected.ledger);
    const ok =
      refusal?.reasonCode === 'TOKEN_BINDING_MISMATCH' &&
      !refusal.decisionConsumed &&
      signatures === 0 &&
      nonceAfter === nonceBefore &&
      ledgerState === expected.ledger &&
      (auditStory === undefined || (auditStory.chainVerified && auditStory.records.length === (observer.perCorrelation.get(correlationId) ?? 0)));
    return {
      path: 'tampered',
      title: TAMPERED_TITLE,
      withdrawalId: allowed.withdrawalId,
      correlationId,
      expected,
      final: { state: refusal ? 'REFUSED' : 'NO_ANSWER', reasonCode: refusal?.reasonCode ?? '', reasonDetail: '' },
      transitions: [],
      risk: undefined,
      decisions: [],
      approvals: [],
      ledger: ledgerState,
      audit: auditStory,
      tamper: { injectedAmount: forged.amount, refusal: refusal?.reasonCode ?? '', decisionConsumed: refusal?.decisionConsumed ?? false, signatures, nonceBefore, nonceAfter },
      ok,
    };
  }

  /**
   * C-9.3.7.1-a end to end: the opening balances pushed the hot exposure above the cap; after
   * the withdrawal paths the monitor's rounds run again (released, plus one round now) and
   * propose sweeps hot → our cold address, decided by the bundle (ALLOW, token). Each one goes
   * through chain-adapter and the signer like a withdrawal, FINAL on the dev chain, booked by
   * the ledger as an internal TRANSFER; the next round sweeps the rest (a transfer moves at
   * most the cap) until the hot exposure is at or under the cap.
   */
  async function runSweep(t: DemoTreasury): Promise<PathResult> {
    const policyDb = t.policy.dataSource;
    const hotAccount = `custodian:${t.asset}:${t.hotWallet}`;
    const hotAccountBalance = async (): Promise<bigint> => {
      const [row] = (await deps.ledger.dataSource.query(`SELECT "available"::text AS a FROM "ledger_balance" WHERE "account" = $1 AND "asset" = $2`, [hotAccount, t.asset])) as { a: string }[];
      return BigInt(row?.a ?? '0');
    };
    const known = new Set(((await policyDb.query(`SELECT "transfer_id" FROM "treasury_transfer"`)) as { transfer_id: string }[]).map((r) => r.transfer_id));
    const coldBefore = await balanceOf(t.cold.address);
    const hotAccountBefore = await hotAccountBalance();
    t.release();
    let hotBefore: bigint | undefined;
    let hotAfter = 0n;
    let paused = false;
    const ours: string[] = [];
    for (let round = 0; round < 6; round++) {
      const r = await t.policy.treasury.round(t.asset);
      hotBefore ??= r.hot;
      hotAfter = r.hot;
      paused = r.paused;
      const open = (await policyDb.query(`SELECT "transfer_id" FROM "treasury_transfer" WHERE "asset" = $1 AND "direction" = 'sweep' AND "status" = 'open'`, [t.asset])) as { transfer_id: string }[];
      for (const o of open) if (!known.has(o.transfer_id) && !ours.includes(o.transfer_id)) ours.push(o.transfer_id);
      if (open.length === 0 && r.hot <= t.cap) break;
      for (const o of open) {
        // Closed by the policy (tx.status FINAL) and booked by the ledger before the next round reads the balance.
        await waitUntilAsync(async () => {
          const [p] = (await policyDb.query(`SELECT "status" FROM "treasury_transfer" WHERE "transfer_id" = $1`, [o.transfer_id])) as { status: string }[];
          const [l] = (await deps.ledger.dataSource.query(`SELECT "state" FROM "ledger_transfer" WHERE "transfer_id" = $1`, [o.transfer_id])) as { state: string }[];
          return p?.status === 'closed' && (l?.state === 'SETTLED' || !(observer.statuses.get(o.transfer_id) ?? []).some((st) => st.state === TxState.TX_STATE_FINAL));
        }, 4 * timeoutMs);
      }
    }
    // Every sweep proposed since the paths ended (by these rounds or the monitor's own timer).
    for (const r of (await policyDb.query(`SELECT "transfer_id" FROM "treasury_transfer" WHERE "asset" = $1 AND "direction" = 'sweep' ORDER BY "opened_at"`, [t.asset])) as { transfer_id: string }[]) {
      if (!known.has(r.transfer_id) && !ours.includes(r.transfer_id)) ours.push(r.transfer_id);
    }
    const transfers: SweepStory['transfers'][number][] = [];
    for (const transferId of ours) {
      const [p] = (await policyDb.query(`SELECT "amount"::text AS amount, "close_reason" FROM "treasury_transfer" WHERE "transfer_id" = $1`, [transferId])) as { amount: string; close_reason: string }[];
      const [l] = (await deps.ledger.dataSource.query(`SELECT "state", "settle_entry_id" FROM "ledger_transfer" WHERE "transfer_id" = $1`, [transferId])) as { state: string; settle_entry_id: string | null }[];
      const [fee] = l?.settle_entry_id
        ? ((await deps.ledger.dataSource.query(`SELECT COALESCE(sum("amount"), 0)::text AS f FROM "journal_line" WHERE "entry_id" = $1 AND "account" LIKE 'network-fees:%'`, [l.settle_entry_id])) as { f: string }[])
        : [];
      const finalStatus = (observer.statuses.get(transferId) ?? []).find((st) => st.state === TxState.TX_STATE_FINAL);
      transfers.push({
        transferId,
        amount: BigInt(p?.amount ?? '0'),
        decision: (observer.decisions.get(transferId) ?? []).map((d) => d.decision).join(' → '),
        txHash: finalStatus?.txHash ?? '',
        confirmations: finalStatus?.confirmations ?? 0,
        ledger: l?.state ?? 'NONE',
        fee: BigInt(fee?.f ?? '0'),
        audit: audit ? await auditOf(transferId) : undefined,
        closeReason: p?.close_reason ?? '',
      });
    }
    const sweep: SweepStory = {
      hotBefore: hotBefore ?? 0n,
      hotAfter,
      cap: t.cap,
      target: t.target,
      coldAddress: t.cold.address,
      coldReceived: (await balanceOf(t.cold.address)) - coldBefore,
      hotAccountDelta: (await hotAccountBalance()) - hotAccountBefore,
      paused,
      transfers,
    };
    const swept = transfers.reduce((sum, x) => sum + x.amount, 0n);
    const fees = transfers.reduce((sum, x) => sum + x.fee, 0n);
    const ok =
      sweep.hotBefore > t.cap &&
      transfers.length > 0 &&
      transfers.every(
        (x) =>
          x.decision === 'ALLOW' &&
          x.amount <= t.cap &&
          x.confirmations > 0 &&
          x.ledger === 'SETTLED' &&
          x.fee > 0n &&
          x.closeReason === 'final' &&
          (x.audit === undefined || (x.audit.chainVerified && x.audit.records.length === (observer.perCorrelation.get(x.transferId) ?? 0))),
      ) &&
      sweep.coldReceived === swept &&
      sweep.hotAccountDelta === -(swept + fees) &&
      sweep.hotBefore - swept === hotAfter + fees &&
      hotAfter <= t.cap &&
      !paused;
    return {
      path: 'sweep',
      title: `hot-wallet cap: the opening balances put the ${t.asset} hot exposure above its cap → sweep hot → our cold wallet`,
      withdrawalId: transfers[0]?.transferId ?? '',
      correlationId: transfers[0]?.transferId ?? '',
      expected: { state: 'FINAL', risk: '-', decisions: ['ALLOW'], ledger: 'SETTLED' },
      final: { state: ok ? 'FINAL' : transfers.length === 0 ? 'NOT_PROPOSED' : 'INCOMPLETE', reasonCode: '', reasonDetail: '' },
      transitions: [],
      risk: undefined,
      decisions: [],
      approvals: [],
      ledger: transfers.every((x) => x.ledger === 'SETTLED') ? 'SETTLED' : transfers.map((x) => x.ledger).join(', '),
      audit: undefined,
      sweep,
      ok,
    };
  }

  async function waitUntilAsync(condition: () => Promise<boolean>, ms: number): Promise<void> {
    const deadline = Date.now() + ms;
    for (let i = 0; i < 100_000 && Date.now() < deadline; i++) {
      if (await condition()) return;
      await new Promise((r) => setTimeout(r, 100));
    }
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

/**
 * The audit log holds one `policy.approval.approve` operator action per voter, each recorded
 * before the decision the votes led to (the last `policy.decided` event of the story): the
 * vote was recorded first, then applied. No voters: no operator action.
 */
function votesAuditedFirst(story: NonNullable<PathResult['audit']>, voters: readonly string[]): boolean {
  const actions = story.operatorActions;
  const expected = [...voters].sort();
  if (actions.length !== voters.length || !actions.map((a) => a.actor).sort().every((actor, i) => actor === expected[i])) return false;
  if (voters.length === 0) return true;
  const decided = story.records.filter((r) => r.type === Topics.policyDecided).map((r) => BigInt(r.sequence));
  const applied = decided.reduce((a, b) => (a > b ? a : b), 0n);
  return actions.every((a) => a.action === 'policy.approval.approve' && BigInt(a.sequence) < applied);
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

function expectationOf(path: DemoPath, policyComposed: boolean, onChain: boolean): PathResult['expected'] {
  switch (path) {
    case 'normal':
      if (onChain) return { state: 'COMPLETED', risk: 'CLEAR', decisions: ['ALLOW'], ledger: 'SETTLED' };
      return policyComposed ? { state: 'APPROVED', risk: 'CLEAR', decisions: ['ALLOW'], ledger: 'HELD' } : { state: 'SCREENED', risk: 'CLEAR', decisions: [], ledger: 'HELD' };
    case 'sanctioned':
      return { state: 'DENIED', risk: 'BLOCK', decisions: policyComposed ? ['DENY'] : [], ledger: 'RELEASED' };
    case 'large':
      return onChain ? { state: 'COMPLETED', risk: 'REVIEW', decisions: ['REQUIRE_APPROVAL', 'ALLOW'], ledger: 'SETTLED' } : { state: 'APPROVED', risk: 'REVIEW', decisions: ['REQUIRE_APPROVAL', 'ALLOW'], ledger: 'HELD' };
    case 'tampered':
      return { state: 'REFUSED', risk: '-', decisions: [], ledger: 'SETTLED' };
    case 'sweep':
      return { state: 'FINAL', risk: '-', decisions: ['ALLOW'], ledger: 'SETTLED' };
  }
}

const formatEth = (base: string): string => {
  if (base.startsWith('-')) return `-${formatEth(base.slice(1))}`;
  const v = BigInt(base);
  const whole = v / 10n ** 18n;
  const frac = (v % 10n ** 18n).toString().padStart(18, '0').replace(/0+$/, '');
  return frac ? `${whole}.${frac}` : `${whole}`;
};

/** Risk rules that look back over earlier movements (risk's default rule set). */
const HISTORY_RULES = ['velocity_', 'rapid_succession', 'round_amount_', 'below_threshold_'];

/** The story of each withdrawal and the deposit addresses, as printed by `npm start -- --demo`. */
export function formatDemo(results: readonly PathResult[], deposits?: DepositResult): string {
  const lines: string[] = ['', 'Demo: withdrawals over the real gRPC API (signed by the demo integrator)'];
  for (const r of results) {
    const demo = DEMO_WITHDRAWALS.find((d) => d.path === r.path);
    lines.push('');
    lines.push(`  [${r.path}] ${r.title}`);
    if (r.sweep) {
      const w = r.sweep;
      lines.push(`    ledger hot exposure ${formatEth(w.hotBefore.toString())} ETH > cap ${formatEth(w.cap.toString())} ETH (target ${formatEth(w.target.toString())} ETH); one transfer moves at most the cap`);
      for (const x of w.transfers) {
        lines.push(`    transfer ${x.transferId}  ${formatEth(x.amount.toString())} ETH hot → cold ${w.coldAddress}`);
        lines.push(`      policy.decided: ${x.decision || '(none)'}; on chain: tx ${x.txHash || '(none)'} FINAL at ${x.confirmations} confirmations; ledger: ${x.ledger} (TRANSFER, fee ${formatEth(x.fee.toString())} ETH booked); closed: ${x.closeReason || 'open'}`);
        if (x.audit) {
          lines.push(`      audit log (correlation ${x.transferId}): ${x.audit.records.length} records, hash chain ${x.audit.chainVerified ? 'verified' : 'NOT verified'}`);
          for (const a of x.audit.records) lines.push(`        #${a.sequence.padEnd(5)} ${a.type.padEnd(32)} by ${a.producer}`);
        }
      }
      lines.push(`    on chain:        cold address balance +${formatEth(w.coldReceived.toString())} ETH`);
      lines.push(`    ledger:          hot wallet account ${formatEth(w.hotAccountDelta.toString())} ETH (swept + fees); hot exposure now ${formatEth(w.hotAfter.toString())} ETH ≤ cap; hot withdrawals ${w.paused ? 'PAUSED' : 'not paused'}`);
      lines.push(`    outcome: ${r.final.state} — expected FINAL: ${r.ok ? 'ok' : 'UNEXPECTED'}`);
      continue;
    }
    if (r.tamper) {
      lines.push(`    withdrawal ${r.withdrawalId}  (the allowed one: its decision token and approvals, amount changed to ${formatEth(r.tamper.injectedAmount)} ETH)`);
      lines.push(`    signer:          tx.refused ${r.tamper.refusal || '(none)'} — decision ${r.tamper.decisionConsumed ? 'CONSUMED' : 'not consumed (the genuine request stays valid)'}`);
      lines.push(`    chain:           ${r.tamper.signatures} signature(s) made, hot wallet nonce ${r.tamper.nonceBefore} → ${r.tamper.nonceAfter}: nothing broadcast`);
    } else {
      lines.push(`    withdrawal ${r.withdrawalId}  (${demo ? `${formatEth(demo.amount.toString())} ETH → ${demo.destination}` : ''})`);
      lines.push(`    intake status history: ${r.transitions.map((t) => (t.reason ? `${t.to} (${t.reason})` : t.to)).join(' → ')}`);
    }
    if (r.risk) lines.push(`    risk.assessed:   ${r.risk.verdict}, score ${r.risk.score}${r.risk.reasons.length ? ` — ${r.risk.reasons.join(', ')}` : ''}`);
    for (const d of r.decisions) lines.push(`    policy.decided:  ${d.decision}${d.reasons.length ? ` — ${d.reasons.join(', ')}` : ''}`);
    if (r.chain) lines.push(`    on chain:        tx ${r.chain.txHash} FINAL at ${r.chain.confirmations} confirmations; destination balance +${formatEth(r.chain.received.toString())} ETH`);
    lines.push(
      `    ledger:          ${
        r.ledger === 'HELD'
          ? `HELD — ${demo ? formatEth(demo.amount.toString()) : ''} ETH reserved on the customer's account until settlement`
          : r.ledger === 'RELEASED'
            ? 'RELEASED — the hold was returned to the customer on denial'
            : r.ledger === 'SETTLED'
              ? `SETTLED — ${r.tamper ? 'the allowed withdrawal, once (unchanged by the tampered request)' : 'the hold became the payment, the fee booked'}`
              : r.ledger
      }`,
    );
    if (r.approvals.length) lines.push(`    approvals:       ${r.approvals.join(', ')} over ApprovalService (Ed25519-signed)`);
    if (r.audit) {
      lines.push(`    audit log (correlation ${r.correlationId}): ${r.audit.records.length} records, hash chain ${r.audit.chainVerified ? 'verified' : 'NOT verified'}`);
      for (const a of r.audit.records) lines.push(`      #${a.sequence.padEnd(5)} ${a.type.padEnd(32)} by ${a.producer}`);
      if (r.audit.operatorActions.length) {
        lines.push(`    operator actions in the audit log: ${r.audit.operatorActions.length}, each recorded before its vote was applied`);
        for (const a of r.audit.operatorActions) lines.push(`      #${a.sequence.padEnd(5)} ${a.action.padEnd(32)} by ${a.actor} (operator)`);
      }
    }
    lines.push(`    outcome: ${r.final.state}${r.final.reasonCode ? ` (${r.final.reasonCode})` : ''} — expected ${r.expected.state}: ${r.ok ? 'ok' : 'UNEXPECTED'}`);
    const remembered = r.risk?.reasons.filter((code) => HISTORY_RULES.some((prefix) => code.startsWith(prefix))) ?? [];
    if (!r.ok && remembered.length > 0) {
      lines.push(`    note: risk's history rules (${remembered.join(', ')}) remember earlier demo runs in this database;`);
      lines.push('          for a fresh story use another database, e.g. CUSTODY_EMBEDDED_DATABASE=custody_demo_2 npm start -- --demo');
    }
  }
  if (deposits) {
    lines.push('');
    lines.push(`Deposit addresses: GetDepositAddress over the real gRPC API (signed by ${deposits.clientId}); intake asks the signer's DepositAddressService over mTLS`);
    lines.push(`  integrator ${deposits.clientId}: ${deposits.returning ? 'returning (known from an earlier start; its key rotated at this start)' : 'registered at this start'}`);
    for (const a of deposits.addresses) lines.push(`  deposit ${a.account.padEnd(14)} ${a.address}  (${a.chain}${isEip55(a.address) ? ', EIP-55' : ', NOT EIP-55'}); asked again: ${a.again === a.address ? 'same address' : `DIFFERENT ${a.again}`}`);
    if (deposits.error) lines.push(`  GetDepositAddress failed: ${deposits.error}`);
    lines.push(`  outcome: ${deposits.addresses.length} customers, ${new Set(deposits.addresses.map((a) => a.address.toLowerCase())).size} distinct addresses, stable on asking again: ${deposits.ok ? 'ok' : 'UNEXPECTED'}`);
  }
  lines.push('');
  lines.push(
    `Demo result: ${results.filter((r) => r.ok).length}/${results.length} paths reached their expected state${deposits ? `; deposit addresses ${deposits.ok ? 'ok' : 'UNEXPECTED'}` : ''}`,
  );
  lines.push('');
  return lines.join('\n');
}
