# METADATA
# title: Ledger hold before decision
# description: |
#   Every withdrawal references the ledger hold created with the request, covering its
#   amount; a request without one did not come through the ledger and is refused.
package custody.ledger.hold

import data.custody.lib.amounts

# METADATA
# title: No ledger hold
# description: The request carries no ledger hold.
# custom:
#   code: ledger_hold_missing
#   controls: [C-8.2.2.5-b]
deny contains reason if {
	not _has_hold
	reason := {
		"code": rego.metadata.rule().custom.code,
		"detail": "no ledger hold reserves the funds of this withdrawal",
	}
}

# METADATA
# title: Ledger hold too small
# description: The ledger hold does not cover the amount.
# custom:
#   code: ledger_hold_insufficient
#   controls: [C-8.2.2.5-b]
deny contains reason if {
	_has_hold
	not _covers
	reason := {
		"code": rego.metadata.rule().custom.code,
		"detail": concat("", [
			"ledger hold ", input.ledger_hold.id, " of ", input.ledger_hold.amount,
			" does not cover the amount ", input.amount,
		]),
	}
}

_has_hold if is_object(input.ledger_hold)

_covers if amounts.at_least(input.ledger_hold.amount, input.amount)
