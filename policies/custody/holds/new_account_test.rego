package custody.holds.new_account_test

import data.custody.holds.new_account
import data.custody.testing.fixtures_test as fx

# Retail accounts are held for 7 days (604800 s) after opening.
opened(at) := object.union(fx.retail_btc, {"account": {"opened_at": at}})

test_c_8_2_2_5_c_new_account_held_until_the_hold_ends if {
	holds := new_account.hold with input as opened("2025-05-30T08:00:00Z")
	holds == {{
		"code": "new_account_hold",
		"detail": "account acct-retail-1 opened at 2025-05-30T08:00:00Z is in its new-account hold until 2025-06-06T08:00:00Z",
		"until": "2025-06-06T08:00:00Z",
	}}
}

test_hold_ends_exactly_at_its_end if {
	fx.codes(new_account.hold) == {"new_account_hold"} with input as opened("2025-05-26T10:00:01Z")
	new_account.hold == set() with input as opened("2025-05-26T10:00:00Z")
}

test_old_account_not_held if {
	new_account.hold == set() with input as fx.retail_btc
}

test_hold_length_depends_on_tier if {
	# institutional: no hold; professional: 3 days
	new_account.hold == set() with input as object.union(opened("2025-06-02T09:00:00Z"), {"account": {"tier": "institutional"}})
	holds := new_account.hold with input as object.union(opened("2025-06-01T00:00:00Z"), {"account": {"tier": "professional"}})
	{h.until | some h in holds} == {"2025-06-04T00:00:00Z"}
}
