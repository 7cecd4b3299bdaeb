package custody.freezes.time_of_day_test

import data.custody.freezes.time_of_day
import data.custody.testing.fixtures_test as fx

# eth-daily-settlement: ETH only, 23:30 to 00:30 UTC (wraps midnight).
eth_at(now) := object.union(fx.institutional_eth("1"), {"now": now})

btc_at(now) := object.union(fx.retail_btc, {"now": now})

test_c_9_4_c_daily_freeze_before_midnight if {
	reasons := time_of_day.deny with input as eth_at("2025-06-02T23:45:00Z")
	reasons == {{
		"code": "time_of_day_freeze",
		"detail": "withdrawals of ETH are frozen at 23:45 UTC by daily window eth-daily-settlement",
	}}
	fx.codes(time_of_day.deny) == {"time_of_day_freeze"} with input as eth_at("2025-06-02T23:30:00Z")
}

test_c_9_4_c_daily_freeze_after_midnight if {
	fx.codes(time_of_day.deny) == {"time_of_day_freeze"} with input as eth_at("2025-06-03T00:29:59Z")
}

test_outside_the_daily_window_runs if {
	time_of_day.deny == set() with input as eth_at("2025-06-03T00:30:00Z")
	time_of_day.deny == set() with input as eth_at("2025-06-02T23:29:59Z")
	time_of_day.deny == set() with input as eth_at("2025-06-02T12:00:00Z")
}

test_c_9_4_c_daily_freeze_leaves_other_assets_running if {
	time_of_day.deny == set() with input as btc_at("2025-06-02T23:45:00Z")
}

test_window_within_one_day if {
	windows := [{"id": "lunch", "start": "12:00", "end": "13:00", "assets": ["*"]}]
	fx.codes(time_of_day.deny) == {"time_of_day_freeze"} with input as btc_at("2025-06-02T12:59:00Z") with data.freezes.daily as windows
	time_of_day.deny == set() with input as btc_at("2025-06-02T13:00:00Z") with data.freezes.daily as windows
	time_of_day.deny == set() with input as btc_at("2025-06-02T11:59:00Z") with data.freezes.daily as windows
}

test_malformed_daily_window_counts_as_active if {
	windows := [{"start": "25:00", "end": "01:00", "assets": ["BTC"]}]
	reasons := time_of_day.deny with input as btc_at("2025-06-02T12:00:00Z") with data.freezes.daily as windows
	reasons == {{"code": "time_of_day_freeze", "detail": "withdrawals of BTC are frozen at 12:00 UTC by daily window (unnamed)"}}
}
