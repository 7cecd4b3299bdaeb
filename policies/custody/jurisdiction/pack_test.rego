package custody.jurisdiction.pack_test

import data.custody.jurisdiction.pack
import data.custody.testing.fixtures_test as fx

in_jurisdiction(code) := object.union(fx.retail_btc, {"account": {"jurisdiction": code}})

test_c_9_3_2_b_account_without_jurisdiction_gets_the_default_pack if {
	pack.code == "default" with input as fx.retail_btc
	pack.known with input as fx.retail_btc
	pack.deny == set() with input as fx.retail_btc
}

test_c_9_3_2_b_declared_jurisdiction_selects_its_pack if {
	pack.code == "JP" with input as in_jurisdiction("JP")
	pack.pack.name == data.jurisdictions.packs.JP.name with input as in_jurisdiction("JP")
	pack.deny == set() with input as in_jurisdiction("JP")
	pack.deny == set() with input as in_jurisdiction("EU")
}

test_c_9_3_2_b_unknown_jurisdiction_is_denied if {
	reasons := pack.deny with input as in_jurisdiction("XX")
	reasons == {{"code": "jurisdiction_unknown", "detail": "no jurisdiction pack for XX (account acct-retail-1)"}}
}

test_c_9_3_2_b_non_string_jurisdiction_is_denied if {
	reasons := pack.deny with input as in_jurisdiction(42)
	reasons == {{"code": "jurisdiction_unknown", "detail": "no jurisdiction pack for a jurisdiction that is not a string (account acct-retail-1)"}}
	fx.codes(pack.deny) == {"jurisdiction_unknown"} with input as in_jurisdiction(null)
	fx.codes(pack.deny) == {"jurisdiction_unknown"} with input as in_jurisdiction("")
}

test_c_9_3_2_b_missing_default_pack_is_denied if {
	fx.codes(pack.deny) == {"jurisdiction_unknown"} with input as fx.retail_btc with data.jurisdictions.default_jurisdiction as "nowhere"
	reasons := pack.deny with input as object.remove(fx.retail_btc, ["account"]) with data.jurisdictions.default_jurisdiction as "nowhere"
	reasons == {{"code": "jurisdiction_unknown", "detail": "no jurisdiction pack for nowhere (account unknown)"}}
}

bad_pack(patch) := object.union(data.jurisdictions.packs.JP, patch)

test_c_9_3_2_b_malformed_pack_is_denied if {
	reasons := pack.deny with input as in_jurisdiction("JP") with data.jurisdictions.packs.JP as bad_pack({"limits": {"BTC": {"single_max": "-1"}}})
	reasons == {{
		"code": "jurisdiction_pack_invalid",
		"detail": "jurisdiction pack JP is malformed: limits.BTC: single_max and rolling_24h_max must be positive amounts, nothing else",
	}}
}

test_malformed_pack_every_problem_listed if {
	broken := {"limits": "none", "assets_allowed": "BTC", "travel_rule": {"required": true, "scope": "some", "min_amount": {"BTC": "x"}}}
	problems := pack.problems with input as in_jurisdiction("JP") with data.jurisdictions.packs.JP as broken
	problems == {
		"limits: must be an object of assets",
		"assets_allowed: must be an array of asset symbols when present",
		"travel_rule.scope: must be all or vasp",
		"travel_rule.min_amount: must map assets (or *) to positive amounts",
	}
	fx.codes(pack.deny) == {"jurisdiction_pack_invalid"} with input as in_jurisdiction("JP") with data.jurisdictions.packs.JP as broken
}

test_malformed_pack_unknown_limit_key_and_travel_rule_flag if {
	problems := pack.problems with input as in_jurisdiction("EU") with data.jurisdictions.packs.EU as {"limits": {"BTC": {"daily": "1"}}, "assets_allowed": [1], "travel_rule": {"required": "yes"}}
	problems == {
		"limits.BTC: single_max and rolling_24h_max must be positive amounts, nothing else",
		"assets_allowed: must be an array of asset symbols when present",
		"travel_rule.required: must be a boolean",
	}
}
