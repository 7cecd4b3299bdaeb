# METADATA
# title: Rolling outflow confirmed by the ledger
# description: |
#   Every rolling limit (the global one and the jurisdiction packs') compares
#   velocity.rolling_24h_total. The policy service takes it as the larger of its own record
#   and the ledger's booked outflow (LedgerService.GetOutflow, velocity.ledger_24h_outflow).
#   When the service asked the ledger and got no answer within its bound it says so
#   (velocity.ledger_unavailable), and the total may be too low: deny, fail closed. A
#   request without the marker (no ledger source wired, e.g. replayed older inputs) is
#   judged on its total alone.
package custody.jurisdiction.ledger_velocity

# METADATA
# title: Ledger outflow unavailable
# description: The ledger could not confirm the 24-hour outflow, so no rolling limit can be checked.
# custom:
#   code: velocity_ledger_unavailable
#   controls: [C-8.2.2.5-c]
deny contains reason if {
	_marked
	not _confirmed
	reason := {
		"code": rego.metadata.rule().custom.code,
		"detail": "the ledger did not confirm the 24-hour outflow of this account and asset; rolling limits cannot be checked",
	}
}

_marked if {
	is_object(input.velocity)
	_ := input.velocity.ledger_unavailable
}

_confirmed if input.velocity.ledger_unavailable == false
