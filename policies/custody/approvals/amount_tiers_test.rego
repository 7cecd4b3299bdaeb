package custody.approvals.amount_tiers_test

import data.custody.approvals.amount_tiers
import data.custody.testing.fixtures_test as fx

tier_for(amount) := tiers if {
	reqs := amount_tiers.require with input as fx.institutional_btc(amount, "hot")
	tiers := {r.tier | some r in reqs}
}

# BTC thresholds: single from 0.1 BTC, dual from 1 BTC, triple from 10 BTC.
test_c_9_3_6_2_c_small_amount_needs_no_approval if {
	tier_for("9999999") == set()
}

test_c_9_3_6_2_c_amount_tiers_0_1_2_3 if {
	tier_for("10000000") == {"single"}
	tier_for("99999999") == {"single"}
	tier_for("100000000") == {"dual"}
	tier_for("999999999") == {"dual"}
	tier_for("1000000000") == {"triple"}
	tier_for("10000000000") == {"triple"}
}

test_only_the_highest_threshold_applies if {
	reqs := amount_tiers.require with input as fx.institutional_btc("1000000000", "hot")
	reqs == {{
		"code": "amount_requires_approval",
		"detail": "amount 1000000000 reaches the BTC threshold 1000000000 of the triple approval tier",
		"tier": "triple",
	}}
}

test_thresholds_in_wei if {
	tiers := {r.tier | some r in amount_tiers.require} with input as fx.institutional_eth("20000000000000000000")
	tiers == {"dual"}
	below := {r.tier | some r in amount_tiers.require} with input as fx.institutional_eth("19999999999999999999")
	below == {"single"}
}
