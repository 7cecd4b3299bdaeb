// The rule set a fresh deployment starts with (overridden by CUSTODY_RISK_RULES_FILE).
// Thresholds are placeholders to be set per custodian (CONTROLS.md §0).
export const DEFAULT_RULE_SET = {
  version: 'default-1',
  reviewAtScore: 50,
  blockAtScore: 101,
  rules: [
    { code: 'velocity_customer_eth_24h', kind: 'velocity_sum', scope: 'customer', asset: 'ETH', windowSeconds: 86_400, maxAmount: '10000000000000000000', action: 'REVIEW', score: 30 },
    { code: 'velocity_customer_btc_24h', kind: 'velocity_sum', scope: 'customer', asset: 'BTC', windowSeconds: 86_400, maxAmount: '100000000', action: 'REVIEW', score: 30 },
    { code: 'velocity_destination_eth_24h', kind: 'velocity_sum', scope: 'destination', asset: 'ETH', windowSeconds: 86_400, maxAmount: '50000000000000000000', action: 'REVIEW', score: 30 },
    { code: 'velocity_customer_count_1h', kind: 'velocity_count', scope: 'customer', windowSeconds: 3_600, maxCount: 10, action: 'REVIEW', score: 20 },
    { code: 'first_time_destination', kind: 'first_time_destination', action: 'REVIEW', score: 10, suppressedByAllowList: true },
    { code: 'rapid_succession', kind: 'rapid_succession', minIntervalSeconds: 30, action: 'REVIEW', score: 20 },
    { code: 'round_amount_structuring_eth', kind: 'round_amount', asset: 'ETH', roundUnit: '1000000000000000000', windowSeconds: 86_400, minCount: 3, action: 'REVIEW', score: 25 },
    { code: 'below_threshold_structuring_eth', kind: 'below_threshold', asset: 'ETH', threshold: '10000000000000000000', marginBps: 1000, windowSeconds: 86_400, minCount: 2, action: 'REVIEW', score: 40 },
    { code: 'new_account', kind: 'new_account', maxAgeSeconds: 7 * 86_400, action: 'REVIEW', score: 10 },
  ],
} as const;

export const DEFAULT_TRAVEL_RULE = {
  defaultJurisdiction: 'EU',
  thresholds: {
    // EU TFR 2023/1113: every crypto-asset transfer, no de minimis.
    EU: { '*': '0' },
    // FATF R.16 de minimis USD/EUR 1000 expressed per asset by the operator (placeholders).
    US: { ETH: '300000000000000000', BTC: '1000000', '*': '0' },
    JP: { '*': '0' },
  },
} as const;
