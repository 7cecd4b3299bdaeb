package custody.treasury.transfer_test

import data.custody.decision
import data.custody.testing.fixtures_test as fx
import data.custody.treasury.transfer

# A sweep of 20 ETH from our hot wallet to our cold wallet.
sweep := {
	"kind": "treasury_transfer",
	"transfer_id": "treasury:0001",
	"direction": "sweep",
	"requested_by": "policy-treasury",
	"now": fx.now,
	"asset": "ETH",
	"amount": "20000000000000000000",
	"source_wallet": {"id": "eth-hot-01", "tier": "hot"},
	"destination": {"address": "0x00000000000000000000000000000000000a3301", "wallet_id": "eth-cold-01"},
	"approvals": [],
}

# A replenishment of 10 ETH from our warm wallet to our hot wallet, requested by op-dave.
replenish := fx.replace(sweep, {
	"transfer_id": "treasury:0002",
	"direction": "replenish",
	"requested_by": "op-dave",
	"amount": "10000000000000000000",
	"source_wallet": {"id": "eth-warm-01", "tier": "warm"},
	"destination": {"address": "0x00000000000000000000000000000000000a1101", "wallet_id": "eth-hot-01"},
})

from_cold := fx.replace(replenish, {"source_wallet": {"id": "eth-cold-01", "tier": "cold"}})

test_c_9_3_7_1_a_sweep_to_own_cold_wallet_allowed_without_approval if {
	d := decision.decision with input as sweep
	d == {"outcome": "allow", "reasons": [], "approvals": {"quorum": 0, "roles": [], "expires_in_seconds": 0}}
	decision.allow with input as sweep
}

test_c_9_3_7_1_a_sweep_to_own_warm_wallet_allowed if {
	d := decision.decision with input as fx.replace(sweep, {"destination": {"address": "0x00000000000000000000000000000000000a2201", "wallet_id": "eth-warm-01"}})
	d.outcome == "allow"
}

test_c_9_3_7_1_a_sweep_to_foreign_address_denied if {
	d := decision.decision with input as fx.replace(sweep, {"destination": {"address": "0x2222222222222222222222222222222222222222", "wallet_id": "eth-cold-01"}})
	d.outcome == "deny"
	fx.codes(d.reasons) == {"treasury_destination_not_own"}
}

test_c_9_3_7_1_a_sweep_from_a_non_hot_wallet_denied if {
	d := decision.decision with input as fx.replace(sweep, {"source_wallet": {"id": "eth-warm-01", "tier": "warm"}})
	fx.codes(d.reasons) == {"treasury_direction_invalid"}
	d2 := decision.decision with input as fx.replace(sweep, {"source_wallet": {"id": "eth-hot-99", "tier": "hot"}})
	fx.codes(d2.reasons) == {"treasury_source_not_own"}
}

test_c_9_3_7_1_a_sweep_to_hot_is_not_a_sweep if {
	d := decision.decision with input as fx.replace(sweep, {"destination": {"address": "0x00000000000000000000000000000000000a1101", "wallet_id": "eth-hot-01"}})
	fx.codes(d.reasons) == {"treasury_direction_invalid"}
}

test_c_9_3_7_1_b_replenish_from_warm_needs_dual_quorum if {
	d := decision.decision with input as replenish
	d.outcome == "require_approval"
	d.approvals == {"quorum": 2, "roles": ["compliance", "treasury"], "expires_in_seconds": 14400}
	fx.codes(d.reasons) == {"treasury_transfer_requires_approval"}
	not decision.allow with input as replenish
}

test_c_9_3_7_1_b_replenish_from_cold_needs_triple_quorum if {
	d := decision.decision with input as from_cold
	d.approvals.quorum == 3
	"cold_storage_officer" in d.approvals.roles
}

test_c_9_3_7_1_b_replenish_allowed_with_quorum if {
	approved := fx.replace(replenish, {"approvals": [fx.vote("op-alice", "compliance"), fx.vote("op-bob", "treasury")]})
	d := decision.decision with input as approved
	d.outcome == "allow"
	d.reasons == [{"code": "quorum_met", "detail": "approved by op-alice, op-bob"}]
}

test_c_9_3_7_1_b_requester_vote_not_counted if {
	own := fx.replace(replenish, {"approvals": [fx.vote("op-alice", "compliance"), fx.vote("op-dave", "treasury")]})
	d := decision.decision with input as own
	d.outcome == "require_approval"
}

test_stale_or_duplicate_votes_not_counted if {
	stale := {"operator_id": "op-bob", "role": "treasury", "approved_at": "2025-06-01T00:00:00Z"}
	d := decision.decision with input as fx.replace(replenish, {"approvals": [fx.vote("op-alice", "compliance"), stale]})
	d.outcome == "require_approval"
	dup := [fx.vote("op-alice", "compliance"), fx.vote("op-bob", "treasury"), fx.vote("op-bob", "treasury")]
	d2 := decision.decision with input as fx.replace(replenish, {"approvals": dup})
	d2.outcome == "require_approval"
}

test_c_9_3_7_1_a_replenish_to_foreign_address_denied_even_with_quorum if {
	bad := fx.replace(replenish, {
		"destination": {"address": "0x1111111111111111111111111111111111111111", "wallet_id": "eth-hot-01"},
		"approvals": [fx.vote("op-alice", "compliance"), fx.vote("op-bob", "treasury")],
	})
	d := decision.decision with input as bad
	d.outcome == "deny"
	fx.codes(d.reasons) == {"treasury_destination_not_own"}
}

test_replenish_into_cold_is_not_allowed if {
	d := decision.decision with input as fx.replace(replenish, {"destination": {"address": "0x00000000000000000000000000000000000a3301", "wallet_id": "eth-cold-01"}})
	fx.codes(d.reasons) == {"treasury_direction_invalid"}
}

test_malformed_transfer_denied if {
	d := decision.decision with input as fx.replace(sweep, {"amount": "-5", "direction": "steal", "approvals": "x"})
	d.outcome == "deny"
	d.reasons == [{"code": "treasury_input_invalid", "detail": "malformed treasury transfer: amount, approvals, direction"}]
	d2 := decision.decision with input as object.remove(sweep, ["source_wallet", "destination", "now", "transfer_id", "requested_by", "asset"])
	d2.reasons == [{"code": "treasury_input_invalid", "detail": "malformed treasury transfer: asset, destination, now, requested_by, source_wallet, transfer_id"}]
}

test_missing_approval_settings_fail_closed if {
	d := decision.decision with input as sweep with data.treasury.sweep_approval_tier as "gold"
	fx.codes(d.reasons) == {"treasury_approval_tier_invalid"}
	d2 := decision.decision with input as replenish with data.tiers.wallet.warm as {}
	fx.codes(d2.reasons) == {"treasury_approval_tier_invalid"}
}

test_sweep_can_be_made_to_need_approval if {
	d := decision.decision with input as sweep with data.treasury.sweep_approval_tier as "single"
	d.outcome == "require_approval"
	d.approvals.roles == ["treasury"]
}

test_unknown_asset_denied if {
	d := decision.decision with input as fx.replace(sweep, {"asset": "DOGE"})
	fx.codes(d.reasons) == {"treasury_source_not_own", "treasury_destination_not_own"}
}

test_destination_tier_named_by_id_and_address if {
	transfer.destination_tier == "cold" with input as sweep
	not transfer.destination_tier with input as fx.replace(sweep, {"destination": {"address": "0x00000000000000000000000000000000000a3301", "wallet_id": "eth-warm-01"}})
}
