# METADATA
# title: New-account hold
# description: |
#   Withdrawals of an account younger than its tier's new_account_hold_seconds
#   (tiers.json) are held until the hold ends; hold_until is the account's opening time
#   plus the hold.
package custody.holds.new_account

import data.custody.lib.timestamps

# METADATA
# title: New-account hold
# description: The account is still inside its new-account hold.
# custom:
#   code: new_account_hold
#   controls: [C-8.2.2.5-c]
hold contains entry if {
	timestamps.epoch_seconds(input.now) < until
	entry := {
		"code": rego.metadata.rule().custom.code,
		"detail": concat("", [
			"account ", input.account.id, " opened at ", input.account.opened_at,
			" is in its new-account hold until ", timestamps.format(until),
		]),
		"until": timestamps.format(until),
	}
}

until := timestamps.epoch_seconds(input.account.opened_at) + data.tiers.customer[input.account.tier].new_account_hold_seconds
