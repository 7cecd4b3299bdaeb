# METADATA
# title: Treasury transfers between the custodian's own wallets
# description: |
#   Hot-wallet rebalancing (C-9.3.7.1-a, C-9.3.7.1-b). The policy service proposes a
#   transfer of kind treasury_transfer: a sweep moves the excess of the hot wallet to one
#   of our own warm or cold wallets, a replenishment moves funds from warm or cold back to
#   our own hot wallet. Only wallets listed in treasury.json for the asset are "ours"; both
#   ends must be listed with the id and address the request names.
#     sweep     hot -> warm/cold   approval tier treasury.sweep_approval_tier (none: automatic)
#     replenish warm/cold -> hot   approval tier of the source tier (tiers.json: warm dual,
#                                  cold triple), counted like a withdrawal's quorum
#   Anything else is denied. decision is the decision object for such a request
#   (decision.rego returns it for input.kind == "treasury_transfer").
package custody.treasury.transfer

import data.custody.lib.amounts
import data.custody.lib.timestamps

_no_approvals := {"quorum": 0, "roles": [], "expires_in_seconds": 0}

_tiers := {"hot", "warm", "cold"}

_directions := {"sweep", "replenish"}

# --- input shape -------------------------------------------------------------------------

_identifier(x) if {
	is_string(x)
	count(x) > 0
	count(x) <= 256
}

# problems lists the checks that do not hold (negating a named rule is true when a field
# is missing, `not f(input.missing)` would be undefined).
problems contains check if {
	some check in {"transfer_id", "requested_by", "direction", "asset", "amount", "now", "source_wallet", "destination", "approvals"}
	not check in _passed
}

_passed contains "transfer_id" if _identifier(input.transfer_id)

_passed contains "requested_by" if _identifier(input.requested_by)

_passed contains "direction" if input.direction in _directions

_passed contains "asset" if _identifier(input.asset)

_passed contains "amount" if _positive_amount

_passed contains "now" if _now_ok

_passed contains "source_wallet" if _source_shape

_passed contains "destination" if _destination_shape

_passed contains "approvals" if _approvals_shape

_positive_amount if amounts.is_positive(input.amount)

_now_ok if timestamps.epoch_seconds(input.now)

_source_shape if {
	_identifier(input.source_wallet.id)
	input.source_wallet.tier in _tiers
}

_destination_shape if {
	_identifier(input.destination.address)
	_identifier(input.destination.wallet_id)
}

_approvals_shape if not input.approvals

_approvals_shape if {
	is_array(input.approvals)
	every vote in input.approvals {
		_identifier(vote.operator_id)
		_identifier(vote.role)
		timestamps.epoch_seconds(vote.approved_at)
	}
}

# METADATA
# title: Treasury transfer malformed
# description: A treasury transfer request lacks a field or has one of the wrong shape.
# custom:
#   code: treasury_input_invalid
#   controls: [C-9.3.7.1-a]
deny contains reason if {
	count(problems) > 0
	reason := {
		"code": rego.metadata.rule().custom.code,
		"detail": concat("", ["malformed treasury transfer: ", concat(", ", sort(problems))]),
	}
}

# --- own wallets -------------------------------------------------------------------------

_wallets := data.treasury.assets[input.asset].wallets

# destination_tier is the tier of our own wallet the destination names (id and address).
destination_tier := tier if {
	some tier in _tiers
	some wallet in _wallets[tier]
	wallet.id == input.destination.wallet_id
	wallet.address == input.destination.address
}

_source_own if {
	some wallet in _wallets[input.source_wallet.tier]
	wallet.id == input.source_wallet.id
}

# METADATA
# title: Source is not our own wallet
# description: The source wallet is not one of the treasury's wallets of that tier for the asset.
# custom:
#   code: treasury_source_not_own
#   controls: [C-9.3.7.1-a, C-9.3.7.1-b]
deny contains reason if {
	count(problems) == 0
	not _source_own
	reason := {
		"code": rego.metadata.rule().custom.code,
		"detail": concat("", [
			"source wallet ", input.source_wallet.id, " is not a ", input.source_wallet.tier,
			" wallet of the treasury for ", input.asset,
		]),
	}
}

_destination_own if destination_tier

# METADATA
# title: Destination is not our own wallet
# description: |
#   Treasury transfers go only to the treasury's own whitelisted wallets (treasury.json):
#   the destination's wallet id and address must be one listed pair for the asset.
# custom:
#   code: treasury_destination_not_own
#   controls: [C-9.3.7.1-a, C-9.3.7.1-b]
deny contains reason if {
	count(problems) == 0
	not _destination_own
	reason := {
		"code": rego.metadata.rule().custom.code,
		"detail": concat("", [
			"destination ", input.destination.address, " (", input.destination.wallet_id,
			") is not one of the treasury's own ", input.asset, " wallets",
		]),
	}
}

_direction_ok if {
	input.direction == "sweep"
	input.source_wallet.tier == "hot"
	destination_tier in {"warm", "cold"}
}

_direction_ok if {
	input.direction == "replenish"
	input.source_wallet.tier in {"warm", "cold"}
	destination_tier == "hot"
}

# METADATA
# title: Transfer direction not allowed
# description: A sweep goes hot -> warm/cold, a replenishment warm/cold -> hot; nothing else.
# custom:
#   code: treasury_direction_invalid
#   controls: [C-9.3.7.1-a, C-9.3.7.1-b]
deny contains reason if {
	count(problems) == 0
	_destination_own
	not _direction_ok
	reason := {
		"code": rego.metadata.rule().custom.code,
		"detail": concat("", [
			"a ", input.direction, " cannot go from a ", input.source_wallet.tier,
			" wallet to a ", destination_tier, " wallet",
		]),
	}
}

# --- approvals -------------------------------------------------------------------------

# approval_tier is the approval tier the transfer needs.
approval_tier := data.treasury.sweep_approval_tier if {
	input.direction == "sweep"
	is_string(data.treasury.sweep_approval_tier)
} else := data.tiers.wallet[input.source_wallet.tier].approval_tier if {
	input.direction == "replenish"
	is_string(data.tiers.wallet[input.source_wallet.tier].approval_tier)
} else := "(not configured)"

_tier := data.approvals.tiers[approval_tier]

_valid_tier if {
	is_number(_tier.quorum)
	_tier.quorum >= count(_tier.roles)
	every role in _tier.roles {
		is_string(role)
	}
	is_number(_tier.expires_in_seconds)
}

# METADATA
# title: Transfer approval tier not configured
# description: The approval tier a treasury transfer needs is missing or malformed in the data.
# custom:
#   code: treasury_approval_tier_invalid
#   controls: [C-9.3.7.1-b]
deny contains reason if {
	count(problems) == 0
	not _valid_tier
	reason := {
		"code": rego.metadata.rule().custom.code,
		"detail": concat("", ["approval tier ", approval_tier, " is not defined well in approvals.json"]),
	}
}

requirement := {
	"quorum": _tier.quorum,
	"roles": sort(_tier.roles),
	"expires_in_seconds": _tier.expires_in_seconds,
} if {
	_valid_tier
	_tier.quorum > 0
} else := _no_approvals

# METADATA
# title: Replenishment needs a quorum
# description: |
#   Moving funds into the hot wallet (or a sweep, if sweep_approval_tier is not none)
#   needs the approval tier's quorum of distinct operators other than the requester.
# custom:
#   code: treasury_transfer_requires_approval
#   controls: [C-9.3.7.1-a, C-9.3.7.1-b]
require contains entry if {
	requirement.quorum > 0
	entry := {
		"code": rego.metadata.rule().custom.code,
		"detail": concat("", [
			"a ", input.direction, " from a ", input.source_wallet.tier, " wallet needs the ",
			approval_tier, " approval tier",
		]),
		"tier": approval_tier,
	}
}

_votes := input.approvals if is_array(input.approvals)

else := []

_vote_count(operator) := count([vote | some vote in _votes; vote.operator_id == operator])

counted contains vote if {
	some vote in _votes
	vote.operator_id != input.requested_by
	_vote_count(vote.operator_id) == 1
	vote.role in data.roles.approver_roles
	vote.role in data.roles.assignments[vote.operator_id]
	approved := timestamps.epoch_seconds(vote.approved_at)
	now := timestamps.epoch_seconds(input.now)
	approved <= now
	now - approved <= requirement.expires_in_seconds
}

approvers := {vote.operator_id | some vote in counted}

quorum_met if {
	requirement.quorum > 0
	count(approvers) >= requirement.quorum
	every role in requirement.roles {
		role in {vote.role | some vote in counted}
	}
}

# --- the decision ----------------------------------------------------------------------

decision := {
	"outcome": "deny",
	"reasons": sort(deny),
	"approvals": _no_approvals,
} if {
	count(deny) > 0
} else := {
	"outcome": "allow",
	"reasons": [{"code": "quorum_met", "detail": concat("", ["approved by ", concat(", ", sort(approvers))])}],
	"approvals": requirement,
} if {
	quorum_met
} else := {
	"outcome": "require_approval",
	"reasons": sort({{"code": r.code, "detail": r.detail} | some r in require}),
	"approvals": requirement,
} if {
	count(require) > 0
} else := {
	"outcome": "allow",
	"reasons": [],
	"approvals": _no_approvals,
}
