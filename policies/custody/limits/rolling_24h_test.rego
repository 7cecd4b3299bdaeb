package custody.limits.rolling_24h_test

import data.custody.limits.rolling_24h
import data.custody.testing.fixtures_test as fx

with_total(total) := object.union(fx.retail_btc, {"velocity": {"rolling_24h_total": total}})

test_c_8_2_2_5_c_rolling_limit_allows_up_to_the_limit if {
	rolling_24h.deny == set() with input as with_total("100000000")
}

test_c_8_2_2_5_c_rolling_limit_denies_above_the_limit if {
	reasons := rolling_24h.deny with input as with_total("100000001")
	reasons == {{
		"code": "limit_rolling_24h_exceeded",
		"detail": "24-hour outflow 100000001 including this request is above the limit 100000000 (BTC base units, tier retail)",
	}}
}

test_rolling_limit_depends_on_customer_tier if {
	rolling_24h.deny == set() with input as object.union(with_total("1000000000"), {"account": {"tier": "professional"}})
	fx.codes(rolling_24h.deny) == {"limit_rolling_24h_exceeded"} with input as object.union(with_total("1000000001"), {"account": {"tier": "professional"}})
}

test_rolling_limit_in_wei if {
	rolling_24h.deny == set() with input as object.union(fx.institutional_eth("1"), {"velocity": {"rolling_24h_total": "10000000000000000000000"}})
	fx.codes(rolling_24h.deny) == {"limit_rolling_24h_exceeded"} with input as object.union(fx.institutional_eth("1"), {"velocity": {"rolling_24h_total": "10000000000000000000001"}})
}
