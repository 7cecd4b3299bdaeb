# METADATA
# title: Hot-wallet cap
# description: |
#   The hot (online, automatically signing) wallet moves at most hot_wallet_cap base
#   units per withdrawal (limits.json). A larger amount is routed through a warm or cold
#   wallet and needs the approval tier tiers.wallet.hot.over_cap_tier (tiers.json).
package custody.wallets.hot_cap

import data.custody.lib.amounts

# METADATA
# title: Above the hot-wallet cap
# description: The amount is above the asset's hot-wallet cap; route via warm/cold with approvals.
# custom:
#   code: hot_wallet_cap_exceeded
#   controls: [C-9.3.7.1-a]
require contains requirement if {
	input.source_wallet.tier == "hot"
	not _within_cap
	requirement := {
		"code": rego.metadata.rule().custom.code,
		"detail": concat("", [
			"amount ", input.amount, " is above the ", input.asset, " hot-wallet cap ", _cap_text,
			": route it through a warm or cold wallet with approvals",
		]),
		"tier": _over_cap_tier,
	}
}

_within_cap if amounts.at_least(data.limits.assets[input.asset].hot_wallet_cap, input.amount)

_cap_text := data.limits.assets[input.asset].hot_wallet_cap if {
	amounts.is_amount(data.limits.assets[input.asset].hot_wallet_cap)
} else := "(not configured)"

# A missing setting names a tier that does not exist, which quorum.rego denies as policy_data_invalid.
_over_cap_tier := data.tiers.wallet.hot.over_cap_tier if {
	is_string(data.tiers.wallet.hot.over_cap_tier)
} else := "(tiers.wallet.hot.over_cap_tier not configured)"
