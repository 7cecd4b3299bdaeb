# The jurisdiction packs through the entrypoint (custody/decision/decision).
package custody.jurisdiction.decision_test

import data.custody.decision
import data.custody.testing.fixtures_test as fx

complete := {
	"originator_name": "Hanako Yamada",
	"originator_account": "acct-retail-1",
	"beneficiary_name": "Taro Suzuki",
	"beneficiary_account": "bc1qretail1paymentsxxxxxxxxxxxxxxxxxxxxx",
	"beneficiary_vasp": "Example Exchange K.K.",
}

in_jurisdiction(code) := object.union(fx.retail_btc, {"account": {"jurisdiction": code}})

test_c_9_3_2_b_unknown_jurisdiction_denies_the_withdrawal if {
	d := decision.decision with input as in_jurisdiction("XX")
	d.outcome == "deny"
	fx.codes(d.reasons) == {"jurisdiction_unknown"}
	d.approvals == {"quorum": 0, "roles": [], "expires_in_seconds": 0}
}

test_c_8_3_4_d_jp_withdrawal_without_travel_rule_data_is_not_released if {
	d := decision.decision with input as in_jurisdiction("JP")
	d.outcome == "deny"
	fx.codes(d.reasons) == {"travel_rule_info_missing"}
}

test_c_8_3_4_d_jp_withdrawal_with_travel_rule_data_is_allowed if {
	d := decision.decision with input as object.union(in_jurisdiction("JP"), {"travel_rule": complete})
	d.outcome == "allow"
}

test_c_8_2_2_5_c_jp_limit_and_global_limit_both_reported if {
	over := fx.replace(in_jurisdiction("JP"), {
		"amount": "60000000",
		"velocity": {"rolling_24h_total": "60000000"},
		"ledger_hold": {"id": "hold-0001", "amount": "60000000"},
		"travel_rule": complete,
	})
	d := decision.decision with input as over
	d.outcome == "deny"
	fx.codes(d.reasons) == {"limit_single_exceeded", "jurisdiction_limit_single_exceeded", "jurisdiction_limit_rolling_24h_exceeded"}
}

test_c_8_2_2_5_c_ledger_unavailable_denies_the_withdrawal if {
	d := decision.decision with input as fx.replace(fx.retail_btc, {"velocity": {"rolling_24h_total": "3000000", "ledger_unavailable": true}})
	d.outcome == "deny"
	fx.codes(d.reasons) == {"velocity_ledger_unavailable"}
}

test_default_jurisdiction_changes_nothing if {
	declared := decision.decision with input as in_jurisdiction("default")
	implicit := decision.decision with input as fx.retail_btc
	declared == implicit
	declared.outcome == "allow"
}
