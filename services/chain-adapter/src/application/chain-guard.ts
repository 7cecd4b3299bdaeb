// Fail closed on the wrong chain or an unhealthy node (C-5.5.4.3-b, C-5.5.5.3-c, issue 7
// "node health"): chain id and genesis hash must match the asset profile, the node must not
// be syncing, and (when configured) its head must be recent.
import { ChainAdapterError } from '../domain/errors.js';
import type { Clock, EvmChain } from './ports.js';

export interface ChainGuardOptions {
  readonly chain: EvmChain;
  readonly expectedChainId: bigint;
  readonly expectedGenesisHash: string;
  readonly clock: Clock;
  /** Head older than this = node behind (0: not checked; dev chains mine on demand). */
  readonly maxHeadAgeMs: number;
  /**
   * A passed check is reused for this long by `assertHealthy({ cached: true })` (the hot
   * prepare path); broadcast and every follower pass check afresh. Default 1,000 ms.
   */
  readonly cacheMs?: number;
}

export class ChainGuard {
  private genesisChecked = false;
  private passedAt = Number.NEGATIVE_INFINITY;
  constructor(private readonly o: ChainGuardOptions) {}

  /** Throws CHAIN_ID_MISMATCH / GENESIS_MISMATCH / NODE_UNSYNCED / NODE_BEHIND. */
  async assertHealthy(options: { cached?: boolean } = {}): Promise<void> {
    const now = this.o.clock.now().getTime();
    if (options.cached && now - this.passedAt < (this.o.cacheMs ?? 1_000)) return;
    this.passedAt = Number.NEGATIVE_INFINITY;
    await this.check();
    this.passedAt = now;
  }

  private async check(): Promise<void> {
    const id = await this.o.chain.chainId();
    if (id !== this.o.expectedChainId) {
      this.genesisChecked = false;
      throw new ChainAdapterError('CHAIN_ID_MISMATCH', `the node serves chain id ${id}, the asset profile requires ${this.o.expectedChainId}: refusing to act`);
    }
    if (!this.genesisChecked) {
      const genesis = await this.o.chain.genesisHash();
      if (genesis !== this.o.expectedGenesisHash.toLowerCase()) {
        throw new ChainAdapterError('GENESIS_MISMATCH', `the node's genesis block ${genesis} is not the asset's ${this.o.expectedGenesisHash}: a different network or a fork; refusing to act`);
      }
      this.genesisChecked = true;
    }
    if (await this.o.chain.syncing()) throw new ChainAdapterError('NODE_UNSYNCED', 'the node is still syncing: refusing to act');
    // The head block is read on every check: with several endpoints (adapters/chain/quorum-evm-chain.ts)
    // its hash is compared across them, so a divergence at the tip fails the check (CHAIN_VIEW_DIVERGENCE).
    const head = await this.o.chain.block(await this.o.chain.headNumber());
    if (this.o.maxHeadAgeMs > 0) {
      const ageMs = this.o.clock.now().getTime() - Number(head?.timestamp ?? 0n) * 1000;
      if (ageMs > this.o.maxHeadAgeMs) throw new ChainAdapterError('NODE_BEHIND', `the node's head is ${Math.round(ageMs / 1000)} s old (limit ${Math.round(this.o.maxHeadAgeMs / 1000)} s): refusing to act`);
    }
  }
}
