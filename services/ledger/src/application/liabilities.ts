// Proof of liabilities: build a snapshot (Merkle sum tree over every customer balance of an
// asset, cross-checked against the journal, stored) and answer a customer's inclusion
// proof from a stored snapshot (the tree is rebuilt from the stored leaves and must give
// the stored root, or nothing is answered).
import { randomBytes, randomInt, randomUUID } from 'node:crypto';
import { DomainError } from '@custody/platform';
import { InvalidArgumentError } from '../domain/errors.js';
import {
  POL_SCHEME,
  SALT_BYTES,
  buildTree,
  parseCustomerAccount,
  proofDocument,
  proofPath,
  rootOf,
  shuffle,
  toHex,
  type LiabilityLeaf,
  type ProofDocument,
  type ProofStep,
} from '../domain/liabilities.js';
import { customerAccount } from '../domain/postings.js';
import { checkAsset } from '../domain/statement.js';

export interface CustomerBalanceRow {
  readonly account: string;
  readonly available: bigint;
  readonly held: bigint;
}

/** What the store reads for a build, in ONE snapshot of the database. */
export interface LiabilitiesBookView {
  /** ledger_balance rows of customer accounts of the asset. */
  readonly balances: readonly CustomerBalanceRow[];
  /** Per customer account, the journal's credit-positive sum of its lines of the asset (recomputed from the lines). */
  readonly journalTotals: ReadonlyMap<string, bigint>;
  /** Highest journal entry sequence visible. */
  readonly asOfSequence: bigint;
}

export interface StoredSnapshot {
  readonly snapshotId: string;
  readonly asset: string;
  readonly scheme: string;
  readonly rootHash: string;
  readonly total: bigint;
  readonly leafCount: number;
  readonly asOfSequence: bigint;
  readonly asOf: Date;
  readonly builtBy: string;
}

export interface StoredLeaf {
  readonly leafIndex: number;
  readonly account: string;
  /** 64 hex digits. */
  readonly salt: string;
  readonly balance: bigint;
}

export interface LiabilitiesStore {
  /** Reads the books (one REPEATABLE READ snapshot), lets `build` make the snapshot and stores it in the same transaction. */
  buildSnapshot(asset: string, build: (view: LiabilitiesBookView) => { snapshot: StoredSnapshot; leaves: StoredLeaf[] }): Promise<StoredSnapshot>;
  snapshot(snapshotId: string): Promise<StoredSnapshot | undefined>;
  /** In leaf order. */
  leaves(snapshotId: string): Promise<StoredLeaf[]>;
}

export class LiabilitiesError extends DomainError {}

export interface LiabilitiesProof {
  readonly snapshot: StoredSnapshot;
  readonly clientId: string;
  readonly customerAccount: string;
  readonly salt: string;
  readonly balance: bigint;
  readonly leafIndex: number;
  readonly leafHash: string;
  readonly path: readonly ProofStep[];
  readonly document: ProofDocument;
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

export class LiabilitiesProofs {
  constructor(
    private readonly deps: {
      readonly store: LiabilitiesStore;
      readonly clock: () => Date;
      readonly random?: { readonly bytes: (n: number) => Uint8Array; readonly below: (n: number) => number };
    },
  ) {}

  build(asset: string, builtBy: string): Promise<StoredSnapshot> {
    checkAsset(asset);
    if (builtBy.length === 0) throw new LiabilitiesError('OPERATOR_UNAUTHENTICATED', 'building a liabilities snapshot needs an authenticated operator');
    const random = this.deps.random ?? { bytes: (n: number) => new Uint8Array(randomBytes(n)), below: (n: number) => randomInt(n) };
    return this.deps.store.buildSnapshot(asset, (view) => {
      // Fail closed: the balances committed to must be the journal's, account by account.
      const seen = new Set<string>();
      for (const b of view.balances) {
        seen.add(b.account);
        if ((view.journalTotals.get(b.account) ?? 0n) !== b.available + b.held) {
          throw new LiabilitiesError('LIABILITIES_BOOKS_INCONSISTENT', 'a customer balance differs from the sum of its journal lines; no snapshot built');
        }
      }
      for (const [account, total] of view.journalTotals) {
        if (!seen.has(account) && total !== 0n) throw new LiabilitiesError('LIABILITIES_BOOKS_INCONSISTENT', 'journal lines of a customer without a balance row; no snapshot built');
      }
      if (view.balances.length === 0) throw new LiabilitiesError('LIABILITIES_NO_CUSTOMERS', `no customer balance of ${asset} to commit to`);
      const leaves: (LiabilityLeaf & { account: string })[] = shuffle(
        view.balances.map((b) => ({ ...parseCustomerAccount(b.account), account: b.account, salt: random.bytes(SALT_BYTES), balance: b.available + b.held })),
        random.below,
      );
      const root = rootOf(buildTree(leaves));
      const snapshot: StoredSnapshot = {
        snapshotId: randomUUID(),
        asset,
        scheme: POL_SCHEME,
        rootHash: toHex(root.hash),
        total: root.sum,
        leafCount: leaves.length,
        asOfSequence: view.asOfSequence,
        asOf: this.deps.clock(),
        builtBy,
      };
      return { snapshot, leaves: leaves.map((l, i) => ({ leafIndex: i, account: l.account, salt: toHex(l.salt), balance: l.balance })) };
    });
  }

  async proof(snapshotId: string, clientId: string, customer: string): Promise<LiabilitiesProof> {
    if (!UUID.test(snapshotId)) throw new InvalidArgumentError('snapshot_id', 'SNAPSHOT_ID_INVALID', 'must be a snapshot id (uuid)');
    required('client_id', clientId);
    required('customer_account', customer);
    const snapshot = await this.deps.store.snapshot(snapshotId);
    if (!snapshot) throw new LiabilitiesError('SNAPSHOT_NOT_FOUND', 'no such liabilities snapshot');
    const stored = await this.deps.store.leaves(snapshotId);
    const leaves: LiabilityLeaf[] = stored.map((l) => ({ ...parseCustomerAccount(l.account), salt: Uint8Array.from(Buffer.from(l.salt, 'hex')), balance: l.balance }));
    const levels = buildTree(leaves);
    const root = rootOf(levels);
    if (stored.length !== snapshot.leafCount || toHex(root.hash) !== snapshot.rootHash || root.sum !== snapshot.total) {
      throw new LiabilitiesError('LIABILITIES_SNAPSHOT_CORRUPT', 'the stored leaves do not give the stored root');
    }
    const account = customerAccount(clientId, customer);
    const leafIndex = stored.findIndex((l) => l.account === account);
    const leaf = leaves[leafIndex];
    if (leafIndex < 0 || !leaf) throw new LiabilitiesError('LEAF_NOT_FOUND', 'the customer has no balance of this asset in the snapshot');
    const document = proofDocument({ snapshotId, asset: snapshot.asset, leaf, leafIndex, levels });
    return {
      snapshot,
      clientId,
      customerAccount: customer,
      salt: toHex(leaf.salt),
      balance: leaf.balance,
      leafIndex,
      leafHash: document.leaf_hash,
      path: proofPath(levels, leafIndex),
      document,
    };
  }
}

function required(field: string, value: string): void {
  if (value.length === 0) throw new InvalidArgumentError(field, 'FIELD_REQUIRED', 'is required');
  if (value.length > 200) throw new InvalidArgumentError(field, 'FIELD_TOO_LONG', 'must be at most 200 characters');
}
