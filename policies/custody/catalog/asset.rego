# METADATA
# title: Known assets only
# description: |
#   Default deny for assets the policy data does not describe completely: an asset needs
#   per-tier limits and a hot-wallet cap (limits.json) and approval thresholds
#   (approvals.json) before anything of it may leave custody.
package custody.catalog.asset

import data.custody.lib.amounts

# METADATA
# title: Unknown asset
# description: The asset is missing from (or malformed in) one of the policy data tables.
# custom:
#   code: asset_unknown
#   controls: [C-9.3.2-b]
deny contains reason if {
	count(missing) > 0
	reason := {
		"code": rego.metadata.rule().custom.code,
		"detail": concat("", [
			"asset ", input.asset, " is not configured in policy data (missing ",
			concat(", ", sort(missing)), ")",
		]),
	}
}

missing contains "limits.assets" if not _has_limits

missing contains "limits.assets.hot_wallet_cap" if not _has_hot_wallet_cap

missing contains "approvals.amount_thresholds" if not _has_thresholds

_has_limits if is_object(data.limits.assets[input.asset].tiers)

_has_hot_wallet_cap if amounts.is_amount(data.limits.assets[input.asset].hot_wallet_cap)

_has_thresholds if {
	thresholds := data.approvals.amount_thresholds[input.asset]
	is_array(thresholds)
	count(thresholds) > 0
	every threshold in thresholds {
		amounts.is_amount(threshold.min_amount)
		is_string(threshold.tier)
	}
}
