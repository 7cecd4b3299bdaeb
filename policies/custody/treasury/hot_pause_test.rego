package custody.treasury.hot_pause_test

import data.custody.decision
import data.custody.testing.fixtures_test as fx
import data.custody.treasury.hot_pause

paused := {"paused": true, "since": "2025-06-02T09:00:00Z"}

test_c_9_3_7_1_a_hot_withdrawal_denied_while_paused if {
	reasons := hot_pause.deny with input as object.union(fx.retail_btc, {"hot_wallet_pause": paused})
	fx.codes(reasons) == {"hot_wallet_paused"}
	d := decision.decision with input as object.union(fx.retail_btc, {"hot_wallet_pause": paused})
	d.outcome == "deny"
	"hot_wallet_paused" in fx.codes(d.reasons)
}

test_c_9_3_7_1_a_not_paused_runs if {
	hot_pause.deny == set() with input as fx.retail_btc
	hot_pause.deny == set() with input as object.union(fx.retail_btc, {"hot_wallet_pause": {"paused": false}})
	d := decision.decision with input as fx.retail_btc
	d.outcome == "allow"
}

test_pause_applies_to_hot_only if {
	hot_pause.deny == set() with input as object.union(fx.institutional_btc("1000000", "warm"), {"hot_wallet_pause": paused})
}

test_malformed_pause_flag_pauses if {
	fx.codes(hot_pause.deny) == {"hot_wallet_paused"} with input as object.union(fx.retail_btc, {"hot_wallet_pause": {"paused": "yes"}})
}
