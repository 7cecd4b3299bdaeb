package custody.jurisdiction.limits_test

import data.custody.jurisdiction.limits
import data.custody.testing.fixtures_test as fx

# A retail BTC withdrawal of an account in jurisdiction `code` (amount and 24 h total set).
btc(code, amount, total) := fx.replace(fx.retail_btc, {
	"account": object.union(fx.retail_btc.account, {"jurisdiction": code}),
	"amount": amount,
	"velocity": {"rolling_24h_total": total},
	"ledger_hold": {"id": "hold-0001", "amount": amount},
})

test_c_8_2_2_5_c_jp_single_limit_is_tighter_than_the_global_one if {
	# 40000000 sat is within the global retail single_max (50000000) but above JP's 30000000.
	limits.deny == set() with input as btc("JP", "30000000", "30000000")
	reasons := limits.deny with input as btc("JP", "40000000", "40000000")
	reasons == {{
		"code": "jurisdiction_limit_single_exceeded",
		"detail": "amount 40000000 is above the JP limit 30000000 for one withdrawal (BTC base units)",
	}}
	limits.deny == set() with input as btc("default", "40000000", "40000000")
}

test_c_8_2_2_5_c_jp_rolling_limit_is_tighter_than_the_global_one if {
	limits.deny == set() with input as btc("JP", "1000000", "50000000")
	reasons := limits.deny with input as btc("JP", "1000000", "50000001")
	reasons == {{
		"code": "jurisdiction_limit_rolling_24h_exceeded",
		"detail": "24-hour outflow 50000001 including this request is above the JP limit 50000000 (BTC base units)",
	}}
	limits.deny == set() with input as btc("EU", "1000000", "90000000")
}

test_c_8_2_2_5_c_jp_limits_in_wei if {
	eth := object.union(fx.institutional_eth("5000000000000000000"), {"account": {"jurisdiction": "JP"}})
	limits.deny == set() with input as eth
	over := object.union(fx.institutional_eth("5000000000000000001"), {"account": {"jurisdiction": "JP"}})
	fx.codes(limits.deny) == {"jurisdiction_limit_single_exceeded"} with input as over
}

test_c_8_2_2_5_c_asset_not_permitted_in_jurisdiction if {
	sol := object.union(btc("JP", "1000", "1000"), {"asset": "SOL"})
	reasons := limits.deny with input as sol
	reasons == {{"code": "jurisdiction_asset_not_permitted", "detail": "asset SOL is not permitted for accounts of jurisdiction JP"}}
	limits.deny == set() with input as object.union(btc("EU", "1000", "1000"), {"asset": "SOL"})
}
