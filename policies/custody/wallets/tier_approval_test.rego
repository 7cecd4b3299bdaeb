package custody.wallets.tier_approval_test

import data.custody.testing.fixtures_test as fx
import data.custody.wallets.tier_approval

test_hot_wallet_needs_no_tier_approval if {
	tier_approval.require == set() with input as fx.institutional_btc("1", "hot")
}

test_c_9_3_7_1_b_warm_wallet_requires_dual_approval if {
	reqs := tier_approval.require with input as fx.institutional_btc("1", "warm")
	reqs == {{
		"code": "wallet_tier_requires_approval",
		"detail": "spending from a warm wallet requires the dual approval tier",
		"tier": "dual",
	}}
}

test_c_9_3_7_4_b_cold_wallet_requires_triple_approval if {
	reqs := tier_approval.require with input as fx.institutional_btc("1", "cold")
	reqs == {{
		"code": "wallet_tier_requires_approval",
		"detail": "spending from a cold wallet requires the triple approval tier",
		"tier": "triple",
	}}
}

test_missing_setting_names_a_tier_that_fails_closed if {
	reqs := tier_approval.require with input as fx.institutional_btc("1", "cold") with data.tiers.wallet.cold as {}
	[r | some r in reqs][0].tier == "(tiers.wallet.cold.approval_tier not configured)"
}
