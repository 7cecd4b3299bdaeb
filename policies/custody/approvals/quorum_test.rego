package custody.approvals.quorum_test

import data.custody.approvals.quorum
import data.custody.testing.fixtures_test as fx

# 1.5 BTC from the hot wallet: the dual tier (compliance + treasury), requested by an operator.
dual := object.union(fx.institutional_btc("150000000", "hot"), {"requested_by": "op-dave"})

# 15 BTC from a cold wallet: the triple tier (cold-storage officer + compliance + treasury).
triple := fx.institutional_btc("1500000000", "cold")

with_votes(base, votes) := fx.replace(base, {"approvals": votes})

alice := fx.vote("op-alice", "compliance")

bob := fx.vote("op-bob", "treasury")

carol := fx.vote("op-carol", "cold_storage_officer")

dave := fx.vote("op-dave", "treasury")

erin := fx.vote("op-erin", "compliance")

test_no_requirement_for_a_small_hot_withdrawal if {
	quorum.requirement == {"quorum": 0, "roles": [], "expires_in_seconds": 0} with input as fx.retail_btc
	not quorum.needed with input as fx.retail_btc
	not quorum.quorum_met with input as fx.retail_btc
}

test_c_9_3_6_2_c_dual_tier_requirement if {
	quorum.requirement == {"quorum": 2, "roles": ["compliance", "treasury"], "expires_in_seconds": 14400} with input as dual
}

test_c_9_3_6_2_c_triple_tier_includes_cold_storage_officer if {
	quorum.requirement == {"quorum": 3, "roles": ["cold_storage_officer", "compliance", "treasury"], "expires_in_seconds": 86400} with input as triple
}

test_requirements_combine_roles_and_take_the_shortest_expiry if {
	# 0.2 BTC (single: treasury) with a REVIEW verdict (review: compliance)
	input_ := object.union(fx.institutional_btc("20000000", "hot"), {"risk": {"verdict": "REVIEW"}})
	quorum.requirement == {"quorum": 2, "roles": ["compliance", "treasury"], "expires_in_seconds": 14400} with input as input_

	# a cold wallet (triple, 24 h) with a REVIEW verdict (4 h)
	cold := object.union(fx.institutional_btc("1", "cold"), {"risk": {"verdict": "REVIEW"}})
	quorum.requirement == {"quorum": 3, "roles": ["cold_storage_officer", "compliance", "treasury"], "expires_in_seconds": 14400} with input as cold
}

test_c_9_3_6_2_c_quorum_met_with_m_distinct_approvers if {
	quorum.quorum_met with input as with_votes(dual, [alice, bob])
	quorum.approvers == {"op-alice", "op-bob"} with input as with_votes(dual, [alice, bob])
	quorum.quorum_met with input as with_votes(triple, [carol, alice, bob])
}

test_c_9_3_6_2_c_m_minus_1_approvals_pending if {
	not quorum.quorum_met with input as with_votes(dual, [alice])
	not quorum.quorum_met with input as with_votes(triple, [alice, bob])
	not quorum.quorum_met with input as with_votes(dual, [])
}

test_c_9_3_6_2_c_requester_approval_not_counted if {
	# op-dave requested the dual withdrawal; his treasury vote does not count
	not quorum.quorum_met with input as with_votes(dual, [alice, dave])
	quorum.approvers == {"op-alice"} with input as with_votes(dual, [alice, dave])
}

test_c_9_3_6_2_c_every_required_role_must_be_represented if {
	# two compliance officers are two approvers but no treasury
	not quorum.quorum_met with input as with_votes(dual, [alice, erin])

	# three approvers without the cold-storage officer
	not quorum.quorum_met with input as with_votes(triple, [alice, erin, bob])
}

test_c_9_3_3_a_vote_in_a_role_not_held_not_counted if {
	# op-alice is compliance only; op-frank is a deployer; op-grace an auditor
	not quorum.quorum_met with input as with_votes(dual, [alice, fx.vote("op-alice", "treasury")])
	not quorum.quorum_met with input as with_votes(dual, [alice, fx.vote("op-frank", "treasury")])
	not quorum.quorum_met with input as with_votes(dual, [alice, fx.vote("op-frank", "deployer")])
	quorum.counted == set() with input as with_votes(dual, [fx.vote("op-grace", "auditor")])
}

test_duplicate_votes_by_one_operator_not_counted if {
	not quorum.quorum_met with input as with_votes(dual, [alice, bob, bob])
	quorum.approvers == {"op-alice"} with input as with_votes(dual, [alice, bob, bob])
}

test_unknown_operator_not_counted if {
	not quorum.quorum_met with input as with_votes(dual, [alice, fx.vote("op-mallory", "treasury")])
}

test_expired_or_future_votes_not_counted if {
	stale := object.union(bob, {"approved_at": "2025-06-02T05:59:59Z"})
	not quorum.quorum_met with input as with_votes(dual, [alice, stale])
	oldest := object.union(bob, {"approved_at": "2025-06-02T06:00:00Z"})
	quorum.quorum_met with input as with_votes(dual, [alice, oldest])
	future := object.union(bob, {"approved_at": "2025-06-02T10:00:01Z"})
	not quorum.quorum_met with input as with_votes(dual, [alice, future])
}

test_missing_approval_tier_is_policy_data_invalid if {
	reasons := quorum.deny with input as dual with data.approvals.tiers.dual as null
	reasons == {{"code": "policy_data_invalid", "detail": "approval tier missing or malformed in policy data: dual"}}
}

test_tier_with_fewer_approvers_than_roles_is_policy_data_invalid if {
	reasons := quorum.deny with input as dual
		with data.approvals.tiers.dual as {"rank": 2, "quorum": 1, "roles": ["compliance", "treasury"], "expires_in_seconds": 60}
	fx.codes(reasons) == {"policy_data_invalid"}
}

test_well_configured_tiers_are_not_invalid if {
	quorum.deny == set() with input as triple
}

test_request_without_approvals_field_is_pending if {
	not quorum.quorum_met with input as object.remove(dual, ["approvals"])
	quorum.needed with input as object.remove(dual, ["approvals"])
}
