package custody.jurisdiction.ledger_velocity_test

import data.custody.jurisdiction.ledger_velocity
import data.custody.testing.fixtures_test as fx

with_velocity(velocity) := fx.replace(fx.retail_btc, {"velocity": velocity})

test_c_8_2_2_5_c_ledger_unavailable_denies if {
	reasons := ledger_velocity.deny with input as with_velocity({"rolling_24h_total": "3000000", "ledger_unavailable": true})
	reasons == {{
		"code": "velocity_ledger_unavailable",
		"detail": "the ledger did not confirm the 24-hour outflow of this account and asset; rolling limits cannot be checked",
	}}
}

test_c_8_2_2_5_c_malformed_marker_denies if {
	fx.codes(ledger_velocity.deny) == {"velocity_ledger_unavailable"} with input as with_velocity({"rolling_24h_total": "3000000", "ledger_unavailable": "no"})
	fx.codes(ledger_velocity.deny) == {"velocity_ledger_unavailable"} with input as with_velocity({"rolling_24h_total": "3000000", "ledger_unavailable": null})
}

test_c_8_2_2_5_c_ledger_figure_or_no_marker_passes if {
	ledger_velocity.deny == set() with input as with_velocity({"rolling_24h_total": "3000000", "ledger_24h_outflow": "2000000"})
	ledger_velocity.deny == set() with input as with_velocity({"rolling_24h_total": "3000000", "ledger_unavailable": false})
	ledger_velocity.deny == set() with input as fx.retail_btc
}
