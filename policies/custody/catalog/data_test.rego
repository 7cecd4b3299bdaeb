# Consistency of the shipped policy data (policies/data/*.json): the rules fail closed on
# malformed data, and these tests keep the data from getting there.
package custody.catalog.data_test

import data.custody.lib.amounts
import data.custody.lib.timestamps

documents := ["approvals", "freezes", "limits", "risk", "roles", "tiers", "whitelists"]

customer_tiers := {tier | some tier, _ in data.tiers.customer}

test_every_data_document_is_versioned if {
	every name in documents {
		is_string(data[name].version)
		count(data[name].version) > 0
	}
}

test_c_9_3_7_1_b_wallet_tiers_declared_with_approval_tiers if {
	{tier | some tier, _ in data.tiers.wallet} == {"hot", "warm", "cold"}
	every _, wallet in data.tiers.wallet {
		data.approvals.tiers[wallet.approval_tier]
	}
	data.approvals.tiers[data.tiers.wallet.hot.over_cap_tier].quorum >= 2
	data.approvals.tiers[data.tiers.wallet.warm.approval_tier].quorum >= 2
	"cold_storage_officer" in data.approvals.tiers[data.tiers.wallet.cold.approval_tier].roles
}

test_c_9_3_7_1_a_every_asset_has_a_hot_wallet_cap if {
	every _, asset in data.limits.assets {
		amounts.is_positive(asset.hot_wallet_cap)
	}
}

test_every_asset_has_limits_for_every_customer_tier if {
	every _, asset in data.limits.assets {
		{tier | some tier, _ in asset.tiers} == customer_tiers
		every _, limits in asset.tiers {
			amounts.is_positive(limits.single_max)
			amounts.at_least(limits.rolling_24h_max, limits.single_max)
		}
	}
}

test_every_asset_has_ascending_approval_thresholds if {
	every symbol, _ in data.limits.assets {
		thresholds := data.approvals.amount_thresholds[symbol]
		count(thresholds) > 0
		every i, threshold in thresholds {
			amounts.is_positive(threshold.min_amount)
			data.approvals.tiers[threshold.tier]
			_ascending(thresholds, i)
		}
	}
}

_ascending(_, i) if i == 0

_ascending(thresholds, i) if {
	i > 0
	amounts.greater_than(thresholds[i].min_amount, thresholds[i - 1].min_amount)
	data.approvals.tiers[thresholds[i].tier].rank > data.approvals.tiers[thresholds[i - 1].tier].rank
}

test_c_9_3_6_2_c_approval_tiers_well_formed if {
	every _, tier in data.approvals.tiers {
		tier.quorum >= count(tier.roles)
		every role in tier.roles {
			role in data.roles.approver_roles
		}
		tier.expires_in_seconds >= 0
	}
	data.approvals.tiers.none.quorum == 0
	data.approvals.tiers.single.quorum == 1
	data.approvals.tiers.dual == {"rank": 2, "quorum": 2, "roles": ["compliance", "treasury"], "expires_in_seconds": 14400}
	data.approvals.tiers.triple.quorum == 3
	"cold_storage_officer" in data.approvals.tiers.triple.roles
}

test_no_single_operator_can_block_a_role if {
	every role in data.roles.approver_roles {
		count({operator | some operator, roles in data.roles.assignments; role in roles}) >= 2
	}
}

test_whitelist_entries_well_formed if {
	is_number(data.whitelists.cooling_off_seconds)
	every _, assets in data.whitelists.accounts {
		every _, entries in assets {
			every entry in entries {
				count(entry.address) > 0
				timestamps.valid(entry.added_at)
				object.get(entry, "tag", "x") != ""
			}
		}
	}
}

test_freeze_windows_well_formed if {
	every window in data.freezes.maintenance {
		is_string(window.id)
		timestamps.epoch_seconds(window.start) < timestamps.epoch_seconds(window.end)
		count(window.assets) > 0
	}
	every window in data.freezes.daily {
		is_string(window.id)
		timestamps.is_time_of_day(window.start)
		timestamps.is_time_of_day(window.end)
		window.start != window.end
		count(window.assets) > 0
	}
	is_boolean(data.freezes.halts.all)
	is_array(data.freezes.halts.assets)
}

test_risk_thresholds_ordered if {
	0 <= data.risk.review_score_above
	data.risk.review_score_above < data.risk.deny_score_above
	data.risk.deny_score_above <= 100
	data.risk.max_assessment_age_seconds > 0
}
