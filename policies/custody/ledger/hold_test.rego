package custody.ledger.hold_test

import data.custody.ledger.hold
import data.custody.testing.fixtures_test as fx

test_c_8_2_2_5_b_matching_hold_passes if {
	hold.deny == set() with input as fx.retail_btc
	hold.deny == set() with input as object.union(fx.retail_btc, {"ledger_hold": {"amount": "1000001"}})
}

test_c_8_2_2_5_b_missing_hold_denied if {
	reasons := hold.deny with input as object.remove(fx.retail_btc, ["ledger_hold"])
	reasons == {{"code": "ledger_hold_missing", "detail": "no ledger hold reserves the funds of this withdrawal"}}
}

test_c_8_2_2_5_b_insufficient_hold_denied if {
	reasons := hold.deny with input as object.union(fx.retail_btc, {"ledger_hold": {"amount": "999999"}})
	reasons == {{"code": "ledger_hold_insufficient", "detail": "ledger hold hold-0001 of 999999 does not cover the amount 1000000"}}
}
