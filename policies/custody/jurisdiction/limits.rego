# METADATA
# title: Jurisdiction asset list and limits
# description: |
#   The account's jurisdiction pack may permit only some assets (assets_allowed) and set
#   tighter per-asset caps (limits.<SYM>.single_max, rolling_24h_max, base units). They
#   apply on top of the global per-tier limits (limits/single.rego, limits/rolling_24h.rego):
#   the stricter one decides. The rolling total is velocity.rolling_24h_total, which
#   includes this request.
package custody.jurisdiction.limits

import data.custody.jurisdiction.pack
import data.custody.lib.amounts

# METADATA
# title: Asset not permitted in the jurisdiction
# description: The pack lists the permitted assets and this asset is not one of them.
# custom:
#   code: jurisdiction_asset_not_permitted
#   controls: [C-8.2.2.5-c, C-9.3.2-b]
deny contains reason if {
	is_array(pack.pack.assets_allowed)
	not input.asset in pack.pack.assets_allowed
	reason := {
		"code": rego.metadata.rule().custom.code,
		"detail": concat("", ["asset ", input.asset, " is not permitted for accounts of jurisdiction ", pack.code]),
	}
}

# METADATA
# title: Jurisdiction single-withdrawal limit exceeded
# description: The amount is above the pack's single_max for the asset.
# custom:
#   code: jurisdiction_limit_single_exceeded
#   controls: [C-8.2.2.5-c]
deny contains reason if {
	amounts.is_amount(single_max)
	not _within_single
	reason := {
		"code": rego.metadata.rule().custom.code,
		"detail": concat("", [
			"amount ", input.amount, " is above the ", pack.code, " limit ", single_max,
			" for one withdrawal (", input.asset, " base units)",
		]),
	}
}

# METADATA
# title: Jurisdiction rolling 24-hour limit exceeded
# description: The 24-hour outflow including this request is above the pack's rolling_24h_max.
# custom:
#   code: jurisdiction_limit_rolling_24h_exceeded
#   controls: [C-8.2.2.5-c]
deny contains reason if {
	amounts.is_amount(rolling_24h_max)
	not _within_rolling
	reason := {
		"code": rego.metadata.rule().custom.code,
		"detail": concat("", [
			"24-hour outflow ", input.velocity.rolling_24h_total, " including this request is above the ",
			pack.code, " limit ", rolling_24h_max, " (", input.asset, " base units)",
		]),
	}
}

single_max := pack.pack.limits[input.asset].single_max

rolling_24h_max := pack.pack.limits[input.asset].rolling_24h_max

_within_single if amounts.at_least(single_max, input.amount)

_within_rolling if amounts.at_least(rolling_24h_max, input.velocity.rolling_24h_total)
