package custody.jurisdiction.travel_rule_test

import data.custody.jurisdiction.travel_rule
import data.custody.testing.fixtures_test as fx

complete := {
	"originator_name": "Hanako Yamada",
	"originator_account": "acct-retail-1",
	"beneficiary_name": "Taro Suzuki",
	"beneficiary_account": "bc1qretail1paymentsxxxxxxxxxxxxxxxxxxxxx",
	"beneficiary_vasp": "Example Exchange K.K.",
}

# A retail BTC withdrawal of `amount` by an account of jurisdiction `code`, with `data` as travel_rule.
btc(code, amount, info) := fx.replace(fx.retail_btc, {
	"account": object.union(fx.retail_btc.account, {"jurisdiction": code}),
	"amount": amount,
	"velocity": {"rolling_24h_total": amount},
	"ledger_hold": {"id": "hold-0001", "amount": amount},
	"travel_rule": info,
})

without_travel_rule(code, amount) := object.remove(btc(code, amount, {}), ["travel_rule"])

test_c_8_3_4_d_jp_at_the_threshold_requires_complete_data if {
	travel_rule.deny == set() with input as btc("JP", "1000000", complete)
	reasons := travel_rule.deny with input as btc("JP", "1000000", object.remove(complete, ["beneficiary_name", "originator_account"]))
	reasons == {{
		"code": "travel_rule_info_missing",
		"detail": "jurisdiction JP requires travel-rule data for BTC transfers of 1000000 base units or more; missing: beneficiary_name, originator_account",
	}}
}

test_c_8_3_4_d_jp_below_the_threshold_needs_no_data if {
	travel_rule.deny == set() with input as without_travel_rule("JP", "999999")
	fx.codes(travel_rule.deny) == {"travel_rule_info_missing"} with input as without_travel_rule("JP", "1000000")
}

test_c_8_3_4_d_jp_scope_all_includes_unhosted_wallets if {
	unhosted := object.union(complete, {"beneficiary_vasp": "", "beneficiary_name": "  "})
	fx.codes(travel_rule.deny) == {"travel_rule_info_missing"} with input as btc("JP", "2000000", unhosted)
}

test_c_8_3_4_d_eu_from_the_first_unit_to_a_vasp if {
	reasons := travel_rule.deny with input as without_travel_rule("EU", "1")
	reasons == {{
		"code": "travel_rule_info_missing",
		"detail": "jurisdiction EU requires travel-rule data for BTC transfers of 1 base units or more; missing: beneficiary_account, beneficiary_name, originator_account, originator_name",
	}}
	travel_rule.deny == set() with input as btc("EU", "1", complete)
}

test_c_8_3_4_d_eu_scope_vasp_leaves_out_known_unhosted_wallets if {
	travel_rule.deny == set() with input as btc("EU", "5000000", {"beneficiary_vasp": ""})

	# beneficiary_vasp absent: not known to be unhosted, in scope (fail closed)
	fx.codes(travel_rule.deny) == {"travel_rule_info_missing"} with input as btc("EU", "5000000", {"originator_name": "x"})
}

test_c_8_3_4_d_non_string_fields_are_missing if {
	info := object.union(complete, {"originator_name": 7, "beneficiary_account": null})
	travel_rule.missing == {"beneficiary_account", "originator_name"} with input as btc("JP", "1000000", info)
}

test_default_pack_requires_no_travel_rule_data if {
	travel_rule.deny == set() with input as without_travel_rule("default", "40000000")
	travel_rule.deny == set() with input as fx.retail_btc
}

test_threshold_per_asset_then_wildcard_then_first_unit if {
	travel_rule.threshold == "250000000000000000" with input as object.union(fx.institutional_eth("1"), {"account": {"jurisdiction": "JP"}})
	travel_rule.threshold == "1" with input as object.union(without_travel_rule("JP", "5"), {"asset": "XRP"})
	travel_rule.threshold == "1" with input as without_travel_rule("JP", "5") with data.jurisdictions.packs.JP as {"limits": {}, "travel_rule": {"required": true, "scope": "all", "min_amount": {"ETH": "5"}}}
}
