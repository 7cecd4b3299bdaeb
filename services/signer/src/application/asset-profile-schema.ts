// The ONE parser of asset profiles (public data), shared by the online signer's
// CUSTODY_SIGNER_ASSETS_FILE (config.ts) and the offline device's device.json
// (adapters/offline/device-store.ts). Amounts are decimal strings in base units → bigint;
// a float, sign, exponent, leading zero or JSON number is refused with the field's path.
import { z } from 'zod';
import type { BitcoinNetworkName } from '../domain/bitcoin-intent.js';
import type { AssetProfile } from './sign-transaction.js';

/** The networks `domain/bitcoin-intent.ts` can encode addresses for. */
export const BITCOIN_NETWORKS = ['mainnet', 'testnet', 'regtest'] as const satisfies readonly BitcoinNetworkName[];
// Compile-time check that the list covers every BitcoinNetworkName.
const _allNetworks: readonly (typeof BITCOIN_NETWORKS)[number][] = [] as BitcoinNetworkName[];
void _allNetworks;

const UNSIGNED = /^(0|[1-9]\d{0,77})$/;
const POSITIVE = /^[1-9]\d{0,77}$/;
const AMOUNT_HINT = 'integer decimal string in base units (no float, sign, exponent or leading zero)';

const decimal = (pattern: RegExp, what: string) => z.string({ error: `must be ${what}` }).regex(pattern, `must be ${what}`).transform((v) => BigInt(v));

const common = {
  asset: z.string({ error: 'must be a string' }).regex(/^[A-Za-z0-9._-]{1,32}$/, 'must be 1-32 characters of [A-Za-z0-9._-]'),
  chain: z.string({ error: 'must be a string' }).min(1, 'must be non-empty').max(256, 'must be at most 256 characters'),
  maxFee: decimal(POSITIVE, `a positive ${AMOUNT_HINT}`),
  tierCaps: z.strictObject({ hot: decimal(UNSIGNED, `an ${AMOUNT_HINT}`), warm: decimal(UNSIGNED, `an ${AMOUNT_HINT}`), cold: decimal(UNSIGNED, `an ${AMOUNT_HINT}`) }, { error: 'must be {hot, warm, cold}' }),
};

const evmProfile = z.strictObject({
  ...common,
  kind: z.literal('evm'),
  chainId: decimal(/^[1-9]\d{0,18}$/, 'a positive EIP-155 chain id as a decimal string'),
});

const bitcoinProfile = z.strictObject({
  ...common,
  kind: z.literal('bitcoin'),
  network: z.enum(BITCOIN_NETWORKS, { error: `must be one of ${BITCOIN_NETWORKS.join(', ')}` }),
  changeXpub: z
    .string({ error: 'must be a string' })
    .regex(/^[xt]pub[1-9A-HJ-NP-Za-km-z]{100,112}$/, 'must be an extended PUBLIC key (xpub…/tpub…); private keys are refused')
    .optional(),
});

/** One asset profile: `kind` "evm" or "bitcoin"; unknown fields are refused (a typo is not silently dropped). */
export const assetProfileSchema = z.discriminatedUnion('kind', [evmProfile, bitcoinProfile], { error: 'kind must be "evm" or "bitcoin"' });

export const assetProfilesSchema = z.array(assetProfileSchema).superRefine((list, ctx) => {
  const seen = new Set<string>();
  list.forEach((p, i) => {
    if (seen.has(p.asset)) ctx.addIssue({ code: 'custom', path: [i, 'asset'], message: `duplicate asset ${p.asset}` });
    seen.add(p.asset);
  });
});

function toProfile(p: z.output<typeof assetProfileSchema>): AssetProfile {
  if (p.kind === 'evm') return { asset: p.asset, chain: p.chain, kind: 'evm', chainId: p.chainId, maxFee: p.maxFee, tierCaps: p.tierCaps };
  return { asset: p.asset, chain: p.chain, kind: 'bitcoin', network: p.network, maxFee: p.maxFee, tierCaps: p.tierCaps, ...(p.changeXpub !== undefined ? { changeXpub: p.changeXpub } : {}) };
}

/** First problem as "<path>: <message>", e.g. "1.tierCaps.hot: must be an integer decimal string…". */
export function describeAssetIssue(error: z.ZodError): string {
  const issue = error.issues[0];
  return issue ? `${issue.path.join('.')}: ${issue.message}` : 'invalid asset profiles';
}

/** Parses a JSON array of asset profiles; throws the ZodError (callers name their source). */
export function parseAssetProfiles(json: unknown): Map<string, AssetProfile> {
  return new Map(assetProfilesSchema.parse(json).map((p) => [p.asset, toProfile(p)]));
}
