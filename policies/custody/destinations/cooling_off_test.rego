package custody.destinations.cooling_off_test

import data.custody.destinations.cooling_off
import data.custody.testing.fixtures_test as fx

# Added to acct-retail-1's BTC whitelist at 2025-06-01T20:00:00Z; cooling-off is 24 h.
new_address := {"address": "bc1qretail1newaddressxxxxxxxxxxxxxxxxxxx"}

at(now) := object.union(fx.replace(fx.retail_btc, {"destination": new_address}), {"now": now})

test_c_8_2_2_5_c_new_destination_denied_during_cooling_off if {
	reasons := cooling_off.deny with input as at("2025-06-02T10:00:00Z")
	reasons == {{
		"code": "destination_cooling_off",
		"detail": "destination bc1qretail1newaddressxxxxxxxxxxxxxxxxxxx was added to the whitelist less than 86400 seconds ago; usable from 2025-06-02T20:00:00Z",
	}}
	fx.codes(cooling_off.deny) == {"destination_cooling_off"} with input as at("2025-06-02T19:59:59Z")
}

test_c_8_2_2_5_c_destination_usable_after_cooling_off if {
	cooling_off.deny == set() with input as at("2025-06-02T20:00:00Z")
	cooling_off.deny == set() with input as fx.retail_btc
}

test_unlisted_destination_left_to_the_whitelist_rule if {
	cooling_off.deny == set() with input as fx.replace(fx.retail_btc, {"destination": {"address": "bc1qunknown"}})
}

test_malformed_entry_never_cools_off if {
	reasons := cooling_off.deny with input as fx.retail_btc
		with data.whitelists.accounts["acct-retail-1"].BTC as [{"address": "bc1qretail1paymentsxxxxxxxxxxxxxxxxxxxxx", "added_at": "2025-01-10"}]
	reasons == {{
		"code": "destination_cooling_off",
		"detail": "destination bc1qretail1paymentsxxxxxxxxxxxxxxxxxxxxx was added to the whitelist less than 86400 seconds ago; usable from (unknown: malformed whitelist entry or cooling-off setting)",
	}}
}

test_missing_cooling_off_setting_denies if {
	reasons := cooling_off.deny with input as fx.retail_btc with data.whitelists.cooling_off_seconds as "1d"
	reasons == {{
		"code": "destination_cooling_off",
		"detail": "destination bc1qretail1paymentsxxxxxxxxxxxxxxxxxxxxx was added to the whitelist less than (not configured) seconds ago; usable from (unknown: malformed whitelist entry or cooling-off setting)",
	}}
}
