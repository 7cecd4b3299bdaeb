# METADATA
# title: The custody decision
# description: |
#   The entrypoint (custody/decision/decision) the Wasm bundle is built for. It combines
#   every rule into one decision object:
#     {"outcome": "allow" | "deny" | "require_approval" | "hold",
#      "reasons": [{"code", "detail"}, ...],              sorted, of the deciding kind
#      "approvals": {"quorum", "roles", "expires_in_seconds"},
#      "hold_until": "<RFC 3339>"}                        only when outcome is hold
#   Precedence: deny > hold > require_approval > allow. Malformed input is denied with
#   input_invalid, a request of an unknown kind with no_rule. Allow needs every rule to
#   pass: default deny.
package custody.decision

import data.custody.approvals.quorum
import data.custody.catalog.asset
import data.custody.catalog.tier
import data.custody.destinations.cooling_off
import data.custody.destinations.whitelist
import data.custody.freezes.halt
import data.custody.freezes.maintenance
import data.custody.freezes.time_of_day
import data.custody.holds.new_account
import data.custody.jurisdiction.ledger_velocity
import data.custody.jurisdiction.limits as jurisdiction_limits
import data.custody.jurisdiction.pack as jurisdiction_pack
import data.custody.jurisdiction.travel_rule
import data.custody.ledger.hold
import data.custody.lib.timestamps
import data.custody.limits.rolling_24h
import data.custody.limits.single
import data.custody.request.validation
import data.custody.risk.freshness
import data.custody.risk.sanctions
import data.custody.risk.score
import data.custody.risk.verdict
import data.custody.treasury.hot_pause
import data.custody.treasury.transfer

default allow := false

# allow holds only for a decision that lets the withdrawal be signed now.
allow if decision.outcome == "allow"

# Reason codes the decision itself produces (rules carry theirs in METADATA).
input_invalid := "input_invalid"

no_rule := "no_rule"

quorum_met := "quorum_met"

_no_approvals := {"quorum": 0, "roles": [], "expires_in_seconds": 0}

default decision := {
	"outcome": "deny",
	"reasons": [{"code": "no_rule", "detail": "no rule produced a decision"}],
	"approvals": {"quorum": 0, "roles": [], "expires_in_seconds": 0},
}

# A treasury transfer between our own wallets (sweep / replenishment) is decided by
# treasury/transfer.rego alone.
decision := transfer.decision if {
	input.kind == "treasury_transfer"
} else := _deny([{"code": no_rule, "detail": concat("", ["no rule decides requests of kind ", input.kind])}]) if {
	validation.kind_unsupported
} else := _deny([{"code": input_invalid, "detail": concat("; ", sort(validation.errors))}]) if {
	count(validation.errors) > 0
} else := _deny(sort(deny_reasons)) if {
	count(deny_reasons) > 0
} else := {
	"outcome": "hold",
	"reasons": sort({{"code": entry.code, "detail": entry.detail} | some entry in holds}),
	"approvals": quorum.requirement,
	"hold_until": timestamps.format(max({timestamps.epoch_seconds(entry.until) | some entry in holds})),
} if {
	count(holds) > 0
} else := {
	"outcome": "allow",
	"reasons": [{"code": quorum_met, "detail": concat("", [
		"approved by ", concat(", ", sort(quorum.approvers)),
	])}],
	"approvals": quorum.requirement,
} if {
	quorum.quorum_met
} else := {
	"outcome": "require_approval",
	"reasons": sort({{"code": r.code, "detail": r.detail} | some r in quorum.requirements}),
	"approvals": quorum.requirement,
} if {
	quorum.needed
} else := {
	"outcome": "allow",
	"reasons": [],
	"approvals": _no_approvals,
} if {
	quorum.required_quorum == 0
}

# deny_reasons is every deny of every rule. Approval requirements are combined by
# approvals/quorum.rego, which imports the rules that raise them.
deny_reasons := (((((((((((((((asset.deny | tier.deny) | single.deny) | rolling_24h.deny) | whitelist.deny) | cooling_off.deny) | verdict.deny) | sanctions.deny) | score.deny) | freshness.deny) | hold.deny) | maintenance.deny) | time_of_day.deny) | halt.deny) | quorum.deny) | hot_pause.deny) | jurisdiction_deny

# jurisdiction_deny is every deny of the account's jurisdiction pack and of the
# ledger-confirmed rolling outflow (custody/jurisdiction).
jurisdiction_deny := ((jurisdiction_pack.deny | jurisdiction_limits.deny) | travel_rule.deny) | ledger_velocity.deny

# holds is every hold of every rule ({code, detail, until}).
holds := new_account.hold

_deny(reasons) := {
	"outcome": "deny",
	"reasons": reasons,
	"approvals": _no_approvals,
}
