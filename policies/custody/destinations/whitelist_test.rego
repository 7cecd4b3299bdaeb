package custody.destinations.whitelist_test

import data.custody.destinations.whitelist
import data.custody.testing.fixtures_test as fx

to(base, destination) := fx.replace(base, {"destination": destination})

test_c_8_2_2_5_c_whitelisted_destination_passes if {
	whitelist.deny == set() with input as fx.retail_btc
	count(whitelist.matches) == 1 with input as fx.retail_btc
}

test_c_8_2_2_5_c_unknown_destination_denied if {
	reasons := whitelist.deny with input as to(fx.retail_btc, {"address": "bc1qattackerxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"})
	reasons == {{
		"code": "destination_not_whitelisted",
		"detail": "destination bc1qattackerxxxxxxxxxxxxxxxxxxxxxxxxxxxxx is not on the BTC whitelist of account acct-retail-1",
	}}
}

test_whitelist_is_per_account if {
	# acct-inst-1's address is not on acct-retail-1's whitelist
	fx.codes(whitelist.deny) == {"destination_not_whitelisted"} with input as to(fx.retail_btc, {"address": "bc1qinstitutionalvaultxxxxxxxxxxxxxxxxxx"})
}

test_whitelist_is_per_asset if {
	fx.codes(whitelist.deny) == {"destination_not_whitelisted"} with input as object.union(fx.retail_btc, {"asset": "ETH"})
}

test_address_match_is_exact if {
	fx.codes(whitelist.deny) == {"destination_not_whitelisted"} with input as to(fx.retail_btc, {"address": "BC1QRETAIL1PAYMENTSXXXXXXXXXXXXXXXXXXXXX"})
}

test_tag_must_match if {
	eth := fx.institutional_eth("1")
	whitelist.deny == set() with input as to(eth, {"address": "0x3333333333333333333333333333333333333333", "tag": "memo-7"})
	reasons := whitelist.deny with input as to(eth, {"address": "0x3333333333333333333333333333333333333333", "tag": "memo-8"})
	reasons == {{
		"code": "destination_not_whitelisted",
		"detail": "destination 0x3333333333333333333333333333333333333333 (tag memo-8) is not on the ETH whitelist of account acct-inst-1",
	}}
	fx.codes(whitelist.deny) == {"destination_not_whitelisted"} with input as to(eth, {"address": "0x3333333333333333333333333333333333333333"})
	fx.codes(whitelist.deny) == {"destination_not_whitelisted"} with input as to(eth, {"address": "0x2222222222222222222222222222222222222222", "tag": "memo-7"})
}
