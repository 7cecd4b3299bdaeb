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

# Announced windows (input.maintenance_windows, from custody.maintenance.scheduled.v1).
announced(id, assets, chains) := {
	"id": id, "start": "2025-08-01T00:00:00Z", "end": "2025-08-01T06:00:00Z",
	"assets": assets, "chains": chains, "withdrawals_suspended": true, "cancelled": false,
}

with_windows(base, now, windows) := object.union(base, {"now": now, "chain": "bitcoin-mainnet", "maintenance_windows": windows})

btc_in(windows) := with_windows(fx.retail_btc, "2025-08-01T03:00:00Z", windows)

eth_in(windows) := object.union(with_windows(fx.institutional_eth("1"), "2025-08-01T03:00:00Z", windows), {"chain": "ethereum-mainnet"})

test_c_9_4_c_announced_window_freezes_its_asset_only if {
	windows := [announced("mnt-btc", ["BTC"], [])]
	reasons := maintenance.deny with input as btc_in(windows)
	reasons == {{
		"code": "maintenance_freeze_announced",
		"detail": "withdrawals of BTC are frozen by announced maintenance window mnt-btc",
	}}
	maintenance.deny == set() with input as eth_in(windows)
}

test_announced_window_by_chain if {
	windows := [announced("mnt-eth-chain", [], ["ethereum-mainnet"])]
	fx.codes(maintenance.deny) == {"maintenance_freeze_announced"} with input as eth_in(windows)
	maintenance.deny == set() with input as btc_in(windows)
}

test_announced_window_without_scope_freezes_every_asset if {
	windows := [announced("mnt-all", [], [])]
	fx.codes(maintenance.deny) == {"maintenance_freeze_announced"} with input as eth_in(windows)
	fx.codes(maintenance.deny) == {"maintenance_freeze_announced"} with input as btc_in(windows)
}

test_announced_window_outside_its_times_runs if {
	windows := [announced("mnt-btc", ["BTC"], [])]
	maintenance.deny == set() with input as with_windows(fx.retail_btc, "2025-07-31T23:59:59Z", windows)
	maintenance.deny == set() with input as with_windows(fx.retail_btc, "2025-08-01T06:00:00Z", windows)
	fx.codes(maintenance.deny) == {"maintenance_freeze_announced"} with input as with_windows(fx.retail_btc, "2025-08-01T00:00:00Z", windows)
}

test_cancelled_announced_window_runs if {
	windows := [object.union(announced("mnt-btc", ["BTC"], []), {"cancelled": true})]
	maintenance.deny == set() with input as btc_in(windows)
}

test_deposits_only_window_does_not_freeze_withdrawals if {
	windows := [object.union(announced("mnt-btc", ["BTC"], []), {"withdrawals_suspended": false})]
	maintenance.deny == set() with input as btc_in(windows)
}

test_c_9_4_c_cancelled_announcement_never_removes_a_bundle_window if {
	# Same id as the bundle's window, cancelled: the bundle window still freezes.
	windows := [{
		"id": "mw-2025-07-btc-node-upgrade", "start": "2025-07-01T02:00:00Z", "end": "2025-07-01T04:00:00Z",
		"assets": ["BTC"], "chains": [], "withdrawals_suspended": true, "cancelled": true,
	}]
	reasons := maintenance.deny with input as with_windows(fx.retail_btc, "2025-07-01T03:00:00Z", windows)
	fx.codes(reasons) == {"maintenance_freeze"}
}

test_bundle_and_announced_windows_both_reported if {
	windows := [announced("mnt-btc", ["BTC"], [])]
	bundle := [{"id": "mw-b", "start": "2025-08-01T02:00:00Z", "end": "2025-08-01T04:00:00Z", "assets": ["*"]}]
	reasons := maintenance.deny with input as btc_in(windows) with data.freezes.maintenance as bundle
	fx.codes(reasons) == {"maintenance_freeze", "maintenance_freeze_announced"}
}

test_no_announced_windows_field_is_no_announced_freeze if {
	maintenance.deny == set() with input as object.union(fx.retail_btc, {"now": "2025-08-01T03:00:00Z"})
}

test_announced_window_naming_chains_covers_a_request_without_chain if {
	windows := [announced("mnt-eth-chain", [], ["ethereum-mainnet"])]
	fx.codes(maintenance.deny) == {"maintenance_freeze_announced"} with input as object.remove(btc_in(windows), ["chain"])
}

test_announced_window_with_malformed_scope_or_times_counts if {
	bad_scope := [object.union(announced("mnt-x", ["ETH"], []), {"chains": "all"})]
	fx.codes(maintenance.deny) == {"maintenance_freeze_announced"} with input as btc_in(bad_scope)
	bad_times := [object.union(announced("mnt-y", ["BTC"], []), {"start": "soon"})]
	fx.codes(maintenance.deny) == {"maintenance_freeze_announced"} with input as btc_in(bad_times)
}

test_overlapping_announced_windows_reported_once if {
	windows := [announced("b", ["BTC"], []), announced("a", [], ["bitcoin-mainnet"]), object.union(announced("c", ["BTC"], []), {"cancelled": true})]
	reasons := maintenance.deny with input as btc_in(windows)
	reasons == {{"code": "maintenance_freeze_announced", "detail": "withdrawals of BTC are frozen by announced maintenance window a, b"}}
}
