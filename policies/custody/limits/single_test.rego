package custody.limits.single_test

import data.custody.limits.single
import data.custody.testing.fixtures_test as fx

retail(amount) := object.union(fx.retail_btc, {"amount": amount, "velocity": {"rolling_24h_total": amount}})

test_c_8_2_2_5_c_single_limit_allows_up_to_the_limit if {
	single.deny == set() with input as retail("50000000")
	single.deny == set() with input as retail("1")
}

test_c_8_2_2_5_c_single_limit_denies_above_the_limit if {
	reasons := single.deny with input as retail("50000001")
	reasons == {{
		"code": "limit_single_exceeded",
		"detail": "amount 50000001 is above the single-withdrawal limit 50000000 (BTC base units, tier retail)",
	}}
}

test_limit_depends_on_customer_tier if {
	single.deny == set() with input as object.union(retail("500000000"), {"account": {"tier": "professional"}})
	fx.codes(single.deny) == {"limit_single_exceeded"} with input as retail("500000000")
}

test_wei_amounts_beyond_2_53_compared_exactly if {
	# institutional ETH single_max is 2000 ETH = 2000000000000000000000 wei
	single.deny == set() with input as fx.institutional_eth("2000000000000000000000")
	fx.codes(single.deny) == {"limit_single_exceeded"} with input as fx.institutional_eth("2000000000000000000001")
}

test_leading_zeros_do_not_hide_an_amount if {
	fx.codes(single.deny) == {"limit_single_exceeded"} with input as retail("000000000050000001")
}

test_unconfigured_limit_left_to_the_catalog if {
	single.deny == set() with input as object.union(retail("1"), {"account": {"tier": "vip"}})
}
