// What the embedded default seeds and the demo uses. The customer accounts, destinations
// and operators are the ones of the shipped policy data (policies/data/*.json), so the
// shipped policy decides on them as it would in production:
//   whitelists.json   acct-retail-1 → ETH 0x1111…; acct-inst-1 → ETH 0x2222… (long past cooling-off)
//   approvals.json    ETH: ≥ 2 ETH single (treasury), ≥ 20 ETH dual (compliance + treasury)
//   limits.json       ETH retail single_max 10 ETH; institutional 2,000 ETH; hot-wallet cap 50 ETH
//   roles.json        op-alice: compliance, op-bob: treasury
// The sanctioned destination is a real OFAC SDN entry (deploy/embedded/demo/sdn_advanced.xml).

export const ETH = 10n ** 18n;

export const DEMO_ASSET = 'ETH';
/** Intake's chain name for ETH (its default asset registry). */
export const DEMO_CHAIN = 'ethereum-mainnet';

export interface DemoAccount {
  readonly id: string;
  readonly tier: 'retail' | 'institutional';
  readonly openedAt: string;
  /** Opening balance credited to the ledger at start (base units). */
  readonly openingBalance: bigint;
  /** Whitelisted destination (policy data) — also put on risk's allow list. */
  readonly destination: string;
}

export const DEMO_ACCOUNTS: readonly DemoAccount[] = [
  { id: 'acct-retail-1', tier: 'retail', openedAt: '2024-03-15T09:30:00Z', openingBalance: 5n * ETH, destination: '0x1111111111111111111111111111111111111111' },
  { id: 'acct-inst-1', tier: 'institutional', openedAt: '2023-01-01T00:00:00Z', openingBalance: 100n * ETH, destination: '0x2222222222222222222222222222222222222222' },
];

/** The hot wallet the policy sees as the source of ETH withdrawals. */
export const ETH_HOT_WALLET = { id: 'eth-hot-01', tier: 'hot' as const };

/** OFAC SDN: LAZARUS GROUP, the Ronin bridge exploit address (designated April 2022). */
export const SANCTIONED_ADDRESS = '0x098B716B8Aaf21512996dC57EB0615e2383E2f96';

/**
 * The integrator that asks for deposit addresses: one client id per database, so its
 * customers keep their addresses across restarts (its key is new at each start).
 */
export const DEMO_DEPOSITOR = 'demo-depositor';

export const DEMO_OPERATORS = [
  { id: 'op-alice', role: 'compliance' },
  { id: 'op-bob', role: 'treasury' },
] as const;

export type DemoPath = 'normal' | 'sanctioned' | 'large' | 'tampered' | 'sweep';

export interface DemoWithdrawal {
  readonly path: DemoPath;
  readonly title: string;
  readonly account: string;
  readonly amount: bigint;
  readonly destination: string;
}

export const DEMO_WITHDRAWALS: readonly DemoWithdrawal[] = [
  { path: 'normal', title: '0.1 ETH from a retail account to its whitelisted address', account: 'acct-retail-1', amount: ETH / 10n, destination: '0x1111111111111111111111111111111111111111' },
  { path: 'sanctioned', title: '0.2 ETH to an OFAC-sanctioned address (Lazarus Group)', account: 'acct-inst-1', amount: ETH / 5n, destination: SANCTIONED_ADDRESS },
  { path: 'large', title: '25 ETH from an institutional account (≥ 20 ETH: dual approval)', account: 'acct-inst-1', amount: 25n * ETH, destination: '0x2222222222222222222222222222222222222222' },
];

/** The tampered path: the allowed withdrawal's tx.prepared re-injected on the bus with this multiple of its amount. */
export const TAMPER_FACTOR = 100n;
export const TAMPERED_TITLE = `the allowed withdrawal's tx.prepared injected again with the amount ×${TAMPER_FACTOR} (same decision token)`;
