package custody.freezes.halt_test

import data.custody.freezes.halt
import data.custody.testing.fixtures_test as fx

test_running_when_no_halt if {
	halt.deny == set() with input as fx.retail_btc
}

test_c_9_4_c_asset_halt_stops_only_that_asset if {
	reasons := halt.deny with input as fx.retail_btc with data.freezes.halts as {"all": false, "assets": ["BTC"]}
	reasons == {{"code": "withdrawals_halted", "detail": "withdrawals of BTC are halted"}}
	halt.deny == set() with input as fx.institutional_eth("1") with data.freezes.halts as {"all": false, "assets": ["BTC"]}
}

test_global_halt_stops_every_asset if {
	fx.codes(halt.deny) == {"withdrawals_halted"} with input as fx.retail_btc with data.freezes.halts as {"all": true, "assets": []}
	fx.codes(halt.deny) == {"withdrawals_halted"} with input as fx.institutional_eth("1") with data.freezes.halts as {"all": true, "assets": []}
}

test_missing_halt_settings_fail_closed if {
	fx.codes(halt.deny) == {"withdrawals_halted"} with input as fx.retail_btc with data.freezes.halts as null
	fx.codes(halt.deny) == {"withdrawals_halted"} with input as fx.retail_btc with data.freezes.halts as {"all": false}
}
