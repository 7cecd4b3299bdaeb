package custody.request.validation_test

import data.custody.request.validation
import data.custody.testing.fixtures_test as fx

test_well_formed_request_has_no_errors if {
	validation.errors == set() with input as fx.retail_btc
	not validation.kind_unsupported with input as fx.retail_btc
}

test_non_object_input_is_one_error if {
	validation.errors == {"input: must be a JSON object"} with input as "withdrawal"
	validation.errors == {"input: must be a JSON object"} with input as null
	validation.errors == {"input: must be a JSON object"} with input as [fx.retail_btc]
}

test_missing_input_is_an_error if {
	validation.errors == {"input: must be a JSON object"}
}

test_c_9_3_2_b_unknown_kind_is_unsupported if {
	validation.kind_unsupported with input as object.union(fx.retail_btc, {"kind": "key_export"})
}

test_kind_must_be_a_string if {
	"kind: must be a string" in validation.errors with input as object.remove(fx.retail_btc, ["kind"])
	not validation.kind_unsupported with input as object.union(fx.retail_btc, {"kind": 7})
}

test_amount_as_number_is_refused if {
	errs := validation.errors with input as object.union(fx.retail_btc, {"amount": 1000000})
	errs == {
		"amount: must be a positive base-unit integer as a decimal string",
		"velocity.rolling_24h_total: must be a base-unit amount that includes this request's amount",
	}
}

test_amount_zero_or_decimal_is_refused if {
	some bad in ["0", "1.5", "-1", "", "1e6"]
	errs := validation.errors with input as object.union(fx.retail_btc, {"amount": bad, "velocity": {"rolling_24h_total": "3000000"}})
	"amount: must be a positive base-unit integer as a decimal string" in errs
}

test_each_bad_field_is_reported if {
	errs := validation.errors with input as object.union(fx.retail_btc, {
		"withdrawal_id": "",
		"requested_by": "has space",
		"now": "2025-06-02 10:00:00",
		"asset": "B T C",
		"source_wallet": {"id": 1, "tier": "lukewarm"},
		"destination": {"address": null, "tag": ""},
		"account": {"id": "a", "tier": 3, "opened_at": "yesterday"},
		"risk": {"verdict": "MAYBE", "score": 101, "sanctions_hit": "no", "assessed_at": 0},
		"ledger_hold": "hold-0001",
		"approvals": [{"operator_id": "op-alice", "role": "compliance"}],
	})
	errs == {
		"withdrawal_id: must be an identifier (1-128 printable characters)",
		"requested_by: must be an identifier (1-128 printable characters)",
		"now: must be a canonical UTC timestamp (YYYY-MM-DDTHH:MM:SSZ)",
		"asset: must be an asset symbol (1-32 of A-Z a-z 0-9 . _ -)",
		"source_wallet.id: must be an identifier (1-128 printable characters)",
		"source_wallet.tier: must be one of cold, hot, warm",
		"destination.address: must be an identifier (1-128 printable characters)",
		"destination.tag: must be an identifier when present",
		"account.tier: must be an identifier (1-128 printable characters)",
		"account.opened_at: must be a canonical UTC timestamp",
		"risk.verdict: must be one of ALLOW, BLOCK, REVIEW",
		"risk.score: must be a number from 0 to 100",
		"risk.sanctions_hit: must be a boolean",
		"risk.assessed_at: must be a canonical UTC timestamp",
		"ledger_hold: must be an object with id and amount when present",
		"approvals[0]: must have operator_id, role and a canonical approved_at",
	}
}

test_rolling_total_must_include_the_request if {
	errs := validation.errors with input as object.union(fx.retail_btc, {"velocity": {"rolling_24h_total": "999999"}})
	errs == {"velocity.rolling_24h_total: must be a base-unit amount that includes this request's amount"}
}

test_approvals_must_be_an_array if {
	errs := validation.errors with input as object.union(fx.retail_btc, {"approvals": {"op-alice": "compliance"}})
	errs == {"approvals: must be an array when present"}
}

test_optional_fields_may_be_absent if {
	validation.errors == set() with input as object.remove(fx.retail_btc, ["ledger_hold", "approvals"])
}

test_destination_tag_accepted_when_valid if {
	validation.errors == set() with input as object.union(fx.retail_btc, {"destination": {"tag": "memo-7"}})
}

test_every_required_field_is_required if {
	missing := {field |
		some field in ["kind", "withdrawal_id", "requested_by", "now", "asset", "amount", "source_wallet", "destination", "account", "velocity", "risk"]
		count(validation.errors) == 0 with input as object.remove(fx.retail_btc, [field])
	}
	missing == set()
}

test_missing_nested_fields_are_reported if {
	errs := validation.errors with input as fx.replace(fx.retail_btc, {"risk": {}, "account": {}, "source_wallet": {}, "destination": {}, "velocity": {}})
	errs == {
		"risk.verdict: must be one of ALLOW, BLOCK, REVIEW",
		"risk.score: must be a number from 0 to 100",
		"risk.sanctions_hit: must be a boolean",
		"risk.assessed_at: must be a canonical UTC timestamp",
		"account.id: must be an identifier (1-128 printable characters)",
		"account.tier: must be an identifier (1-128 printable characters)",
		"account.opened_at: must be a canonical UTC timestamp",
		"source_wallet.id: must be an identifier (1-128 printable characters)",
		"source_wallet.tier: must be one of cold, hot, warm",
		"destination.address: must be an identifier (1-128 printable characters)",
		"velocity.rolling_24h_total: must be a base-unit amount that includes this request's amount",
	}
}

mw := {
	"id": "mnt-1", "start": "2025-08-01T00:00:00Z", "end": "2025-08-01T06:00:00Z",
	"assets": ["BTC"], "chains": [], "withdrawals_suspended": true, "cancelled": false,
}

test_maintenance_windows_and_chain_accepted_when_well_formed if {
	validation.errors == set() with input as object.union(fx.retail_btc, {"chain": "bitcoin-mainnet", "maintenance_windows": [mw]})
	validation.errors == set() with input as object.union(fx.retail_btc, {"maintenance_windows": []})
}

test_maintenance_windows_must_be_well_formed if {
	errs := validation.errors with input as object.union(fx.retail_btc, {"maintenance_windows": {"mnt-1": mw}})
	errs == {"maintenance_windows: must be an array when present"}
	errs2 := validation.errors with input as object.union(fx.retail_btc, {"chain": "", "maintenance_windows": [mw, object.remove(mw, ["cancelled"])]})
	errs2 == {
		"chain: must be an identifier when present",
		"maintenance_windows[1]: must have id, canonical start and end, assets and chains arrays, boolean withdrawals_suspended and cancelled",
	}
}
