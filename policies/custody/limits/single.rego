# METADATA
# title: Single-withdrawal limit
# description: |
#   Per asset and customer tier, one withdrawal may move at most single_max base units
#   (limits.json). Compared exactly as decimal strings (lib/amounts.rego).
package custody.limits.single

import data.custody.lib.amounts

# METADATA
# title: Single-withdrawal limit exceeded
# description: The amount is above single_max for the asset and the customer's tier.
# custom:
#   code: limit_single_exceeded
#   controls: [C-8.2.2.5-c]
deny contains reason if {
	amounts.is_amount(limit)
	not _within_limit
	reason := {
		"code": rego.metadata.rule().custom.code,
		"detail": concat("", [
			"amount ", input.amount, " is above the single-withdrawal limit ", limit,
			" (", input.asset, " base units, tier ", input.account.tier, ")",
		]),
	}
}

limit := data.limits.assets[input.asset].tiers[input.account.tier].single_max

_within_limit if amounts.at_least(limit, input.amount)
