/**
 * The active policy bundle (C-9.3.2-a lifecycle): exactly one active bundle, the previous
 * one kept for rollback. A bundle becomes active only with an admin quorum (distinct
 * admins' Ed25519 signatures over its digest, domain/approval.ts), verified HERE, by the
 * service, whoever staged it; only after it has loaded and evaluated once; and by swapping
 * one reference: a message being decided keeps the bundle it took when it started (hot
 * reload never drops or mixes an in-flight decision).
 *
 * Activation paths: `activate()` in-process, or staged in the database (the
 * policy-bundle CLI) and picked up by `activateStaged()` on a timer. A staged bundle
 * whose signatures do not make a quorum, or that does not load, is marked refused and
 * the active bundle stays (fail closed, logged as an alert by the caller).
 *
 * No active bundle → `current()` throws NoActiveBundleError: nothing is decided.
 */
import { DomainError } from '@custody/platform';
import { verifiedAdmins, type AdminSignature } from '../domain/approval.js';
import type { PolicyBundle, PolicyEvaluator } from './policy-evaluator.js';
import type { OperatorDirectory } from './ports.js';

export class NoActiveBundleError extends DomainError {
  constructor() {
    super('NO_ACTIVE_BUNDLE', 'no valid policy bundle is active: nothing is decided');
  }
}

export class ActivationRefusedError extends DomainError {}

export interface StoredBundle {
  readonly archive: Uint8Array;
  readonly bundle: PolicyBundle;
  readonly signatures: readonly AdminSignature[];
}

/** Persistence of bundle archives: active, previous, staged (awaiting activation), refused, retired. */
export interface BundleStore {
  loadActive(): Promise<StoredBundle | undefined>;
  loadPrevious(): Promise<StoredBundle | undefined>;
  /** Makes `digest` active, the active one previous, any other previous retired. */
  saveActive(archive: Uint8Array, digest: string, activatedBy: readonly string[], signatures: readonly AdminSignature[], at: Date): Promise<void>;
  /** The oldest pending activation request (raw archive: parsed and verified by the registry). */
  nextStaged(): Promise<{ readonly id: string; readonly archive: Uint8Array; readonly signatures: readonly AdminSignature[] } | undefined>;
  /** Closes an activation request: activated, or refused with the reason. */
  closeStaged(id: string, outcome: { readonly activated: boolean; readonly digest: string; readonly reason: string }, at: Date): Promise<void>;
}

export interface BundleRegistryOptions {
  readonly evaluator: PolicyEvaluator;
  readonly store: BundleStore;
  readonly operators: OperatorDirectory;
  readonly adminRole: string;
  /** Distinct admin signatures an activation needs (default 2). */
  readonly adminQuorum?: number;
  readonly parse: (archive: Uint8Array) => PolicyBundle;
  readonly now: () => Date;
}

/** A canary input evaluated before a bundle goes live: any decision is fine, a crash is not. */
const CANARY_INPUT = { kind: 'canary' };

export const BOOTSTRAP = 'bootstrap';

export class BundleRegistry {
  private active: PolicyBundle | undefined;
  private previous: PolicyBundle | undefined;
  private activating: Promise<unknown> = Promise.resolve();

  constructor(private readonly options: BundleRegistryOptions) {}

  /** The bundle to decide with; throws when there is none (fail closed). */
  current(): PolicyBundle {
    if (!this.active) throw new NoActiveBundleError();
    return this.active;
  }

  get activeDigest(): string | undefined {
    return this.active?.digest;
  }

  get previousDigest(): string | undefined {
    return this.previous?.digest;
  }

  /**
   * Startup. The bundle the store marks active is used only if its stored admin
   * signatures still make a quorum, or it is the bootstrap archive the deployment ships
   * (so a row edited in the database cannot install a policy). With nothing stored, the
   * bootstrap archive is activated (recorded as activated by "bootstrap"). The bundle must
   * load and evaluate, or this throws and the service does not start.
   */
  async start(bootstrapArchive: Uint8Array | undefined): Promise<void> {
    const bootstrap = bootstrapArchive ? this.options.parse(bootstrapArchive) : undefined;
    const stored = await this.options.store.loadActive();
    if (stored) {
      const vouched = stored.bundle.digest === bootstrap?.digest || this.admins(stored.bundle.digest, stored.signatures).length >= this.quorum;
      if (!vouched) {
        throw new ActivationRefusedError('STORED_BUNDLE_UNVERIFIED', `the stored active bundle ${stored.bundle.digest} has no admin quorum and is not the bootstrap bundle`);
      }
      await this.warm(stored.bundle);
      this.active = stored.bundle;
      this.previous = (await this.options.store.loadPrevious())?.bundle;
      return;
    }
    if (!bootstrap || !bootstrapArchive) throw new NoActiveBundleError();
    await this.warm(bootstrap);
    await this.options.store.saveActive(bootstrapArchive, bootstrap.digest, [BOOTSTRAP], [], this.options.now());
    this.active = bootstrap;
  }

  /** Activates `archive` if at least `adminQuorum` distinct admins signed its digest. */
  activate(archive: Uint8Array, signatures: readonly AdminSignature[]): Promise<{ digest: string; activatedBy: string[] }> {
    // One activation at a time (the timer and an in-process call may race).
    const next = this.activating.then(() => this.doActivate(archive, signatures));
    this.activating = next.catch(() => undefined);
    return next;
  }

  /** Re-activates the previous bundle; the same admin quorum as any activation. */
  async rollback(signatures: readonly AdminSignature[]): Promise<{ digest: string; activatedBy: string[] }> {
    const previous = await this.options.store.loadPrevious();
    if (!previous) throw new ActivationRefusedError('NO_PREVIOUS_BUNDLE', 'there is no previous bundle to roll back to');
    return this.activate(previous.archive, signatures);
  }

  /**
   * Takes the oldest staged bundle, if any, and activates it; a refusal marks it refused
   * (the active bundle stays) and is returned for the caller to alert on.
   */
  async activateStaged(): Promise<{ id: string; digest: string; activated: boolean; reason: string } | undefined> {
    const staged = await this.options.store.nextStaged();
    if (!staged) return undefined;
    let result: { id: string; digest: string; activated: boolean; reason: string };
    try {
      const { digest, activatedBy } = await this.activate(staged.archive, staged.signatures);
      result = { id: staged.id, digest, activated: true, reason: `activated by ${activatedBy.join(', ')}` };
    } catch (error) {
      const reason = (error instanceof Error ? error.message : String(error)).slice(0, 500);
      let digest = '';
      try {
        digest = this.options.parse(staged.archive).digest;
      } catch {
        // not a bundle: no digest
      }
      result = { id: staged.id, digest, activated: false, reason };
    }
    await this.options.store.closeStaged(staged.id, result, this.options.now());
    return result;
  }

  private get quorum(): number {
    return this.options.adminQuorum ?? 2;
  }

  private admins(digest: string, signatures: readonly AdminSignature[]): string[] {
    return verifiedAdmins(digest, signatures, this.options.operators.operators, this.options.adminRole);
  }

  private async doActivate(archive: Uint8Array, signatures: readonly AdminSignature[]): Promise<{ digest: string; activatedBy: string[] }> {
    const bundle = this.options.parse(archive);
    const admins = this.admins(bundle.digest, signatures);
    if (admins.length < this.quorum) {
      throw new ActivationRefusedError('ADMIN_QUORUM_NOT_MET', `activating bundle ${bundle.digest} needs ${this.quorum} distinct admin signatures over its digest; ${admins.length} verified`);
    }
    if (bundle.digest === this.active?.digest) return { digest: bundle.digest, activatedBy: admins };
    await this.warm(bundle);
    await this.options.store.saveActive(archive, bundle.digest, admins, signatures, this.options.now());
    // The swap: one assignment, between messages.
    this.previous = this.active;
    this.active = bundle;
    return { digest: bundle.digest, activatedBy: admins };
  }

  private async warm(bundle: PolicyBundle): Promise<void> {
    await this.options.evaluator.evaluate(bundle, CANARY_INPUT);
  }
}
