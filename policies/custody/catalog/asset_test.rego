package custody.catalog.asset_test

import data.custody.catalog.asset
import data.custody.testing.fixtures_test as fx

test_configured_asset_passes if {
	asset.deny == set() with input as fx.retail_btc
	asset.deny == set() with input as fx.institutional_eth("1")
}

test_c_9_3_2_b_unknown_asset_denied if {
	reasons := asset.deny with input as object.union(fx.retail_btc, {"asset": "DOGE"})
	reasons == {{
		"code": "asset_unknown",
		"detail": "asset DOGE is not configured in policy data (missing approvals.amount_thresholds, limits.assets, limits.assets.hot_wallet_cap)",
	}}
}

test_c_9_3_2_b_asset_without_approval_thresholds_denied if {
	reasons := asset.deny with input as fx.retail_btc with data.approvals.amount_thresholds as {"ETH": []}
	fx.codes(reasons) == {"asset_unknown"}
}

test_asset_with_malformed_threshold_denied if {
	reasons := asset.deny with input as fx.retail_btc
		with data.approvals.amount_thresholds.BTC as [{"min_amount": 1000, "tier": "single"}]
	fx.codes(reasons) == {"asset_unknown"}
}

test_asset_without_hot_wallet_cap_denied if {
	reasons := asset.deny with input as fx.retail_btc with data.limits.assets.BTC.hot_wallet_cap as 2.5
	reasons == {{
		"code": "asset_unknown",
		"detail": "asset BTC is not configured in policy data (missing limits.assets.hot_wallet_cap)",
	}}
}
