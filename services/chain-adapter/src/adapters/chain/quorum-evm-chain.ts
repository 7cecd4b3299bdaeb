// The EVM Chain port over several RPC endpoints (C-5.5.4-b independent chain view; issue 7
// "several RPC endpoints with quorum on chain head"). Every endpoint is asked; a read that
// decides safety must be agreed by at least `quorum` of them:
//
// - fixed facts (chain id, the block at a height, a receipt, a balance at a block hash, any
//   `call`): two endpoints answering differently → CHAIN_VIEW_DIVERGENCE (fail closed; the
//   follower records and publishes an incident). "Not found" (a lagging endpoint) is an
//   abstention, not a contradiction; a fact found by fewer than `quorum` is reported as not
//   found yet.
// - moving values (transaction counts): the value at least `quorum` endpoints agree on, else
//   CHAIN_QUORUM_UNAVAILABLE (retried; lag, not proof of a fork).
// - head: the highest height at least `quorum` endpoints have reached.
// - fewer than `quorum` endpoints answering → CHAIN_QUORUM_UNAVAILABLE.
// - broadcast: the same bytes to every endpoint; success if any accepts (idempotent by hash).
// - fee history: the first endpoint that answers (fees are capped by the asset profile).
//
// Endpoints are named `rpc#1..n` in errors and evidence: URLs may carry API keys.
import type { BlockRef, BlockWithTransactions, EvmChain, Receipt, SendOutcome } from '../../application/ports.js';
import { ChainAdapterError } from '../../domain/errors.js';

/** A Chain port; `call` (raw JSON-RPC, e.g. eth_getBalance at a block hash) when it has one. */
export type QuorumEndpoint = EvmChain & { call?<T = unknown>(method: string, params?: unknown[]): Promise<T> };

export interface QuorumEvmChainOptions {
  readonly endpoints: readonly QuorumEndpoint[];
  /** k of n: 1 ≤ k ≤ n, and a majority (k > n/2) when n > 1 so two disjoint quorums cannot exist. */
  readonly quorum: number;
}

interface Answer<T> {
  readonly endpoint: number;
  readonly value: T;
}

const label = (i: number): string => `rpc#${i + 1}`;

export function validateQuorum(endpoints: number, quorum: number): string | undefined {
  if (endpoints < 1) return 'at least one RPC endpoint is required';
  if (!Number.isInteger(quorum) || quorum < 1 || quorum > endpoints) return `quorum must be an integer between 1 and ${endpoints} (the number of endpoints)`;
  if (endpoints > 1 && quorum * 2 <= endpoints) return `quorum ${quorum} of ${endpoints} is not a majority: two disjoint sets of endpoints could each be "agreed"`;
  return undefined;
}

export class QuorumEvmChain implements EvmChain {
  private readonly endpoints: readonly QuorumEndpoint[];
  readonly quorum: number;

  constructor(options: QuorumEvmChainOptions) {
    const problem = validateQuorum(options.endpoints.length, options.quorum);
    if (problem) throw new Error(`QuorumEvmChain: ${problem}`);
    this.endpoints = [...options.endpoints];
    this.quorum = options.quorum;
  }

  get size(): number {
    return this.endpoints.length;
  }

  /** Every endpoint at once; at least `quorum` must answer. */
  private async ask<T>(what: string, fn: (endpoint: QuorumEndpoint) => Promise<T>): Promise<Answer<T>[]> {
    const settled = await Promise.allSettled(this.endpoints.map((e) => fn(e)));
    const answers: Answer<T>[] = [];
    const failed: string[] = [];
    settled.forEach((s, i) => (s.status === 'fulfilled' ? answers.push({ endpoint: i, value: s.value }) : failed.push(label(i))));
    if (answers.length < this.quorum) {
      const cause = settled.find((s): s is PromiseRejectedResult => s.status === 'rejected')?.reason as unknown;
      throw new ChainAdapterError('CHAIN_QUORUM_UNAVAILABLE', `${what}: ${answers.length} of ${this.endpoints.length} RPC endpoints answered (${failed.join(', ')} did not), ${this.quorum} required: refusing to act`, {
        cause,
        evidence: { read: what, answered: String(answers.length), required: String(this.quorum), unanswered: failed.join(',') },
      });
    }
    return answers;
  }

  /**
   * A fixed fact: every defined answer must be the same (`key`), else CHAIN_VIEW_DIVERGENCE.
   * Defined by fewer than `quorum` endpoints → undefined (not known yet).
   */
  private async fact<T>(what: string, fn: (endpoint: QuorumEndpoint) => Promise<T | undefined>, key: (value: T) => string): Promise<T | undefined> {
    const answers = await this.ask(what, fn);
    const defined = answers.filter((a): a is Answer<T> => a.value !== undefined && a.value !== null);
    const keys = new Map<string, number[]>();
    for (const a of defined) keys.set(key(a.value), [...(keys.get(key(a.value)) ?? []), a.endpoint]);
    if (keys.size > 1) {
      const views = [...keys].map(([k, eps]) => `${eps.map(label).join('+')}: ${k}`);
      const evidence: Record<string, string> = { read: what, quorum: String(this.quorum), endpoints: String(this.endpoints.length) };
      for (const a of defined) evidence[label(a.endpoint)] = key(a.value);
      throw new ChainAdapterError('CHAIN_VIEW_DIVERGENCE', `RPC endpoints disagree on ${what} (${views.join(' / ')}): refusing to act on either view`, { evidence });
    }
    return defined.length >= this.quorum ? defined[0]?.value : undefined;
  }

  /** A moving value: the one at least `quorum` endpoints agree on, else CHAIN_QUORUM_UNAVAILABLE. */
  private async agreed<T>(what: string, fn: (endpoint: QuorumEndpoint) => Promise<T>, key: (value: T) => string): Promise<T> {
    const answers = await this.ask(what, fn);
    const votes = new Map<string, Answer<T>[]>();
    for (const a of answers) votes.set(key(a.value), [...(votes.get(key(a.value)) ?? []), a]);
    for (const group of votes.values()) if (group.length >= this.quorum && group[0]) return group[0].value;
    const evidence: Record<string, string> = { read: what, quorum: String(this.quorum) };
    for (const a of answers) evidence[label(a.endpoint)] = key(a.value);
    throw new ChainAdapterError('CHAIN_QUORUM_UNAVAILABLE', `${what}: no value is agreed by ${this.quorum} RPC endpoints (${answers.map((a) => `${label(a.endpoint)}: ${key(a.value)}`).join(', ')}): refusing to act`, { evidence });
  }

  async chainId(): Promise<bigint> {
    const id = await this.fact('chain id', (e) => e.chainId(), (v) => v.toString());
    if (id === undefined) throw new ChainAdapterError('CHAIN_QUORUM_UNAVAILABLE', 'chain id: not agreed by a quorum of RPC endpoints');
    return id;
  }

  async genesisHash(): Promise<string> {
    const genesis = await this.block(0n);
    if (!genesis) throw new ChainAdapterError('CHAIN_QUORUM_UNAVAILABLE', 'genesis block: not served by a quorum of RPC endpoints');
    return genesis.hash;
  }

  /** Synced only when at least `quorum` endpoints say so. */
  async syncing(): Promise<boolean> {
    const answers = await this.ask('syncing', (e) => e.syncing());
    return answers.filter((a) => !a.value).length < this.quorum;
  }

  /** The highest height at least `quorum` endpoints have reached (the k-th highest head). */
  async headNumber(): Promise<bigint> {
    const heads = (await this.ask('head', (e) => e.headNumber())).map((a) => a.value).sort((a, b) => (a > b ? -1 : a < b ? 1 : 0));
    const head = heads[this.quorum - 1];
    if (head === undefined) throw new ChainAdapterError('CHAIN_QUORUM_UNAVAILABLE', 'head: not reached by a quorum of RPC endpoints');
    return head;
  }

  block(number: bigint): Promise<BlockRef | undefined> {
    return this.fact(`block ${number}`, (e) => e.block(number), (b) => `${b.hash} (parent ${b.parentHash})`);
  }

  blockWithTransactions(number: bigint): Promise<BlockWithTransactions | undefined> {
    // The block hash commits to its transactions; the list is compared too (a lying endpoint).
    return this.fact(`block ${number}`, (e) => e.blockWithTransactions(number), (b) => `${b.hash} (parent ${b.parentHash}, ${b.transactions.length} txs ${b.transactions.map((t) => t.hash).join(',')})`);
  }

  async feeHistory(blocks: number, percentile: number): Promise<{ baseFeePerGas: bigint[]; rewards: bigint[] }> {
    let last: unknown;
    for (const e of this.endpoints) {
      try {
        return await e.feeHistory(blocks, percentile);
      } catch (err) {
        last = err;
      }
    }
    throw new ChainAdapterError('CHAIN_QUORUM_UNAVAILABLE', 'fee history: no RPC endpoint answered', { cause: last });
  }

  pendingNonce(address: string): Promise<bigint> {
    return this.agreed(`pending transaction count of ${address}`, (e) => e.pendingNonce(address), (v) => v.toString());
  }

  latestNonce(address: string): Promise<bigint> {
    return this.agreed(`transaction count of ${address}`, (e) => e.latestNonce(address), (v) => v.toString());
  }

  /**
   * The same bytes to every endpoint. Accepted by any → accepted (then already-known); every
   * answering endpoint (at least `quorum`) past the nonce → nonce-too-low; otherwise the
   * refusal (the row stays, the next pass tries again); nobody answered → the outcome is
   * unknown (throws, resolved by hash later).
   */
  async sendRawTransaction(raw: Uint8Array): Promise<SendOutcome> {
    const settled = await Promise.allSettled(this.endpoints.map((e) => e.sendRawTransaction(raw)));
    const outcomes = settled.flatMap((s, i) => (s.status === 'fulfilled' ? [{ endpoint: i, outcome: s.value }] : []));
    if (outcomes.length === 0) throw (settled[0] as PromiseRejectedResult).reason;
    const kinds = outcomes.map((o) => o.outcome.kind);
    if (kinds.includes('accepted')) return { kind: 'accepted' };
    if (kinds.includes('already-known')) return { kind: 'already-known' };
    if (outcomes.length >= this.quorum && kinds.every((k) => k === 'nonce-too-low')) return { kind: 'nonce-too-low' };
    const message = outcomes.map((o) => `${label(o.endpoint)}: ${'message' in o.outcome ? o.outcome.message : o.outcome.kind}`).join('; ');
    return kinds.includes('underpriced') ? { kind: 'underpriced', message } : { kind: 'rejected', message };
  }

  /** Known to at least `quorum` endpoints; otherwise the caller sends it (to all) again. */
  async transactionKnown(hash: string): Promise<boolean> {
    const answers = await this.ask(`transaction ${hash}`, (e) => e.transactionKnown(hash));
    return answers.filter((a) => a.value).length >= this.quorum;
  }

  receipt(hash: string): Promise<Receipt | undefined> {
    return this.fact(`receipt of ${hash}`, (e) => e.receipt(hash), (r) => `${r.status} in block ${r.blockNumber} ${r.blockHash}, gas ${r.gasUsed} at ${r.effectiveGasPrice}`);
  }

  /** Raw JSON-RPC read as a fixed fact (e.g. eth_getBalance at a block hash): identical JSON from every answering endpoint. */
  async call<T = unknown>(method: string, params: unknown[] = []): Promise<T> {
    const value = await this.fact(
      method,
      (e) => {
        if (!e.call) throw new Error('endpoint has no raw JSON-RPC call');
        return e.call<T>(method, params);
      },
      (v) => JSON.stringify(v),
    );
    if (value === undefined) throw new ChainAdapterError('CHAIN_QUORUM_UNAVAILABLE', `${method}: no answer agreed by a quorum of RPC endpoints`);
    return value;
  }
}
