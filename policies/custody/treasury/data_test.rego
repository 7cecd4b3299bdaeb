package custody.treasury.data_test

import data.custody.lib.amounts

test_treasury_data_versioned if {
	is_string(data.treasury.version)
	data.treasury.breach_grace_seconds > 0
	data.approvals.tiers[data.treasury.sweep_approval_tier]
}

# C-9.3.7.1-b: every asset with a hot-wallet cap has the three tiers declared, with the
# sweep target and the replenishment floor under the cap.
test_c_9_3_7_1_b_every_asset_has_rebalancing_data if {
	every symbol, limits in data.limits.assets {
		t := data.treasury.assets[symbol]
		amounts.less_than(t.hot_target, limits.hot_wallet_cap)
		amounts.less_than(t.hot_floor, t.hot_target)
		t.sweep_to in {"warm", "cold"}
		every tier in ["hot", "warm", "cold"] {
			count(t.wallets[tier]) > 0
		}
	}
}

test_c_9_3_7_1_b_wallet_ids_and_addresses_unique if {
	every _, t in data.treasury.assets {
		ids := [w.id | some tier, ws in t.wallets; some w in ws]
		addresses := [w.address | some tier, ws in t.wallets; some w in ws]
		count(ids) == count({i | some i in ids})
		count(addresses) == count({a | some a in addresses})
	}
}
