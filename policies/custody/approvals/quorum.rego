# METADATA
# title: Approval quorum
# description: |
#   Combines the approval requirements of all rules into one: the union of their roles,
#   a quorum of at least the largest quorum and at least one approver per role, and the
#   shortest expiry. Then counts the approvals collected so far (input.approvals, whose
#   signatures the service has verified): a vote counts when its operator is not the
#   requester, voted once, holds the role the vote is cast in (roles.json assignments),
#   that role is an approver role, and the vote is not older than the expiry.
#   The quorum is met when enough distinct approvers voted and every required role is
#   represented.
package custody.approvals.quorum

import data.custody.approvals.amount_tiers
import data.custody.lib.timestamps
import data.custody.risk.score
import data.custody.risk.verdict
import data.custody.wallets.hot_cap
import data.custody.wallets.tier_approval

# requirements is the set of {code, detail, tier} that rules raised.
requirements := (((amount_tiers.require | score.require) | verdict.require) | hot_cap.require) | tier_approval.require

# METADATA
# title: Policy data invalid
# description: A rule names an approval tier that approvals.json does not define well.
# custom:
#   code: policy_data_invalid
#   controls: [C-9.3.2-b]
deny contains reason if {
	count(_bad_tiers) > 0
	reason := {
		"code": rego.metadata.rule().custom.code,
		"detail": concat("", ["approval tier missing or malformed in policy data: ", concat(", ", sort(_bad_tiers))]),
	}
}

_bad_tiers contains requirement.tier if {
	some requirement in requirements
	not _valid_tier(requirement.tier)
}

_valid_tier(name) if {
	tier := data.approvals.tiers[name]
	is_number(tier.quorum)
	tier.quorum >= 0
	is_array(tier.roles)
	every role in tier.roles {
		is_string(role)
	}
	tier.quorum >= count(tier.roles)
	is_number(tier.expires_in_seconds)
	tier.expires_in_seconds >= 0
}

_tiers contains data.approvals.tiers[requirement.tier] if {
	some requirement in requirements
	_valid_tier(requirement.tier)
}

_active_tiers contains tier if {
	some tier in _tiers
	tier.quorum > 0
}

required_roles := sort({role | some tier in _tiers; some role in tier.roles})

required_quorum := max({count(required_roles)} | {tier.quorum | some tier in _tiers})

expires_in_seconds := min({tier.expires_in_seconds | some tier in _active_tiers}) if {
	count(_active_tiers) > 0
} else := 0

# requirement is the combined approval requirement, as the decision reports it.
requirement := {
	"quorum": required_quorum,
	"roles": required_roles,
	"expires_in_seconds": expires_in_seconds,
}

needed if required_quorum > 0

_votes := input.approvals if is_array(input.approvals)

else := []

_vote_count(operator) := count([vote | some vote in _votes; vote.operator_id == operator])

# counted is the set of votes that count towards the quorum.
counted contains vote if {
	some vote in _votes
	vote.operator_id != input.requested_by
	_vote_count(vote.operator_id) == 1
	vote.role in data.roles.approver_roles
	vote.role in data.roles.assignments[vote.operator_id]
	_fresh(vote)
}

_fresh(vote) if {
	approved := timestamps.epoch_seconds(vote.approved_at)
	now := timestamps.epoch_seconds(input.now)
	approved <= now
	now - approved <= expires_in_seconds
}

approvers := {vote.operator_id | some vote in counted}

covered_roles := {vote.role | some vote in counted}

quorum_met if {
	needed
	count(approvers) >= required_quorum
	every role in required_roles {
		role in covered_roles
	}
}
