package custody.catalog.tier_test

import data.custody.catalog.tier
import data.custody.testing.fixtures_test as fx

test_configured_tiers_pass if {
	tier.deny == set() with input as fx.retail_btc
	tier.deny == set() with input as fx.institutional_btc("1", "cold")
}

test_c_9_3_2_b_unknown_customer_tier_denied if {
	reasons := tier.deny with input as object.union(fx.retail_btc, {"account": {"tier": "vip"}})
	reasons == {{
		"code": "tier_unknown",
		"detail": "tier not configured in policy data (missing limits.assets.BTC.tiers.vip, tiers.customer.vip)",
	}}
}

test_c_9_3_2_b_wallet_tier_without_approval_tier_denied if {
	reasons := tier.deny with input as fx.institutional_btc("1", "warm")
		with data.tiers.wallet as {"hot": {"approval_tier": "none"}}
	reasons == {{
		"code": "tier_unknown",
		"detail": "tier not configured in policy data (missing tiers.wallet.warm)",
	}}
}

test_tier_with_malformed_limit_denied if {
	reasons := tier.deny with input as fx.retail_btc
		with data.limits.assets.BTC.tiers.retail as {"single_max": 50000000, "rolling_24h_max": "100000000"}
	fx.codes(reasons) == {"tier_unknown"}
}

test_customer_tier_without_hold_setting_denied if {
	reasons := tier.deny with input as fx.retail_btc with data.tiers.customer.retail as {}
	fx.codes(reasons) == {"tier_unknown"}
}

test_unknown_asset_left_to_the_asset_rule if {
	reasons := tier.deny with input as object.union(fx.retail_btc, {"asset": "DOGE"})
	reasons == set()
}
