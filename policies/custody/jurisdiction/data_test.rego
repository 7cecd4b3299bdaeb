# Consistency of policies/data/jurisdictions.json.
package custody.jurisdiction.data_test

import data.custody.jurisdiction.pack
import data.custody.lib.amounts
import data.custody.testing.fixtures_test as fx

test_c_9_3_2_a_jurisdiction_packs_versioned_with_a_default if {
	is_string(data.jurisdictions.version)
	count(data.jurisdictions.version) > 0
	is_object(data.jurisdictions.packs[data.jurisdictions.default_jurisdiction])
	count(data.jurisdictions.packs) >= 3
}

test_c_9_3_2_a_every_shipped_pack_is_well_formed if {
	every code, _ in data.jurisdictions.packs {
		pack.problems == set() with input as object.union(fx.retail_btc, {"account": {"jurisdiction": code}})
	}
}

test_pack_limits_name_known_assets_and_are_tighter_than_the_retail_ones if {
	every _, p in data.jurisdictions.packs {
		every symbol, limits in p.limits {
			global := data.limits.assets[symbol].tiers.retail
			amounts.at_least(global.single_max, object.get(limits, "single_max", global.single_max))
			amounts.at_least(global.rolling_24h_max, object.get(limits, "rolling_24h_max", global.rolling_24h_max))
		}
	}
}

test_default_pack_adds_no_rule if {
	data.jurisdictions.packs[data.jurisdictions.default_jurisdiction].limits == {}
	data.jurisdictions.packs[data.jurisdictions.default_jurisdiction].travel_rule.required == false
	not data.jurisdictions.packs[data.jurisdictions.default_jurisdiction].assets_allowed
}
