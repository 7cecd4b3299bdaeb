package custody.freezes.maintenance_test

import data.custody.freezes.maintenance
import data.custody.testing.fixtures_test as fx

# mw-2025-07-btc-node-upgrade: BTC only, 2025-07-01T02:00:00Z to 04:00:00Z.
btc_at(now) := object.union(fx.retail_btc, {"now": now})

eth_at(now) := object.union(fx.institutional_eth("1"), {"now": now})

test_c_9_4_c_maintenance_window_freezes_its_asset if {
	reasons := maintenance.deny with input as btc_at("2025-07-01T02:00:00Z")
	reasons == {{
		"code": "maintenance_freeze",
		"detail": "withdrawals of BTC are frozen by maintenance window mw-2025-07-btc-node-upgrade",
	}}
	fx.codes(maintenance.deny) == {"maintenance_freeze"} with input as btc_at("2025-07-01T03:59:59Z")
}

test_c_9_4_c_maintenance_window_leaves_other_assets_running if {
	maintenance.deny == set() with input as eth_at("2025-07-01T03:00:00Z")
}

test_outside_the_window_runs if {
	maintenance.deny == set() with input as btc_at("2025-07-01T01:59:59Z")
	maintenance.deny == set() with input as btc_at("2025-07-01T04:00:00Z")
}

test_wildcard_window_freezes_every_asset if {
	windows := [{"id": "mw-all", "start": "2025-07-02T00:00:00Z", "end": "2025-07-02T01:00:00Z", "assets": ["*"]}]
	fx.codes(maintenance.deny) == {"maintenance_freeze"} with input as eth_at("2025-07-02T00:30:00Z") with data.freezes.maintenance as windows
	fx.codes(maintenance.deny) == {"maintenance_freeze"} with input as btc_at("2025-07-02T00:30:00Z") with data.freezes.maintenance as windows
}

test_malformed_window_counts_as_active if {
	windows := [{"start": "soon", "end": "2025-07-02T01:00:00Z", "assets": ["BTC"]}]
	reasons := maintenance.deny with input as btc_at("2025-07-03T00:00:00Z") with data.freezes.maintenance as windows
	reasons == {{"code": "maintenance_freeze", "detail": "withdrawals of BTC are frozen by maintenance window (unnamed)"}}
}

test_overlapping_windows_reported_once if {
	windows := [
		{"id": "b", "start": "2025-07-02T00:00:00Z", "end": "2025-07-02T02:00:00Z", "assets": ["BTC"]},
		{"id": "a", "start": "2025-07-02T01:00:00Z", "end": "2025-07-02T03:00:00Z", "assets": ["*"]},
	]
	reasons := maintenance.deny with input as btc_at("2025-07-02T01:30:00Z") with data.freezes.maintenance as windows
	reasons == {{"code": "maintenance_freeze", "detail": "withdrawals of BTC are frozen by maintenance window a, b"}}
}
