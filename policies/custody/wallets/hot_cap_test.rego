package custody.wallets.hot_cap_test

import data.custody.testing.fixtures_test as fx
import data.custody.wallets.hot_cap

# The BTC hot-wallet cap is 2 BTC = 200000000 satoshi.
test_c_9_3_7_1_a_amount_within_hot_cap_needs_no_routing if {
	hot_cap.require == set() with input as fx.institutional_btc("200000000", "hot")
}

test_c_9_3_7_1_a_amount_above_hot_cap_routed_with_approvals if {
	reqs := hot_cap.require with input as fx.institutional_btc("200000001", "hot")
	reqs == {{
		"code": "hot_wallet_cap_exceeded",
		"detail": "amount 200000001 is above the BTC hot-wallet cap 200000000: route it through a warm or cold wallet with approvals",
		"tier": "dual",
	}}
}

test_c_9_3_7_1_a_hot_cap_in_wei if {
	hot_cap.require == set() with input as fx.institutional_eth("50000000000000000000")
	fx.codes(hot_cap.require) == {"hot_wallet_cap_exceeded"} with input as fx.institutional_eth("50000000000000000001")
}

test_hot_cap_applies_to_hot_wallets_only if {
	hot_cap.require == set() with input as fx.institutional_btc("900000000", "warm")
	hot_cap.require == set() with input as fx.institutional_btc("900000000", "cold")
}

test_missing_settings_fail_closed if {
	reqs := hot_cap.require with input as fx.institutional_btc("1", "hot")
		with data.limits.assets.BTC.hot_wallet_cap as null
		with data.tiers.wallet.hot as {"approval_tier": "none"}
	reqs == {{
		"code": "hot_wallet_cap_exceeded",
		"detail": "amount 1 is above the BTC hot-wallet cap (not configured): route it through a warm or cold wallet with approvals",
		"tier": "(tiers.wallet.hot.over_cap_tier not configured)",
	}}
}
