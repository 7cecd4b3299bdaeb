package custody.decision_test

import data.custody.decision
import data.custody.testing.fixtures_test as fx

no_approvals := {"quorum": 0, "roles": [], "expires_in_seconds": 0}

dual_approvals := {"quorum": 2, "roles": ["compliance", "treasury"], "expires_in_seconds": 14400}

codes_in_order(d) := [r.code | some r in d.reasons]

test_small_withdrawal_allowed if {
	d := decision.decision with input as fx.retail_btc
	d == {"outcome": "allow", "reasons": [], "approvals": no_approvals}
	decision.allow with input as fx.retail_btc
}

test_c_9_3_2_b_missing_input_denied if {
	decision.decision == {
		"outcome": "deny",
		"reasons": [{"code": "input_invalid", "detail": "input: must be a JSON object"}],
		"approvals": no_approvals,
	}
	not decision.allow
}

test_c_9_3_2_b_malformed_input_denied_with_every_problem if {
	d := decision.decision with input as object.union(fx.retail_btc, {"amount": 1000000, "now": "now"})
	d == {
		"outcome": "deny",
		"reasons": [{"code": "input_invalid", "detail": concat("; ", [
			"amount: must be a positive base-unit integer as a decimal string",
			"now: must be a canonical UTC timestamp (YYYY-MM-DDTHH:MM:SSZ)",
			"velocity.rolling_24h_total: must be a base-unit amount that includes this request's amount",
		])}],
		"approvals": no_approvals,
	}
}

test_c_9_3_2_b_unknown_kind_denied_with_no_rule if {
	d := decision.decision with input as {"kind": "key_export"}
	d == {
		"outcome": "deny",
		"reasons": [{"code": "no_rule", "detail": "no rule decides requests of kind key_export"}],
		"approvals": no_approvals,
	}
}

test_c_9_3_2_b_unknown_asset_denied if {
	d := decision.decision with input as object.union(fx.retail_btc, {"asset": "DOGE"})
	d.outcome == "deny"
	codes_in_order(d) == ["asset_unknown", "destination_not_whitelisted"]
}

test_c_9_3_2_b_unknown_tier_denied if {
	d := decision.decision with input as object.union(fx.retail_btc, {"account": {"tier": "vip"}})
	d.outcome == "deny"
	codes_in_order(d) == ["tier_unknown"]
}

test_deny_takes_precedence_and_lists_every_deny_sorted if {
	# new account (hold), over the single limit, sanctioned, REVIEW verdict
	d := decision.decision with input as object.union(fx.retail_btc, {
		"amount": "60000000",
		"account": {"opened_at": "2025-06-01T00:00:00Z"},
		"velocity": {"rolling_24h_total": "60000000"},
		"risk": {"verdict": "REVIEW", "sanctions_hit": true},
		"ledger_hold": {"amount": "60000000"},
	})
	d.outcome == "deny"
	codes_in_order(d) == ["limit_single_exceeded", "risk_sanctioned"]
	d.approvals == no_approvals
	not d.hold_until
}

test_hold_takes_precedence_over_require_approval if {
	d := decision.decision with input as object.union(fx.retail_btc, {
		"account": {"opened_at": "2025-06-01T00:00:00Z"},
		"risk": {"verdict": "REVIEW"},
	})
	d == {
		"outcome": "hold",
		"reasons": [{
			"code": "new_account_hold",
			"detail": "account acct-retail-1 opened at 2025-06-01T00:00:00Z is in its new-account hold until 2025-06-08T00:00:00Z",
		}],
		"approvals": {"quorum": 1, "roles": ["compliance"], "expires_in_seconds": 14400},
		"hold_until": "2025-06-08T00:00:00Z",
	}
}

test_c_9_3_6_2_c_require_approval_until_quorum_met if {
	dual := object.union(fx.institutional_btc("150000000", "hot"), {"approvals": [fx.vote("op-alice", "compliance")]})
	d := decision.decision with input as dual
	d == {
		"outcome": "require_approval",
		"reasons": [{
			"code": "amount_requires_approval",
			"detail": "amount 150000000 reaches the BTC threshold 100000000 of the dual approval tier",
		}],
		"approvals": dual_approvals,
	}
	not decision.allow with input as dual
}

test_c_9_3_6_2_c_allow_once_quorum_met if {
	dual := fx.replace(fx.institutional_btc("150000000", "hot"), {"approvals": [fx.vote("op-alice", "compliance"), fx.vote("op-bob", "treasury")]})
	d := decision.decision with input as dual
	d == {
		"outcome": "allow",
		"reasons": [{"code": "quorum_met", "detail": "approved by op-alice, op-bob"}],
		"approvals": dual_approvals,
	}
	decision.allow with input as dual
}

test_c_9_3_7_1_a_above_hot_cap_requires_approval if {
	d := decision.decision with input as fx.institutional_btc("250000000", "hot")
	d.outcome == "require_approval"
	codes_in_order(d) == ["amount_requires_approval", "hot_wallet_cap_exceeded"]
	d.approvals == dual_approvals
}

test_c_9_3_7_4_b_cold_withdrawal_needs_its_own_triple_quorum if {
	cold := fx.institutional_btc("1", "cold")
	d := decision.decision with input as cold
	d.outcome == "require_approval"
	d.approvals == {"quorum": 3, "roles": ["cold_storage_officer", "compliance", "treasury"], "expires_in_seconds": 86400}
	approved := fx.replace(cold, {"approvals": [
		fx.vote("op-carol", "cold_storage_officer"),
		fx.vote("op-alice", "compliance"),
		fx.vote("op-bob", "treasury"),
	]})
	decision.allow with input as approved
}

test_default_decision_is_deny if {
	d := decision.decision with input as fx.retail_btc with data.custody.approvals.quorum.required_quorum as -1
	d == {
		"outcome": "deny",
		"reasons": [{"code": "no_rule", "detail": "no rule produced a decision"}],
		"approvals": no_approvals,
	}
}

test_announced_maintenance_window_denies_the_decision if {
	window := {
		"id": "mnt-btc", "start": "2025-06-02T09:00:00Z", "end": "2025-06-02T11:00:00Z",
		"assets": ["BTC"], "chains": [], "withdrawals_suspended": true, "cancelled": false,
	}
	d := decision.decision with input as object.union(fx.retail_btc, {"chain": "bitcoin-mainnet", "maintenance_windows": [window]})
	d.outcome == "deny"
	fx.codes(d.reasons) == {"maintenance_freeze_announced"}
	c := decision.decision with input as object.union(fx.retail_btc, {"chain": "bitcoin-mainnet", "maintenance_windows": [object.union(window, {"cancelled": true})]})
	c.outcome == "allow"
}
