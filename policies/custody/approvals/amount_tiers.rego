# METADATA
# title: Approval tiers by amount
# description: |
#   Per asset, amount_thresholds (approvals.json) map an amount to an approval tier:
#   below the first threshold no approval (0), then single (1-of-N treasury), dual
#   (2-of-N compliance + treasury), triple (3-of-N including a cold-storage officer).
#   The highest threshold the amount reaches applies.
package custody.approvals.amount_tiers

import data.custody.lib.amounts

# METADATA
# title: Amount requires approval
# description: The amount reaches an approval threshold of its asset.
# custom:
#   code: amount_requires_approval
#   controls: [C-9.3.6.2-c, C-8.2.2.5-c]
require contains requirement if {
	some threshold in top
	requirement := {
		"code": rego.metadata.rule().custom.code,
		"detail": concat("", [
			"amount ", input.amount, " reaches the ", input.asset, " threshold ", threshold.min_amount,
			" of the ", threshold.tier, " approval tier",
		]),
		"tier": threshold.tier,
	}
}

# reached is the set of thresholds at or below the amount.
reached contains threshold if {
	some threshold in data.approvals.amount_thresholds[input.asset]
	amounts.at_least(input.amount, threshold.min_amount)
}

# top is the highest reached threshold.
top contains threshold if {
	some threshold in reached
	not _exceeded(threshold)
}

_exceeded(threshold) if {
	some other in reached
	amounts.greater_than(other.min_amount, threshold.min_amount)
}
