# METADATA
# title: Known customer and wallet tiers only
# description: |
#   Default deny for a customer tier without limits for the asset or without a
#   new-account hold setting, and for a wallet tier without an approval tier.
package custody.catalog.tier

import data.custody.lib.amounts

# METADATA
# title: Unknown tier
# description: The customer tier or the source wallet tier is not configured in policy data.
# custom:
#   code: tier_unknown
#   controls: [C-9.3.2-b]
deny contains reason if {
	count(missing) > 0
	reason := {
		"code": rego.metadata.rule().custom.code,
		"detail": concat("", ["tier not configured in policy data (missing ", concat(", ", sort(missing)), ")"]),
	}
}

missing contains concat("", ["limits.assets.", input.asset, ".tiers.", input.account.tier]) if {
	_has_asset_limits
	not _has_tier_limits
}

missing contains concat("", ["tiers.customer.", input.account.tier]) if not _has_customer_tier

missing contains concat("", ["tiers.wallet.", input.source_wallet.tier]) if not _has_wallet_tier

_has_asset_limits if is_object(data.limits.assets[input.asset].tiers)

_has_tier_limits if {
	limits := data.limits.assets[input.asset].tiers[input.account.tier]
	amounts.is_amount(limits.single_max)
	amounts.is_amount(limits.rolling_24h_max)
}

_has_customer_tier if {
	seconds := data.tiers.customer[input.account.tier].new_account_hold_seconds
	is_number(seconds)
	seconds >= 0
}

_has_wallet_tier if is_string(data.tiers.wallet[input.source_wallet.tier].approval_tier)
