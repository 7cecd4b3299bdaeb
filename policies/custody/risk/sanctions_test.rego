package custody.risk.sanctions_test

import data.custody.risk.sanctions
import data.custody.testing.fixtures_test as fx

test_c_8_3_4_b_sanctions_hit_denied if {
	reasons := sanctions.deny with input as object.union(fx.retail_btc, {"risk": {"sanctions_hit": true}})
	reasons == {{"code": "risk_sanctioned", "detail": "screening matched a sanctions list"}}
}

test_c_8_3_4_b_sanctions_hit_denied_even_with_allow_verdict if {
	fx.codes(sanctions.deny) == {"risk_sanctioned"} with input as object.union(fx.retail_btc, {"risk": {"verdict": "ALLOW", "score": 0, "sanctions_hit": true}})
}

test_no_sanctions_hit_passes if {
	sanctions.deny == set() with input as fx.retail_btc
}

test_sanctions_result_other_than_false_denied if {
	fx.codes(sanctions.deny) == {"risk_sanctioned"} with input as object.union(fx.retail_btc, {"risk": {"sanctions_hit": "false"}})
	fx.codes(sanctions.deny) == {"risk_sanctioned"} with input as object.remove(fx.retail_btc, ["risk"])
}
