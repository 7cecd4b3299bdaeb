# METADATA
# title: Rolling 24-hour limit
# description: |
#   Per asset and customer tier, the outflow over the last 24 hours may be at most
#   rolling_24h_max base units. The total comes from the input
#   (velocity.rolling_24h_total, computed by the risk/ledger side) and INCLUDES the
#   amount of this request, so the policy compares without adding amounts.
package custody.limits.rolling_24h

import data.custody.lib.amounts

# METADATA
# title: Rolling 24-hour limit exceeded
# description: This request would take the 24-hour outflow above rolling_24h_max.
# custom:
#   code: limit_rolling_24h_exceeded
#   controls: [C-8.2.2.5-c]
deny contains reason if {
	amounts.is_amount(limit)
	not _within_limit
	reason := {
		"code": rego.metadata.rule().custom.code,
		"detail": concat("", [
			"24-hour outflow ", input.velocity.rolling_24h_total, " including this request is above the limit ",
			limit, " (", input.asset, " base units, tier ", input.account.tier, ")",
		]),
	}
}

limit := data.limits.assets[input.asset].tiers[input.account.tier].rolling_24h_max

_within_limit if amounts.at_least(limit, input.velocity.rolling_24h_total)
